/**
 * `colony gateway`: serve a colony over HTTP (typed RPC, OpenAI-compatible, health, metrics) with
 * the applications the program gives it (`make`). Embedded (the applications hosted in this
 * process) unless `DATABASE_URL` is set, then a client of the colony's runners.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import * as HttpServer from "@effect/platform/HttpServer"
import { Console, Effect, Layer, Option } from "effect"
import type * as Application from "../Application.js"
import * as Gateway from "../Gateway.js"

/**
 * Where a gateway just started, for an application's lines under its address.
 *
 * @since 0.1.0
 * @category models
 */
export interface Started {
  readonly address: string
  /** the colony is in this process */
  readonly embedded: boolean
  /** the gateway made its own admin key: a person is trying it out on this machine */
  readonly tryOut: boolean
}

/**
 * An application `colony gateway` may serve. Each gets a `--NAME` and a `--no-NAME` flag.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly application: Application.Application
  /** what `--NAME` serves, for `--help` */
  readonly description: string
  /**
   * Served in front of runners without `--NAME`. Off for an application the runners may not host
   * (they are started with an `--agents` module of their own); embedded, every application is served
   * unless `--no-NAME`.
   */
  readonly asClient: boolean
  /** lines printed under the gateway's address: where its pages are */
  readonly notes?: ((started: Started) => Effect.Effect<ReadonlyArray<string>, never, Gateway.Credentials>) | undefined
}

const embedded = Options.boolean("embedded").pipe(
  Options.withDescription("host the applications in this process (the default when DATABASE_URL is not set)")
)
const port = Options.integer("port").pipe(
  Options.withDescription("port to listen on, 0 for a free one (default COLONY_GATEWAY_PORT or 8420)"),
  Options.optional
)
const host = Options.text("host").pipe(
  Options.withDescription("interface to listen on (default COLONY_GATEWAY_HOST or 127.0.0.1)"),
  Options.optional
)

const flags = (entry: Entry) =>
  Options.all({
    on: Options.boolean(entry.application.name).pipe(
      Options.withDescription(`${entry.description}${entry.asClient ? "" : "; embedded by default, as a client only with this flag"}`)
    ),
    off: Options.boolean(`no-${entry.application.name}`).pipe(
      Options.withDescription(`leave ${entry.application.name} out (embedded: do not start it nor its storage)`)
    )
  })

const serves = (entry: Entry, flag: { readonly on: boolean; readonly off: boolean }, local: boolean) =>
  !flag.off && (flag.on || local || entry.asClient)

/**
 * `colony gateway` serving `entries`.
 *
 * @since 0.1.0
 */
export const make = (entries: ReadonlyArray<Entry>) =>
  Command.make("gateway", { embedded, port, host, applications: Options.all(entries.map(flags)) }, (options) =>
    Effect.gen(function*() {
      const overrides = {
        ...Option.match(options.port, { onNone: () => ({}), onSome: (port) => ({ port }) }),
        ...Option.match(options.host, { onNone: () => ({}), onSome: (host) => ({ host }) })
      }
      const local = options.embedded || (yield* Gateway.embeddedByDefault)
      const chosen = entries.filter((entry, i) => serves(entry, options.applications[i]!, local))
      const applications = chosen.map((entry) => entry.application)
      const layer = local
        ? Gateway.layerEmbedded({ settings: overrides, applications })
        : Gateway.layerClient({ settings: overrides, applications })
      return yield* Effect.gen(function*() {
        const server = yield* HttpServer.HttpServer
        const settings = yield* Gateway.GatewayConfig
        const scheme = Option.isSome(settings.tlsCert) ? "https" : "http"
        const address = server.address._tag === "TcpAddress"
          ? `${scheme}://${server.address.hostname === "0.0.0.0" ? "127.0.0.1" : server.address.hostname}:${server.address.port}`
          : String(server.address.path)
        const names = applications.map((application) => application.name)
        yield* Console.log(
          `colony gateway (${local ? "embedded colony" : "client of the colony's runners"}) listening on ${address}` +
            (names.length === 0 ? "" : `; serving ${names.join(", ")}`)
        )
        const generated = Gateway.generatedCredential(settings, address)
        if (Option.isSome(generated)) {
          yield* Console.log(`  no COLONY_GATEWAY_KEYS: this run's admin key is ${generated.value.key} (COLONY_API_KEY=... for the colony CLI)`)
          yield* Console.log(`  sign in a browser once with ${generated.value.signIn}`)
        }
        yield* Console.log(`  OpenAI-compatible: ${address}/v1   typed RPC: ${address}/rpc and ${address.replace(/^http/, "ws")}/rpc/ws`)
        const started: Started = { address, embedded: local, tryOut: Option.isSome(generated) }
        for (const entry of chosen) {
          for (const line of entry.notes === undefined ? [] : yield* entry.notes(started)) yield* Console.log(`  ${line}`)
        }
        yield* Console.log(`  health: ${address}/healthz ${address}/readyz   metrics: ${address}/metrics   (Ctrl-C to stop)`)
        return yield* Effect.never
      }).pipe(Effect.provide(layer as Layer.Layer<HttpServer.HttpServer | Gateway.GatewayConfig | Gateway.Credentials, unknown>))
    })).pipe(
      Command.withDescription(
        "Serve the colony over HTTP: typed RPC (HTTP and WebSocket), OpenAI-compatible /v1, /healthz, /readyz, /metrics, " +
          `and the applications' pages and APIs (${entries.map((entry) => entry.application.name).join(", ") || "none"})`
      )
    )


