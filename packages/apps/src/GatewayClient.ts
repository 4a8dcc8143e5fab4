/**
 * The typed client of a colony gateway: the gateway's RPCs (`GatewayRpcs`) as methods, over HTTP
 * or WebSocket, with the API key sent as a Bearer token. Streams (a collaboration's events) are
 * streams on the client too.
 *
 * <!-- snippet:
 * import * as GatewayClient from "@colony/apps/GatewayClient"
 * import { NodeRuntime } from "@effect/platform-node"
 * -->
 * ```ts
 * const program = Effect.gen(function*() {
 *   const colony = yield* GatewayClient.make({ url: "http://127.0.0.1:8420", apiKey: "…" })
 *   const answer = yield* colony.Ask({ agent: "writer", id: "me", prompt: "A tagline for espresso?" })
 *   yield* colony.RunCollaboration({ session: "launch-1", collaboration: "master-slave", task: "…" }).pipe(
 *     Stream.runForEach((progress) => Console.log(progress))
 *   )
 * })
 * program.pipe(Effect.scoped, NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Socket from "@effect/platform/Socket"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as RpcClient from "@effect/rpc/RpcClient"
import type { RpcClientError } from "@effect/rpc/RpcClientError"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { Effect, Layer, Redacted, type Scope } from "effect"
import WebSocket from "ws"
import { GatewayRpcs } from "./gateway/GatewayRpcs.js"

export * from "./gateway/GatewayRpcs.js"

/**
 * A gateway's typed client: one method per RPC of `GatewayRpcs`.
 *
 * @since 0.1.0
 * @category models
 */
export type Client = RpcClient.FromGroup<typeof GatewayRpcs, RpcClientError>

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the gateway's base URL, e.g. `http://127.0.0.1:8420` */
  readonly url: string
  /** an API key of the gateway (`COLONY_GATEWAY_KEYS`) */
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  /** `http` (a request per call; the default) or `websocket` (one connection for every call) */
  readonly transport?: "http" | "websocket" | undefined
}

const keyOf = (options: Options) =>
  options.apiKey === undefined ? undefined : Redacted.isRedacted(options.apiKey) ? Redacted.value(options.apiKey) : options.apiKey

/**
 * The transport for `options`, without the client: for programs that build an `RpcClient` of
 * their own group against a gateway.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProtocol = (options: Options): Layer.Layer<RpcClient.Protocol> => {
  const base = options.url.replace(/\/+$/, "")
  const key = keyOf(options)
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
  if (options.transport === "websocket") {
    const url = `${base.replace(/^http/, "ws")}/rpc/ws`
    // Node 20 has no global WebSocket; `ws` also lets the key go in a header, not the URL.
    const constructor = Layer.succeed(
      Socket.WebSocketConstructor,
      (url, protocols) => new WebSocket(url, protocols, { headers }) as unknown as globalThis.WebSocket
    )
    return RpcClient.layerProtocolSocket({ retryTransientErrors: false }).pipe(
      Layer.provide(Socket.layerWebSocket(url)),
      Layer.provide([constructor, RpcSerialization.layerNdjson])
    )
  }
  return RpcClient.layerProtocolHttp({
    url: `${base}/rpc`,
    // A refusal (401, 429, 413) must fail the call rather than be parsed as RPC frames; the
    // protocol wraps any request failure in an RpcClientError whose cause is the response error.
    transformClient: (client) =>
      HttpClient.filterStatusOk(client.pipe(HttpClient.mapRequest(HttpClientRequest.setHeaders(headers)))) as unknown as typeof client
  }).pipe(Layer.provide([NodeHttpClient.layerUndici, RpcSerialization.layerNdjson]))
}

/**
 * A typed client of the gateway at `options.url`, open for the enclosing scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.flatMap(Layer.build(layerProtocol(options)), (context) =>
    Effect.provide(RpcClient.make(GatewayRpcs), context))
