/**
 * `POST /a2a/<name>`: A2A JSON-RPC through the SDK's transports, 1.0 or v0.3 by the request's
 * `A2A-Version`, answered as JSON or, for a streaming method, as server-sent events.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { A2A_VERSION_HEADER, formatSSEErrorEvent, formatSSEEvent } from "@a2a-js/sdk"
import { LegacyJsonRpcTransportHandler } from "@a2a-js/sdk/compat/v0_3/server"
import { defaultServerCallContextBuilder, JsonRpcTransportHandler, validateVersion } from "@a2a-js/sdk/server"
import { Effect, Either, Stream } from "effect"
import * as Auth from "../Auth.js"
import type { Settings } from "../GatewayConfig.js"
import * as JsonBody from "../JsonBody.js"
import { basePath, GatewayUser, legacyVersion } from "./Cards.js"
import { baseUrl, type Endpoints } from "./Endpoints.js"

const jsonRpcError = (id: unknown, code: number, message: string, status = 200) =>
  HttpServerResponse.unsafeJson({ jsonrpc: "2.0", id: id ?? null, error: { code, message } }, { status })

const sseHeaders = { "cache-control": "no-cache", "x-accel-buffering": "no" }

// the router has decoded the path parameter already: decoding it again would read `%25` as `%`
// and throw on a name with a `%` in it
export const nameParam = Effect.map(HttpRouter.RouteContext, (route) => route.params["name"] ?? "")

/** `POST /a2a/<name>`, for the endpoints of this gateway. */
export const handler = (endpoints: Endpoints, settings: Settings) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const name = yield* nameParam
    const read = yield* JsonBody.read(request)
    if (Either.isLeft(read)) {
      // -32700 is JSON-RPC's parse error; the HTTP status says why the body was not read
      return jsonRpcError(null, -32700, read.left.message, read.left.status === 413 ? 413 : 200)
    }
    const parsed = read.right
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return jsonRpcError(null, -32600, "the request body is not a JSON-RPC request: send one JSON object (batches are not served)")
    }
    const body = parsed as Record<string, unknown>
    const served = yield* endpoints.resolve(name)
    // "method not found" is the JSON-RPC code closest to "nothing answers at this address"
    if (served === undefined) return jsonRpcError(body["id"], -32601, yield* endpoints.unknown(name), 404)

    const endpoint = endpoints.endpointFor(served, `${baseUrl(request, settings)}${basePath}/${encodeURIComponent(name)}`)
    const header = request.headers[A2A_VERSION_HEADER.toLowerCase()]
    // A client that names no version speaks v0.3, as the protocol prescribes.
    const legacy = header === undefined || header === legacyVersion
    const context = defaultServerCallContextBuilder({
      extensions: undefined,
      user: new GatewayUser(yield* Auth.caller),
      headers: request.headers,
      requestedVersion: header ?? legacyVersion
    })
    const mapError = (error: unknown) =>
      legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError(error) : JsonRpcTransportHandler.mapToJSONRPCError(error)
    const handled = yield* Effect.either(Effect.tryPromise({
      try: async () => {
        validateVersion(context.requestedVersion, await endpoint.handler.getAgentCard(), "JSONRPC")
        return legacy ? endpoint.legacy.handle(body, context) : endpoint.jsonRpc.handle(body, context)
      },
      catch: (error) => error
    }))
    if (handled._tag === "Left") {
      return HttpServerResponse.unsafeJson({ jsonrpc: "2.0", id: body["id"] ?? null, error: mapError(handled.left) })
    }
    const result = handled.right
    if (!(Symbol.asyncIterator in result)) return HttpServerResponse.unsafeJson(result)

    const events = Stream.fromAsyncIterable(result, (error) => error).pipe(
      Stream.map(formatSSEEvent),
      Stream.catchAll((error) =>
        Stream.make(formatSSEErrorEvent({ jsonrpc: "2.0", id: body["id"] ?? null, error: mapError(error) }))
      ),
      Stream.encodeText
    )
    return HttpServerResponse.stream(events, { contentType: "text/event-stream", headers: sseHeaders })
  })
