/**
 * A size limit on WebSocket messages for a Node HTTP(S) server whose WebSocket server cannot be
 * configured: `@effect/platform-node` makes its `ws` server itself, so `ws`'s `maxPayload` stays
 * at 100 MiB and one message could make the gateway buffer that much. This watches each upgraded
 * socket's incoming bytes, reads the frame headers (RFC 6455 §5.2) and closes the connection as
 * soon as a header announces a payload that would take its message past the limit — before that
 * payload is read.
 *
 * The platform's `ws` server does not negotiate permessage-deflate, so a frame's length is what
 * the message takes in memory.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import type * as Https from "node:https"
import type * as Net from "node:net"
import type { Duplex } from "node:stream"

/**
 * A connection closed for a message over the limit.
 *
 * @since 0.1.0
 * @category models
 */
export interface Refusal {
  /** the size the message would have reached, counting its frames so far and the announced one */
  readonly messageBytes: number
  readonly maxBytes: number
  /** bytes read from the connection when it was closed: within the limit but for the headers and what the socket read ahead */
  readonly bytesRead: number
  readonly remoteAddress: string | undefined
}

/**
 * Reads a WebSocket connection's incoming bytes, chunk by chunk as they arrive, and says when a
 * message goes over `maxBytes`: `undefined` while every message is within it, then the size the
 * offending message would reach. Headers may be split across chunks and a chunk may hold many
 * frames; a message's size is summed over its continuation frames. Control frames (close, ping,
 * pong) are not part of a message and are limited on their own.
 *
 * @since 0.1.0
 */
export const meter = (maxBytes: number): (chunk: Uint8Array) => number | undefined => {
  const header = new Uint8Array(14)
  let have = 0
  let skip = 0
  let message = 0

  const headerLength = () => {
    if (have < 2) return 2
    const length = header[1]! & 0x7f
    return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (header[1]! & 0x80 ? 4 : 0)
  }

  const payloadLength = () => {
    const length = header[1]! & 0x7f
    const view = new DataView(header.buffer)
    if (length === 126) return view.getUint16(2)
    // beyond 2^53 the sum is no longer exact, but it is far over any limit either way
    if (length === 127) return view.getUint32(2) * 2 ** 32 + view.getUint32(6)
    return length
  }

  // the size of the message the complete header in `header` belongs to, after its frame
  const onHeader = (): number => {
    const fin = (header[0]! & 0x80) !== 0
    const opcode = header[0]! & 0x0f
    const length = payloadLength()
    skip = length
    if (opcode >= 0x8) return length
    if (opcode !== 0x0) message = 0
    message += length
    const size = message
    if (fin) message = 0
    return size
  }

  return (chunk) => {
    let offset = 0
    while (offset < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset)
        skip -= n
        offset += n
        continue
      }
      const wanted = headerLength()
      const n = Math.min(wanted - have, chunk.length - offset)
      header.set(chunk.subarray(offset, offset + n), have)
      have += n
      offset += n
      // the first two bytes tell how long the rest of the header is
      if (have < headerLength()) continue
      have = 0
      const size = onHeader()
      if (size > maxBytes) return size
    }
    return undefined
  }
}

// a server-to-client close frame (unmasked): 1009, "message too big"
const closeFrame = (() => {
  const reason = new TextEncoder().encode("message too big")
  const frame = new Uint8Array(4 + reason.length)
  frame.set([0x88, 2 + reason.length, 0x03, 0xf1])
  frame.set(reason, 4)
  return frame
})()

/**
 * Close every WebSocket connection of `server` whose message would exceed `maxBytes`: with a
 * close frame 1009 ("message too big") when the handshake was answered, then at once. Call it
 * before the server serves; the returned function removes the limit from new connections.
 *
 * It only observes: its `data` listener is added with `prependListener`, which, unlike `on`, does
 * not start the socket flowing, so the bytes that arrive before the WebSocket server takes the
 * socket (the platform upgrades after routing the request) wait in the socket for it as before.
 * The WebSocket server puts the bytes that came with the request back with `unshift`, so they
 * pass through here too.
 *
 * @since 0.1.0
 */
export const limitFrames = (
  server: Http.Server | Https.Server,
  maxBytes: number,
  options: { readonly onRefused?: ((refusal: Refusal) => void) | undefined } = {}
): () => void => {
  const onUpgrade = (request: Http.IncomingMessage, socket: Duplex) => {
    if (request.headers.upgrade?.toLowerCase() !== "websocket") return
    const over = meter(maxBytes)
    const watch = (chunk: Uint8Array) => {
      const messageBytes = over(chunk)
      if (messageBytes === undefined) return
      socket.off("data", watch)
      const net = socket as Partial<Pick<Net.Socket, "bytesRead" | "bytesWritten" | "remoteAddress">>
      // before the handshake's answer a frame would corrupt it: then the socket is only closed
      if ((net.bytesWritten ?? 0) > 0) socket.write(closeFrame)
      socket.destroy()
      options.onRefused?.({ messageBytes, maxBytes, bytesRead: net.bytesRead ?? 0, remoteAddress: net.remoteAddress })
    }
    socket.prependListener("data", watch)
  }
  server.prependListener("upgrade", onUpgrade)
  return () => {
    server.off("upgrade", onUpgrade)
  }
}
