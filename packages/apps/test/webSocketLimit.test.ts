/**
 * The WebSocket message limit: the frame reader on crafted bytes, then a real server from
 * `@effect/platform-node` (which upgrades after routing, as the gateway does) with `ws` clients.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { connect } from "node:net"
import WebSocket from "ws"
import * as WebSocketLimit from "../src/gateway/WebSocketLimit.js"

// a client frame: header, mask key, then `payload` bytes of payload (omitted when not wanted)
const frame = (options: { opcode: number; fin: boolean; length: number; payload?: boolean }): Uint8Array => {
  const { fin, length, opcode } = options
  const extended = length < 126 ? [] : length < 65536 ? [length >> 8, length & 0xff] : [
    ...[Math.floor(length / 2 ** 32)].flatMap((hi) => [(hi >> 24) & 0xff, (hi >> 16) & 0xff, (hi >> 8) & 0xff, hi & 0xff]),
    (length >>> 24) & 0xff,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff
  ]
  const seven = length < 126 ? length : length < 65536 ? 126 : 127
  const header = [(fin ? 0x80 : 0) | opcode, 0x80 | seven, ...extended, 1, 2, 3, 4]
  const bytes = new Uint8Array(header.length + (options.payload === false ? 0 : length))
  bytes.set(header)
  return bytes
}

const concat = (...parts: Array<Uint8Array>) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    all.set(part, at)
    at += part.length
  }
  return all
}

describe("WebSocketLimit.meter", () => {
  it("messages within the limit pass, in one chunk or a byte at a time", () => {
    const bytes = concat(
      frame({ opcode: 1, fin: true, length: 100 }),
      frame({ opcode: 2, fin: true, length: 300 }),
      frame({ opcode: 9, fin: true, length: 4 }),
      frame({ opcode: 2, fin: true, length: 1000 })
    )
    expect(WebSocketLimit.meter(1000)(bytes)).toBeUndefined()
    const slow = WebSocketLimit.meter(1000)
    for (const byte of bytes) expect(slow(Uint8Array.of(byte))).toBeUndefined()
  })

  it("a header announcing too much is caught before its payload, even split across chunks", () => {
    const header = frame({ opcode: 2, fin: true, length: 70_000, payload: false })
    expect(header.length).toBe(2 + 8 + 4)
    const split = WebSocketLimit.meter(65_536)
    expect(split(header.subarray(0, 1))).toBeUndefined()
    expect(split(header.subarray(1, 3))).toBeUndefined()
    expect(split(header.subarray(3, 13))).toBeUndefined()
    expect(split(header.subarray(13))).toBe(70_000)

    const huge = frame({ opcode: 1, fin: true, length: 2 ** 40, payload: false })
    expect(WebSocketLimit.meter(65_536)(huge)).toBe(2 ** 40)
  })

  it("a fragmented message is summed over its continuation frames, control frames apart", () => {
    const fragments = concat(
      frame({ opcode: 2, fin: false, length: 400 }),
      frame({ opcode: 10, fin: true, length: 100 }),
      frame({ opcode: 0, fin: false, length: 400 }),
      frame({ opcode: 0, fin: true, length: 400, payload: false })
    )
    expect(WebSocketLimit.meter(1000)(fragments)).toBe(1200)
    // after a message ends, the next one counts from zero
    const two = concat(
      frame({ opcode: 2, fin: false, length: 500 }),
      frame({ opcode: 0, fin: true, length: 500 }),
      frame({ opcode: 1, fin: true, length: 900 })
    )
    expect(WebSocketLimit.meter(1000)(two)).toBeUndefined()
  })
})

const limit = 64 * 1024

// an echo over WebSocket, on the platform's Node server with the limit set on its `http.Server`
const serve = Effect.gen(function*() {
  const refusals: Array<WebSocketLimit.Refusal> = []
  const received: Array<number> = []
  const echo = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = yield* request.upgrade
    const write = yield* socket.writer
    yield* socket.runRaw((data) => {
      received.push(typeof data === "string" ? Buffer.byteLength(data) : data.length)
      return write(data)
    }).pipe(Effect.ignore)
    return HttpServerResponse.empty()
  })
  const server = NodeHttpServer.layer(() => {
    const node = createServer()
    WebSocketLimit.limitFrames(node, limit, { onRefused: (refusal) => refusals.push(refusal) })
    return node
  }, { port: 0, host: "127.0.0.1" })
  const context = yield* Layer.build(
    HttpServer.serve(HttpRouter.empty.pipe(HttpRouter.get("/ws", Effect.scoped(echo)))).pipe(Layer.provideMerge(server))
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  const port = address._tag === "TcpAddress" ? address.port : 0
  return { port, refusals, received }
})

const open = (port: number) =>
  Effect.promise(() =>
    new Promise<WebSocket>((resolve, reject) => {
      const client = new WebSocket(`ws://127.0.0.1:${port}/ws`)
      client.once("open", () => resolve(client))
      client.once("error", reject)
    })
  )

const reply = (client: WebSocket) =>
  Effect.promise(() => new Promise<Buffer>((resolve) => client.once("message", (data) => resolve(data as Buffer))))

const closed = (client: WebSocket) =>
  Effect.promise(() =>
    new Promise<number>((resolve) => {
      client.on("error", () => {})
      client.once("close", (code) => resolve(code))
    })
  )

describe("WebSocketLimit.limitFrames", () => {
  it.live("messages under the limit are echoed, one after another and fragmented", () =>
    Effect.gen(function*() {
      const { port, received, refusals } = yield* serve
      const client = yield* open(port)
      for (const size of [limit - 1024, limit]) {
        const answer = reply(client)
        client.send(Buffer.alloc(size, 7))
        expect((yield* answer).length).toBe(size)
      }
      const answer = reply(client)
      client.send(Buffer.alloc(limit / 2), { fin: false })
      client.send(Buffer.alloc(limit / 2), { fin: true })
      expect((yield* answer).length).toBe(limit)
      expect(received).toEqual([limit - 1024, limit, limit])
      expect(refusals).toEqual([])
      client.close()
    }).pipe(Effect.scoped))

  it.live("a message over the limit closes the connection with no more than the limit read", () =>
    Effect.gen(function*() {
      const { port, received, refusals } = yield* serve
      const client = yield* open(port)
      const code = closed(client)
      client.send(Buffer.alloc(16 * 1024 * 1024))
      expect([1006, 1009]).toContain(yield* code)
      expect(received).toEqual([])
      expect(refusals.map((r) => [r.messageBytes, r.maxBytes])).toEqual([[16 * 1024 * 1024, limit]])
      // the handshake, then at most one read of the payload
      expect(refusals[0]!.bytesRead).toBeLessThanOrEqual(limit + 2048)
    }).pipe(Effect.scoped))

  it.live("fragments each under the limit are summed, and the message refused", () =>
    Effect.gen(function*() {
      const { port, received, refusals } = yield* serve
      const client = yield* open(port)
      const code = closed(client)
      const part = Buffer.alloc(limit / 2 + 1)
      client.send(part, { fin: false })
      client.send(part, { fin: false })
      client.send(part, { fin: true })
      expect([1006, 1009]).toContain(yield* code)
      expect(received).toEqual([])
      expect(refusals.map((r) => r.messageBytes)).toEqual([limit + 2])
    }).pipe(Effect.scoped))

  it.live("frames sent with the upgrade request, before the server takes the socket, still reach it", () =>
    Effect.gen(function*() {
      const { port, received, refusals } = yield* serve
      const payload = new TextEncoder().encode("early")
      const masked = frame({ opcode: 1, fin: true, length: payload.length })
      masked.set(payload.map((byte, i) => byte ^ [1, 2, 3, 4][i % 4]!), masked.length - payload.length)
      const request = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`
      const answer = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          const socket = connect(port, "127.0.0.1", () => {
            socket.write(concat(new TextEncoder().encode(request), masked))
            // and one more right behind, which arrives while the platform is still routing
            socket.write(masked)
          })
          let text = ""
          socket.on("data", (chunk) => {
            text += chunk.toString("latin1")
            if (text.split("early").length === 3) {
              socket.destroy()
              resolve(text)
            }
          })
        })
      )
      expect(answer.startsWith("HTTP/1.1 101")).toBe(true)
      expect(received).toEqual([5, 5])
      expect(refusals).toEqual([])
    }).pipe(Effect.scoped))
})
