/**
 * `colony gateway`: a stateless HTTP front for a colony. It joins the colony as a client (or
 * hosts an embedded one) and serves, on one port:
 *
 * - the typed RPC protocol (`GatewayRpcs`) over HTTP (`POST /rpc`) and WebSocket (`/rpc/ws`),
 *   which `GatewayClient` and the `colony` CLI call;
 * - its own routes, declared as an `HttpApi` (`GatewayApi`) and described by `GET /openapi.json`:
 *   OpenAI-compatible `POST /v1/chat/completions` and `GET /v1/models`, `/healthz`, `/readyz`,
 *   Prometheus `/metrics` and the `/auth` routes;
 * - the routes and A2A cards of the applications it is given (`Options.applications`);
 *
 * behind API keys, a per-key rate limit, a body size limit and CORS, with OTLP traces when
 * configured. Configuration: `GatewayConfig`.
 *
 * @since 0.1.0
 */
import { Session } from "@colony/agents"
import { type Agent, Colony, ColonyError, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import * as RpcServer from "@effect/rpc/RpcServer"
import { Config, Effect, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { createServer as createHttpServer } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import * as Application from "./Application.js"
import * as A2A from "./gateway/A2A.js"
import * as Auth from "./gateway/Auth.js"
import { config, GatewayConfig, type Settings } from "./gateway/GatewayConfig.js"
import * as GatewayApi from "./gateway/GatewayApi.js"
import * as GatewayHandlers from "./gateway/GatewayHandlers.js"
import * as GatewayMetrics from "./gateway/GatewayMetrics.js"
import * as GatewayMiddleware from "./gateway/GatewayMiddleware.js"
import { GatewayRpcs } from "./gateway/GatewayRpcs.js"
import * as GatewayTracing from "./gateway/GatewayTracing.js"
import * as RateLimit from "./gateway/RateLimit.js"
import * as RpcBody from "./gateway/RpcBody.js"
import * as RpcSocket from "./gateway/RpcSocket.js"
import * as SessionLog from "./gateway/SessionLog.js"
import * as WebSocketLimit from "./gateway/WebSocketLimit.js"

export { GatewayConfig, type Settings } from "./gateway/GatewayConfig.js"
export { Credentials } from "./gateway/Auth.js"

export type { AnyAgent, RouteContext, Routes } from "./Application.js"

type AnyAgent = Application.AnyAgent
type Routes = Application.Routes

const asAny = (agents: ReadonlyArray<AnyAgent>) => agents as unknown as ReadonlyArray<Agent.Any>

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the applications the gateway serves: their agents, presets, routes and A2A cards */
  readonly applications?: ReadonlyArray<Application.Application> | undefined
  /** agent types served next to the applications' */
  readonly agents?: ReadonlyArray<AnyAgent> | undefined
  /** routes served next to the gateway's own and the applications' */
  readonly routes?: ReadonlyArray<Routes> | undefined
  /** A2A agents served next to the agents, presets and the applications' */
  readonly a2a?: ReadonlyArray<A2A.Application> | undefined
  /** settings that override the environment's */
  readonly settings?: Partial<Settings> | undefined
  /** for `layerClient`: how to reach the colony, overriding the environment's `DATABASE_URL`, ... */
  readonly colony?: Parameters<typeof Colony.layerClientOnly>[0] | undefined
  /**
   * where the rate limits' buckets live; unset: this process's memory. Gateways given one store
   * (`@effect/experimental/RateLimiter/Redis`'s `layerStore`) share one budget per caller.
   */
  readonly rateLimiterStore?: Layer.Layer<RateLimiter.RateLimiterStore, unknown> | undefined
}

const loopback = new Set(["127.0.0.1", "::1", "localhost"])

/**
 * The gateway's settings: the environment's, then `overrides`. A gateway without keys may only
 * listen on a loopback interface, and makes an admin key for the run with a one-use sign-in code
 * (`loginCode`): it is never open to whoever can reach it.
 *
 * @since 0.1.0
 */
export const settings = (overrides: Partial<Settings> = {}): Effect.Effect<Settings, ColonyError.StartFailed> =>
  Effect.gen(function*() {
    const fromEnv = yield* Effect.mapError(
      config,
      (error) => new ColonyError.StartFailed({ reason: `invalid gateway configuration: ${String(error)}` })
    )
    const merged = { ...fromEnv, ...overrides }
    if (merged.keys.length === 0 && !loopback.has(merged.host)) {
      return yield* new ColonyError.StartFailed({
        reason: `no API keys are configured and the gateway would listen on ${merged.host}, open to the network. ` +
          `Set COLONY_GATEWAY_KEYS (comma-separated keys), or listen on 127.0.0.1`
      })
    }
    if (Option.isSome(merged.tokenSecret) && Buffer.byteLength(Redacted.value(merged.tokenSecret.value)) < 32) {
      return yield* new ColonyError.StartFailed({
        reason: "COLONY_GATEWAY_TOKEN_SECRET is shorter than 32 bytes: use a long random string (openssl rand -hex 32)"
      })
    }
    if (Option.isSome(merged.tlsCert) !== Option.isSome(merged.tlsKey)) {
      return yield* new ColonyError.StartFailed({
        reason: "TLS needs both COLONY_GATEWAY_TLS_CERT and COLONY_GATEWAY_TLS_KEY (PEM files); set both or neither"
      })
    }
    if (merged.keys.length === 0) {
      return {
        ...merged,
        keys: [Redacted.make(`admin:${randomBytes(24).toString("base64url")}`)],
        loginCode: Option.some(Redacted.make(randomBytes(24).toString("base64url")))
      }
    }
    return merged
  })

/**
 * The key and sign-in link of a gateway that made its own key (no `COLONY_GATEWAY_KEYS`), for
 * the person who started it.
 *
 * @since 0.1.0
 */
export const generatedCredential = (settings: Settings, address: string) =>
  Option.map(settings.loginCode, (code) => ({
    key: Redacted.value(settings.keys[0]!).replace(/^admin:/, ""),
    signIn: `${address}/auth/login?code=${Redacted.value(code)}`
  }))

// Where the one-use sign-in link lands when no application has a page of its own.
const defaultHome = "/readyz"

/**
 * The gateway's routes, then those of the applications in `extensions`; `cards` are served over
 * A2A, and the sign-in link lands on `home`.
 *
 * @since 0.1.0
 */
export const router = (
  extensions: ReadonlyArray<Routes> = [],
  cards: ReadonlyArray<A2A.Application> = [],
  home: string = defaultHome
) => Effect.gen(function*() {
  const rpcHttp = yield* RpcServer.toHttpApp(GatewayRpcs)
  const rpcWebSocket = yield* RpcServer.toHttpAppWebsocket(GatewayRpcs)
  const a2a = yield* A2A.router(cards)
  const extra = yield* Effect.all(extensions)
  const api = yield* GatewayApi.router(home)
  const own = HttpRouter.empty.pipe(
    // each call takes its own share of the rate limit (GatewayHandlers), not each HTTP request
    HttpRouter.post("/rpc", Auth.route("client", RpcBody.checked(GatewayRpcs.requests, rpcHttp), { limit: false, sealCaller: true })),
    HttpRouter.get(
      "/rpc/ws",
      Auth.route(
        "client",
        Effect.flatMap(GatewayConfig, (settings) => RpcSocket.checked(GatewayRpcs.requests, settings.maxBodyBytes, rpcWebSocket)),
        { limit: false, sealCaller: true, ticket: true }
      )
    ),
    HttpRouter.concat(api),
    HttpRouter.concat(a2a)
  )
  return extra.reduce<HttpRouter.HttpRouter<never, Application.RouteContext | GatewayHandlers.ServedAgents>>(
    (all, routes) => HttpRouter.concat(all, routes),
    own
  )
})

/**
 * Serve the gateway on the current colony (which must host or reach `Session.layer`, the served
 * `agents` and the `applications`' agents), its rate limits' buckets in `rateLimiterStore`. Its
 * output is the HTTP server, for its address.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServe = (
  settings: Settings,
  agents: ReadonlyArray<AnyAgent>,
  applications: ReadonlyArray<Application.Application> = [],
  rateLimiterStore: Layer.Layer<RateLimiter.RateLimiterStore, unknown> = RateLimit.layerStoreMemory
): Layer.Layer<HttpServer.HttpServer | GatewayConfig | Auth.Credentials, ColonyError.StartFailed, Colony.Services | Sharding> => {
  const tls = Option.all({ cert: settings.tlsCert, key: settings.tlsKey })
  const server = Layer.unwrapEffect(Effect.gen(function*() {
    const credentials = yield* Option.match(tls, {
      onNone: () => Effect.succeed(undefined),
      onSome: ({ cert, key }) =>
        Effect.try({
          try: () => ({ cert: readFileSync(cert), key: readFileSync(key) }),
          catch: (error) => new ColonyError.StartFailed({ reason: `cannot read the TLS certificate or key: ${String(error)}` })
        })
    })
    return NodeHttpServer.layer(
      () => {
        const server = credentials === undefined ? createHttpServer() : createHttpsServer(credentials)
        // `ws` would buffer a message of up to 100 MiB before the gateway sees it
        WebSocketLimit.limitFrames(server, settings.maxBodyBytes)
        return server
      },
      { host: settings.host, port: settings.port }
    ).pipe(
      Layer.mapError((error) =>
        new ColonyError.StartFailed({ reason: `cannot listen on ${settings.host}:${settings.port}: ${String(error.cause ?? error)}` })
      )
    )
  }))
  const routes = applications.flatMap((application) => application.routes)
  const cards = applications.flatMap((application) => application.a2aCards)
  const home = applications.find((application) => application.home !== undefined)?.home ?? defaultHome
  const app = Layer.unwrapScoped(Effect.map(router(routes, cards, home), (all) =>
    HttpServer.serve(
      GatewayMiddleware.recover(Effect.catchTag(all, "RouteNotFound", () => Effect.succeed(GatewayMiddleware.notFound))),
      GatewayMiddleware.make(settings, GatewayMiddleware.labelsOf([...all.routes].map((route) => route.path)))
    ).pipe(HttpMiddleware.withTracerDisabledWhen(() => true))))
  const metrics = Layer.scopedDiscard(Effect.forkScoped(GatewayMetrics.collect))
  return Layer.mergeAll(app, metrics).pipe(
    Layer.provide([GatewayHandlers.layer, RpcSerialization.layerNdjson]),
    Layer.provide(Layer.mergeAll(
      SessionLog.layer,
      GatewayHandlers.layerServedAgents(asAny(Application.served(applications, agents)), Application.presets(applications))
    )),
    // the settings and credentials in use are part of the output: a gateway that made its own key
    // tells it, and can mint a token for whoever starts it
    Layer.provideMerge(Auth.layer(settings)),
    Layer.provide(RateLimiter.layer.pipe(
      Layer.provide(rateLimiterStore),
      Layer.mapError((error) => new ColonyError.StartFailed({ reason: `cannot open the rate limiter's store: ${String(error)}` }))
    )),
    Layer.provideMerge(Layer.succeed(GatewayConfig, settings)),
    Layer.provideMerge(server)
  )
}

// What the options give next to the applications is one more application, without a name.
const applicationsOf = (options: Options): ReadonlyArray<Application.Application> => [
  ...(options.applications ?? []),
  Application.make({ name: "", routes: options.routes, a2aCards: options.a2a })
]

/**
 * A gateway hosting its own colony: the agents, sessions and the models in this process
 * (`colony gateway --embedded`), with the applications' agents and their storage, and `hosted`
 * for the `agents` given next to them.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmbedded = (options: Options & {
  readonly hosted?: Layer.Layer<never, never, Agent.Requirements> | undefined
  readonly languageModel?: Layer.Layer<LanguageModel.LanguageModel> | undefined
} = {}): Layer.Layer<HttpServer.HttpServer | GatewayConfig | Auth.Credentials, ColonyError.StartFailed> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const resolved = yield* settings(options.settings)
    const applications = applicationsOf(options)
    const hosted = Layer.mergeAll(
      options.hosted ?? Layer.empty,
      Session.layer,
      ...applications.map((application) => application.hosted)
    )
    return layerServe(resolved, options.agents ?? [], applications, options.rateLimiterStore).pipe(
      Layer.provide(hosted),
      Layer.provide(Colony.layerEmbedded({ languageModel: options.languageModel })),
      Layer.provide(GatewayTracing.layer(resolved))
    )
  }))

/**
 * A gateway in front of a Postgres colony of runners: joins it as a client (`DATABASE_URL`,
 * `COLONY_RUNNER_SECRET`, ...) and declares the agent types it serves and those of its
 * applications. The runners must host those agents and `Session.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: Options = {}
): Layer.Layer<HttpServer.HttpServer | GatewayConfig | Auth.Credentials, ColonyError.StartFailed | ColonyError.RunnerRefused> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const resolved = yield* settings(options.settings)
    const applications = applicationsOf(options)
    const agents = options.agents ?? []
    return layerServe(resolved, agents, applications, options.rateLimiterStore).pipe(
      Layer.provide(Colony.declare(...Application.declared(applications, agents))),
      Layer.provideMerge(options.colony === undefined ? Colony.clientOnly : Colony.layerClientOnly(options.colony)),
      Layer.provide(GatewayTracing.layer(resolved))
    )
  }))

/**
 * `--embedded` unless `DATABASE_URL` is set.
 *
 * @since 0.1.0
 */
export const embeddedByDefault: Effect.Effect<boolean> = Config.option(Config.string("DATABASE_URL")).pipe(
  Effect.map(Option.isNone),
  Effect.orElseSucceed(() => true)
)
