/**
 * A request body of unknown length (`Transfer-Encoding: chunked`, no `Content-Length`) read with
 * a running byte count that stops at the gateway's limit. The platform's own reader would destroy
 * the connection at the limit, so the caller got a TCP reset instead of a status; read here, the
 * rest of the body is left to drain and the caller gets a 413.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Effect, Either, Stream } from "effect"

/**
 * Why a body could not be read.
 *
 * @since 0.1.0
 * @category models
 */
export type Refusal = "too_large" | "unreadable"

/**
 * Read the request's body, at most `maxBytes` of it. Past the limit it stops listening and leaves
 * the connection alone: the bytes still coming are read and dropped by the stream, never kept.
 *
 * @since 0.1.0
 */
export const read = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number
): Effect.Effect<Either.Either<Uint8Array, Refusal>> =>
  Effect.async((resume) => {
    const source = NodeHttpServerRequest.toIncomingMessage(request)
    const chunks: Array<Buffer> = []
    let bytes = 0
    const stop = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
    }
    const onData = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes <= maxBytes) return void chunks.push(chunk)
      stop()
      chunks.length = 0
      resume(Effect.succeed(Either.left("too_large")))
    }
    const onEnd = () => {
      stop()
      resume(Effect.succeed(Either.right(Buffer.concat(chunks))))
    }
    const onError = () => {
      stop()
      resume(Effect.succeed(Either.left("unreadable")))
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    return Effect.sync(stop)
  })

/**
 * `request` with `body` as its body, for the routes after a body was read here: its text, JSON,
 * bytes and stream are `body`, also after `modify`.
 *
 * @since 0.1.0
 */
export const withBody = (
  request: HttpServerRequest.HttpServerRequest,
  body: Uint8Array
): HttpServerRequest.HttpServerRequest => {
  const text = new TextDecoder().decode(body)
  // Everything else (headers, url, the Node request itself) is the original's, by prototype; `json`
  // and `urlParamsBody` read `this.text`.
  return Object.create(request, {
    text: { value: Effect.succeed(text) },
    arrayBuffer: { value: Effect.sync(() => body.slice().buffer) },
    stream: { value: Stream.succeed(body) },
    modify: {
      value: (options: Parameters<HttpServerRequest.HttpServerRequest["modify"]>[0]) =>
        withBody(request.modify(options), body)
    }
  }) as HttpServerRequest.HttpServerRequest
}
