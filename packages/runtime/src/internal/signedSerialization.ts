import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { Layer, Redacted } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"

/**
 * Runner-to-runner frames are msgpack messages wrapped as
 * `[u32 length][32-byte HMAC-SHA256(secret, payload)][payload]`.
 *
 * A peer without the colony's secret cannot produce a frame that verifies, so nothing it sends is
 * decoded: the receiving side reports a serialization error, which makes the RPC server close the
 * connection (and the RPC client fail the call) instead of crashing. Pings go through the same
 * frames, so a runner with the wrong secret also fails the cluster's health checks.
 */
const HEADER = 4 + 32

/** A frame bigger than this is refused before it is buffered, whatever its length prefix says. */
const MAX_FRAME = 64 * 1024 * 1024

const refuse = (bufferSize: number) =>
  new RpcSerialization.RpcSerializationError({
    reason: "BufferSizeExceeded",
    maxBufferSize: MAX_FRAME,
    bufferSize
  })

export const make = (secret: Redacted.Redacted<string>): RpcSerialization.RpcSerialization["Type"] => {
  const key = Buffer.from(Redacted.value(secret), "utf8")
  const inner = RpcSerialization.msgPack
  return RpcSerialization.RpcSerialization.of({
    contentType: "application/x-colony-signed-msgpack",
    includesFraming: true,
    unsafeMake() {
      const parser = inner.unsafeMake()
      let pending: Buffer = Buffer.alloc(0)
      return {
        decode(data) {
          const chunk = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
          const out: Array<unknown> = []
          while (pending.length >= HEADER) {
            const length = pending.readUInt32BE(0)
            if (length > MAX_FRAME) throw refuse(length)
            if (pending.length < HEADER + length) break
            const mac = pending.subarray(4, HEADER)
            const payload = pending.subarray(HEADER, HEADER + length)
            const expected = createHmac("sha256", key).update(payload).digest()
            if (!timingSafeEqual(mac, expected)) {
              pending = Buffer.alloc(0)
              // Reported as a serialization error so the server closes the connection rather
              // than answering the unauthenticated peer.
              throw refuse(length)
            }
            for (const message of parser.decode(payload)) out.push(message)
            pending = pending.subarray(HEADER + length)
          }
          return out
        },
        encode(message) {
          const encoded = parser.encode(message)
          if (encoded === undefined) return undefined
          const payload = typeof encoded === "string" ? Buffer.from(encoded, "utf8") : encoded
          const frame = Buffer.allocUnsafe(HEADER + payload.length)
          frame.writeUInt32BE(payload.length, 0)
          createHmac("sha256", key).update(payload).digest().copy(frame, 4)
          frame.set(payload, HEADER)
          return frame
        }
      }
    }
  })
}

export const layer = (secret: Redacted.Redacted<string>): Layer.Layer<RpcSerialization.RpcSerialization> =>
  Layer.succeed(RpcSerialization.RpcSerialization, make(secret))
