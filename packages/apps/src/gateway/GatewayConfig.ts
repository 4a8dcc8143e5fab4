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
  /**
   * API keys accepted as `Authorization: Bearer <key>`, each `admin:`, `operator:` or `client:`
   * followed by the key (a bare key is `admin`). None: the gateway makes an admin key for the run
   * and a one-use sign-in link (`loginCode`).
   */
  readonly keys: ReadonlyArray<Redacted.Redacted<string>>
  /** the one-use code of `GET /auth/login?code=`, set when the gateway made its own key */
  readonly loginCode: Option.Option<Redacted.Redacted<string>>
  /** the key customer tokens and tickets are signed with; unset: a random key per process */
  readonly tokenSecret: Option.Option<Redacted.Redacted<string>>
  /**
   * host names the gateway answers to (`Host` header); `*` for any. Unset: the loopback names
   * when it listens on loopback (a web page cannot rebind a name of its own to it), else any.
   */
  readonly allowedHosts: ReadonlyArray<string>
  /** requests per minute per key (per client address without keys); 0 for no limit */
  readonly rateLimit: number
  /** largest request body accepted, in bytes */
  readonly maxBodyBytes: number
  /**
   * origins other than the gateway's own that browsers may call it from (CORS and WebSocket;
   * `*` for any); none: only pages the gateway serves itself
   */
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
  /** how large a collaboration a caller may send (rounds, participants, ...) */
  readonly bounds: Collaboration.Bounds
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
  loginCode: Config.succeed(Option.none<Redacted.Redacted<string>>()),
  tokenSecret: Config.option(Config.redacted("COLONY_GATEWAY_TOKEN_SECRET")),
  allowedHosts: list("COLONY_GATEWAY_ALLOWED_HOSTS"),
  rateLimit: Config.integer("COLONY_GATEWAY_RATE_LIMIT").pipe(Config.withDefault(600)),
  maxBodyBytes: Config.integer("COLONY_GATEWAY_MAX_BODY_BYTES").pipe(Config.withDefault(1024 * 1024)),
  corsOrigins: list("COLONY_GATEWAY_CORS_ORIGINS"),
  tlsCert: Config.option(Config.string("COLONY_GATEWAY_TLS_CERT")),
  tlsKey: Config.option(Config.string("COLONY_GATEWAY_TLS_KEY")),
  otlpEndpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT")),
  serviceName: Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("colony-gateway")),
  presets: presetsConfig,
  requestTimeout: Config.duration("COLONY_GATEWAY_REQUEST_TIMEOUT").pipe(Config.withDefault(Duration.minutes(5))),
  bounds: Collaboration.boundsConfig
})
