/**
 * The gateway's configuration: one `Config` read from the environment (see the table in
 * the root README, "Gateway configuration"). Keys are read redacted and never logged.
 *
 * @since 0.1.0
 */
import { Collaboration } from "@colony/agents"
import { Config, ConfigError, Context, Duration, Either, Option, ParseResult, Redacted, Schema } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** interface to listen on */
  readonly host: string
  /** port to listen on; 0 picks a free one */
  readonly port: number
  /** API keys accepted as `Authorization: Bearer <key>`; none means no authentication */
  readonly keys: ReadonlyArray<Redacted.Redacted<string>>
  /** requests per minute per key (per client address without keys); 0 for no limit */
  readonly rateLimit: number
  /** largest request body accepted, in bytes */
  readonly maxBodyBytes: number
  /** origins allowed by CORS (`*` for any); none disables CORS */
  readonly corsOrigins: ReadonlyArray<string>
  /** PEM certificate and key files: both set means HTTPS (and WSS) */
  readonly tlsCert: Option.Option<string>
  readonly tlsKey: Option.Option<string>
  /** OTLP/HTTP endpoint traces are exported to (`/v1/traces` is appended) */
  readonly otlpEndpoint: Option.Option<string>
  readonly serviceName: string
  /** collaboration presets by name, on top of the built-in ones */
  readonly presets: Readonly<Record<string, Collaboration.Collaboration>>
  /** how long an OpenAI-compatible request may take before it fails */
  readonly requestTimeout: Duration.Duration
}

/**
 * @since 0.1.0
 * @category tags
 */
export class GatewayConfig extends Context.Tag("@colony/apps/GatewayConfig")<GatewayConfig, Settings>() {}

const Presets = Schema.parseJson(Schema.Record({ key: Schema.String, value: Collaboration.Collaboration }))

const presetsConfig: Config.Config<Readonly<Record<string, Collaboration.Collaboration>>> = Config.string(
  "COLONY_GATEWAY_PRESETS"
).pipe(
  Config.mapOrFail((text) =>
    Either.mapLeft(
      Schema.decodeUnknownEither(Presets)(text),
      (error) =>
        ConfigError.InvalidData(
          ["COLONY_GATEWAY_PRESETS"],
          `expected a JSON object of name → Collaboration value: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
        )
    )
  ),
  Config.withDefault({})
)

const list = (name: string) =>
  Config.string(name).pipe(
    Config.map((text) => text.split(",").map((s) => s.trim()).filter((s) => s.length > 0)),
    Config.withDefault([] as ReadonlyArray<string>)
  )

/**
 * The gateway's settings from the environment.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Settings> = Config.all({
  host: Config.string("COLONY_GATEWAY_HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.integer("COLONY_GATEWAY_PORT").pipe(Config.withDefault(8420)),
  keys: Config.redacted("COLONY_GATEWAY_KEYS").pipe(
    Config.map((keys) =>
      Redacted.value(keys).split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((key) => Redacted.make(key))
    ),
    Config.withDefault([] as ReadonlyArray<Redacted.Redacted<string>>)
  ),
  rateLimit: Config.integer("COLONY_GATEWAY_RATE_LIMIT").pipe(Config.withDefault(600)),
  maxBodyBytes: Config.integer("COLONY_GATEWAY_MAX_BODY_BYTES").pipe(Config.withDefault(1024 * 1024)),
  corsOrigins: list("COLONY_GATEWAY_CORS_ORIGINS"),
  tlsCert: Config.option(Config.string("COLONY_GATEWAY_TLS_CERT")),
  tlsKey: Config.option(Config.string("COLONY_GATEWAY_TLS_KEY")),
  otlpEndpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT")),
  serviceName: Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("colony-gateway")),
  presets: presetsConfig,
  requestTimeout: Config.duration("COLONY_GATEWAY_REQUEST_TIMEOUT").pipe(Config.withDefault(Duration.minutes(5)))
})
