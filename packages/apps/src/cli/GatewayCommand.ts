/**
 * `colony gateway`: serve a colony over HTTP (typed RPC, OpenAI-compatible, health, metrics, the
 * support desk's pages). Embedded (the demo team and the support desk in this process) unless
 * `DATABASE_URL` is set, then a client of the colony's runners.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import * as HttpServer from "@effect/platform/HttpServer"
import { Console, Effect, Layer, Option } from "effect"
import * as Gateway from "../Gateway.js"
import * as Script from "../support/Script.js"

const embedded = Options.boolean("embedded").pipe(
  Options.withDescription("host the demo team and the support desk in this process (the default when DATABASE_URL is not set)")
)
const support = Options.boolean("support").pipe(
  Options.withDescription(
    "serve the support desk's chat page, dashboard and API (/support/): on by default when embedded (the desk is hosted " +
      "here, with an embedded Postgres for its tables); as a client, in front of runners that host the desk"
  )
)
const noSupport = Options.boolean("no-support").pipe(
  Options.withDescription("leave the support desk out (embedded: do not start it nor its Postgres)")
)
const port = Options.integer("port").pipe(
  Options.withDescription("port to listen on, 0 for a free one (default COLONY_GATEWAY_PORT or 8420)"),
  Options.optional
)
const host = Options.text("host").pipe(
  Options.withDescription("interface to listen on (default COLONY_GATEWAY_HOST or 127.0.0.1)"),
  Options.optional
)

/**
 * @since 0.1.0
 */
export const command = Command.make("gateway", { embedded, support, noSupport, port, host }, (options) =>
  Effect.gen(function*() {
    const overrides = {
      ...Option.match(options.port, { onNone: () => ({}), onSome: (port) => ({ port }) }),
      ...Option.match(options.host, { onNone: () => ({}), onSome: (host) => ({ host }) })
    }
    const local = options.embedded || (yield* Gateway.embeddedByDefault)
    const desk = !options.noSupport && (options.support || local)
    const layer = local
      ? Gateway.layerEmbedded({ settings: overrides, ...(desk ? {} : { support: false as const }) })
      : Gateway.layerClient({ settings: overrides, support: desk })
    return yield* Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const settings = yield* Gateway.GatewayConfig
      const scheme = Option.isSome(settings.tlsCert) ? "https" : "http"
      const address = server.address._tag === "TcpAddress"
        ? `${scheme}://${server.address.hostname === "0.0.0.0" ? "127.0.0.1" : server.address.hostname}:${server.address.port}`
        : String(server.address.path)
      yield* Console.log(
        `colony gateway (${local ? "embedded colony" : "client of the colony's runners"}) listening on ${address}`
      )
      const generated = Gateway.generatedCredential(settings, address)
      if (Option.isSome(generated)) {
        yield* Console.log(`  no COLONY_GATEWAY_KEYS: this run's admin key is ${generated.value.key} (COLONY_API_KEY=... for the colony CLI)`)
        yield* Console.log(`  sign in a browser once with ${generated.value.signIn}`)
      }
      yield* Console.log(`  OpenAI-compatible: ${address}/v1   typed RPC: ${address}/rpc and ${address.replace(/^http/, "ws")}/rpc/ws`)
      if (desk) {
        yield* Console.log(
          `  support desk: chat ${address}/support/#token=<customer token from POST /auth/tokens>   operator dashboard ${address}/support/dashboard`
        )
        // Started for a try-out (no keys of its own): a chat link as the demo's customer, whose
        // orders the desk's tools may show; the token lives as long as the sign-in cookie.
        if (Option.isSome(generated) && local) {
          const credentials = yield* Gateway.Credentials
          const { token } = yield* credentials.mintToken(Script.customer, 12 * 3600)
          yield* Console.log(`  chat as the demo's customer (${Script.customer}): ${address}/support/#token=${token}`)
        }
      }
      yield* Console.log(`  health: ${address}/healthz ${address}/readyz   metrics: ${address}/metrics   (Ctrl-C to stop)`)
      return yield* Effect.never
    }).pipe(Effect.provide(layer as Layer.Layer<HttpServer.HttpServer | Gateway.GatewayConfig | Gateway.Credentials, unknown>))
  })).pipe(
    Command.withDescription(
      "Serve the colony over HTTP: typed RPC (HTTP and WebSocket), OpenAI-compatible /v1, /healthz, /readyz, /metrics, " +
        "and the support desk's chat page and operator dashboard (/support/)"
    )
  )
