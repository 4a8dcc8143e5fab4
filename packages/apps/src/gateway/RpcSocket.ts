/**
 * What each message on `/rpc/ws` must be before the RPC server reads it: the check of `/rpc`'s
 * body (`RpcBody.checkMessage`), message by message. The RPC server would answer a malformed
 * message with a defect carrying its internal message ("Cannot read properties of ...") or a
 * `Die` for a payload schema error; checked here, the caller gets
 *
 * - for a request whose id can be read, that request's typed failure, `InvalidRequest`, which
 *   every RPC of the gateway declares;
 * - for any other message (not JSON, nested too deep, no usable id), a protocol error
 *   (`ClientProtocolError` with an `RpcClientError` of reason `Protocol`);
 *
 * and the socket stays open for the next message. The socket's messages are ndjson (the gateway's
 * `RpcSerialization.layerNdjson`): a message may span frames, and a line that grows past the
 * gateway's limit across frames is refused and skipped to its end, never held.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Socket from "@effect/platform/Socket"
import { Effect, Schema } from "effect"
import { InvalidRequest } from "./GatewayRpcs.js"
import * as RpcBody from "./RpcBody.js"

const encodeInvalid = Schema.encodeSync(InvalidRequest)

/**
 * The answer to an invalid message, as an ndjson line of the protocol.
 *
 * @since 0.1.0
 */
export const answer = (invalid: RpcBody.Invalid): string =>
  JSON.stringify(
    invalid.requestId === undefined
      ? {
        _tag: "ClientProtocolError",
        error: { _tag: "RpcClientError", reason: "Protocol", message: `invalid RPC message: ${invalid.reason}` }
      }
      : {
        _tag: "Exit",
        requestId: invalid.requestId,
        exit: { _tag: "Failure", cause: { _tag: "Fail", error: encodeInvalid(new InvalidRequest({ reason: invalid.reason })) } }
      }
  ) + "\n"

type Item = { readonly _tag: "Line"; readonly line: string } | { readonly _tag: "TooLong" }

/**
 * Splits a socket's text into its ndjson lines as frames arrive. A line that would grow past
 * `maxChars` is reported once as `TooLong`, and the rest of it, up to its newline, is dropped.
 *
 * @since 0.1.0
 */
export const lines = (maxChars: number): (text: string) => ReadonlyArray<Item> => {
  // the unfinished line in pieces, so a line sent a byte a frame is not copied at each frame
  let pieces: Array<string> = []
  let pending = 0
  let skipping = false
  return (text) => {
    const items: Array<Item> = []
    let from = 0
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", from)) {
      const piece = text.slice(from, newline)
      from = newline + 1
      if (skipping) {
        skipping = false
        continue
      }
      if (pending + piece.length > maxChars) {
        items.push({ _tag: "TooLong" })
      } else {
        items.push({ _tag: "Line", line: pieces.join("") + piece })
      }
      pieces = []
      pending = 0
    }
    const rest = text.slice(from)
    if (skipping || rest.length === 0) return items
    if (pending + rest.length > maxChars) {
      items.push({ _tag: "TooLong" })
      pieces = []
      pending = 0
      skipping = true
      return items
    }
    pieces.push(rest)
    pending += rest.length
    return items
  }
}

/**
 * `socket`, passing on to its reader only the messages `RpcBody.checkMessage` accepts, and
 * answering the others itself.
 *
 * @since 0.1.0
 */
export const checkSocket = (rpcs: RpcBody.Rpcs, maxChars: number, socket: Socket.Socket): Socket.Socket => {
  const runRaw = <_, E = never, R = never>(
    handler: (_: string | Uint8Array) => Effect.Effect<_, E, R> | void,
    options?: { readonly onOpen?: Effect.Effect<void> | undefined }
  ): Effect.Effect<void, Socket.SocketError | E, R> =>
    Effect.scoped(Effect.gen(function*() {
      const write = yield* socket.writer
      const split = lines(maxChars)
      const decoder = new TextDecoder()
      const pass = (line: string): Effect.Effect<void, E, R> => {
        const handled = handler(line + "\n")
        return Effect.isEffect(handled) ? Effect.asVoid(handled) : Effect.void
      }
      const tooLong: RpcBody.Invalid = { reason: `the message is longer than this gateway's limit of ${maxChars} characters`, requestId: undefined }
      return yield* socket.runRaw((data) =>
        Effect.forEach(
          split(typeof data === "string" ? data : decoder.decode(data, { stream: true })),
          (item): Effect.Effect<void, Socket.SocketError | E, R> => {
            if (item._tag === "TooLong") return write(answer(tooLong))
            if (item.line.trim().length === 0) return Effect.void
            const invalid = RpcBody.checkMessage(rpcs, item.line)
            return invalid === undefined ? pass(item.line) : write(answer(invalid))
          },
          { discard: true }
        ), options)
    }))
  const encoder = new TextEncoder()
  return Socket.Socket.of({
    [Socket.TypeId]: Socket.TypeId,
    runRaw,
    run: (handler, options) => runRaw((data) => handler(typeof data === "string" ? encoder.encode(data) : data), options),
    writer: socket.writer
  })
}

/**
 * Serve `app` (the RPC server's WebSocket app) with its socket checked by `checkSocket`.
 *
 * @since 0.1.0
 */
export const checked = <E, R>(
  rpcs: RpcBody.Rpcs,
  maxChars: number,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const upgrade = Effect.map(request.upgrade, (socket) => checkSocket(rpcs, maxChars, socket))
    // the request as it is, but for the socket it upgrades to
    const checkedRequest = Object.create(request, { upgrade: { value: upgrade } }) as HttpServerRequest.HttpServerRequest
    return yield* Effect.provideService(app, HttpServerRequest.HttpServerRequest, checkedRequest)
  })
