import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Net from "node:net"
import { Duplex } from "node:stream"
import { ChannelRefused, MAX_UNAUTHENTICATED, SecureChannel } from "../src/internal/secureChannel.js"

const SECRET = "0123456789abcdef0123456789abcdef-colony"
const OTHER = "fedcba9876543210fedcba9876543210-colony"

/**
 * One end of an in-memory connection. Bytes written reach the peer on a later tick, re-cut into
 * pieces of `sizes` (cycled) when set, as TCP may; `tap` sees every write and may keep it back.
 */
class End extends Duplex {
  peer!: End
  sizes: ReadonlyArray<number> | undefined
  tap: ((chunk: Buffer) => boolean) | undefined
  private pending: Array<Buffer> = []
  private cut = 0

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
    if (this.tap === undefined || this.tap(chunk)) this.peer.deliver(chunk)
    callback()
  }
  override _read() {}
  override _final(callback: () => void) {
    setImmediate(() => this.peer.push(null))
    callback()
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    setImmediate(() => this.peer.destroy())
    callback(error)
  }

  /** Bytes from the peer, or from a test impersonating it. */
  deliver(chunk: Buffer) {
    this.pending.push(chunk)
    if (this.pending.length === 1) setImmediate(() => this.flush())
  }

  private flush() {
    const bytes = Buffer.concat(this.pending)
    this.pending = []
    if (this.destroyed) return
    if (this.sizes === undefined || this.sizes.length === 0) return void this.push(bytes)
    for (let at = 0; at < bytes.length;) {
      const size = Math.max(1, this.sizes[this.cut++ % this.sizes.length]!)
      this.push(bytes.subarray(at, at + size))
      at += size
    }
  }
}

const link = (): [End, End] => {
  const client = new End()
  const server = new End()
  client.peer = server
  server.peer = client
  return [client, server]
}

const received = (channel: Duplex): Array<string> => {
  const messages: Array<string> = []
  channel.on("data", (chunk: Buffer) => messages.push(chunk.toString("utf8")))
  return messages
}

/** Resolves true when the channel closes, false if it is still open after a second. */
const closed = (channel: Duplex) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 1000)
    channel.once("close", () => {
      clearTimeout(timer)
      resolve(true)
    })
  })

const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

/** A client and a server channel over an in-memory link, both authenticated. */
const connected = async (options: { readonly sizes?: ReadonlyArray<number> } = {}) => {
  const [clientEnd, serverEnd] = link()
  clientEnd.sizes = options.sizes
  serverEnd.sizes = options.sizes
  const server = new SecureChannel(serverEnd, { role: "server", secret: SECRET })
  const client = new SecureChannel(clientEnd, { role: "client", secret: SECRET })
  await Promise.all([client.ready, server.ready])
  return { client, server, clientEnd, serverEnd }
}

/** Every byte the client side sends on a fresh connection, its handshake included. */
const recordClient = async (messages: ReadonlyArray<string>) => {
  const [clientEnd, serverEnd] = link()
  const wire: Array<Buffer> = []
  clientEnd.tap = (chunk) => {
    wire.push(Buffer.from(chunk))
    return true
  }
  const server = new SecureChannel(serverEnd, { role: "server", secret: SECRET })
  const client = new SecureChannel(clientEnd, { role: "client", secret: SECRET })
  await Promise.all([client.ready, server.ready])
  const handshake = Buffer.concat(wire).length
  const got = received(server)
  for (const message of messages) client.write(message)
  await settle()
  expect(got).toEqual(messages)
  client.destroy()
  const all = Buffer.concat(wire)
  return { all, handshake: all.subarray(0, handshake), frames: all.subarray(handshake) }
}

describe("the runners' secure channel", () => {
  it("messages arrive whole and in order both ways, however the stream cuts the bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.string({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        async (sizes, messages) => {
          const { client, server } = await connected({ sizes })
          const atServer = received(server)
          const atClient = received(client)
          for (const message of messages) client.write(message)
          for (const message of messages) server.write(message.toUpperCase())
          await new Promise((resolve) => setTimeout(resolve, 20))
          expect(atServer).toEqual(messages)
          expect(atClient).toEqual(messages.map((m) => m.toUpperCase()))
          client.destroy()
        }
      ),
      { numRuns: 40 }
    )
  })

  it("a whole recorded connection replayed on a new connection is refused at the handshake", async () => {
    const recording = await recordClient(["refund order 7"])
    const [attacker, serverEnd] = link()
    const server = new SecureChannel(serverEnd, { role: "server", secret: SECRET })
    const got = received(server)
    attacker.on("data", () => {})
    attacker.write(recording.all)
    await expect(server.ready).rejects.toThrow(/does not know the colony's secret/)
    expect(got).toEqual([])
  })

  it("a frame recorded on one connection is refused when injected into another authenticated one", async () => {
    const recording = await recordClient(["refund order 7"])
    const { server, serverEnd } = await connected()
    const got = received(server)
    const closing = closed(server)
    serverEnd.deliver(recording.frames)
    expect(await closing).toBe(true)
    expect(got).toEqual([])
    expect(server.failure).toBeInstanceOf(ChannelRefused)
    expect(server.failure?.message).toMatch(/did not verify/)
  })

  it("frames delivered out of order are refused and the connection closed", async () => {
    const { client, clientEnd, server, serverEnd } = await connected()
    const held: Array<Buffer> = []
    clientEnd.tap = (chunk) => {
      held.push(Buffer.from(chunk))
      return false
    }
    client.write("first")
    client.write("second")
    await settle()
    // header and payload of each frame are separate writes
    expect(held).toHaveLength(4)
    const got = received(server)
    const closing = closed(server)
    serverEnd.deliver(Buffer.concat([held[2]!, held[3]!, held[0]!, held[1]!]))
    expect(await closing).toBe(true)
    expect(got).toEqual([])
  })

  it("a frame is not accepted twice on its own connection", async () => {
    const { client, clientEnd, server, serverEnd } = await connected()
    const sent: Array<Buffer> = []
    clientEnd.tap = (chunk) => {
      sent.push(Buffer.from(chunk))
      return true
    }
    const got = received(server)
    client.write("refund order 7")
    await settle()
    expect(got).toEqual(["refund order 7"])
    const closing = closed(server)
    serverEnd.deliver(Buffer.concat(sent))
    expect(await closing).toBe(true)
    expect(got).toEqual(["refund order 7"])
  })

  it("a frame the client sent, sent back to it as if from the server, is refused", async () => {
    const { client, clientEnd } = await connected()
    const sent: Array<Buffer> = []
    clientEnd.tap = (chunk) => {
      sent.push(Buffer.from(chunk))
      return false
    }
    client.write("hello")
    await settle()
    const got = received(client)
    const closing = closed(client)
    clientEnd.deliver(Buffer.concat(sent))
    expect(await closing).toBe(true)
    expect(got).toEqual([])
    expect(client.failure?.message).toMatch(/did not verify/)
  })

  it("a peer with another secret is refused on both sides and nothing is delivered", async () => {
    const [clientEnd, serverEnd] = link()
    const server = new SecureChannel(serverEnd, { role: "server", secret: SECRET })
    const client = new SecureChannel(clientEnd, { role: "client", secret: OTHER })
    const got = received(server)
    await expect(server.ready).rejects.toThrow()
    await expect(client.ready).rejects.toThrow(/does not know the colony's secret/)
    expect(got).toEqual([])
  })

  it("a server that does not know the secret is refused by the client before it sends anything", async () => {
    const [clientEnd, serverEnd] = link()
    const server = new SecureChannel(serverEnd, { role: "server", secret: OTHER })
    const written: Array<Buffer> = []
    clientEnd.tap = (chunk) => {
      written.push(Buffer.from(chunk))
      return true
    }
    const client = new SecureChannel(clientEnd, { role: "client", secret: SECRET })
    await expect(client.ready).rejects.toThrow(/does not know the colony's secret/)
    await expect(server.ready).rejects.toThrow()
    // only the client's hello went out: no proof a fake server could reuse
    expect(written).toHaveLength(1)
  })

  it("a peer that does not authenticate in time is closed", async () => {
    const [, serverEnd] = link()
    const server = new SecureChannel(serverEnd, { role: "server", secret: SECRET, handshakeTimeoutMs: 50 })
    await expect(server.ready).rejects.toThrow(/did not authenticate in time/)
  })

  it("an authenticated peer announcing a frame over the limit is cut off before it is buffered", async () => {
    const [clientEnd, serverEnd] = link()
    const server = new SecureChannel(serverEnd, { role: "server", secret: SECRET, maxFrameBytes: 1024 })
    const client = new SecureChannel(clientEnd, { role: "client", secret: SECRET })
    await Promise.all([client.ready, server.ready])
    const closing = closed(server)
    const header = Buffer.alloc(36)
    header.writeUInt32BE(100 * 1024 * 1024, 0)
    serverEnd.deliver(header)
    expect(await closing).toBe(true)
    expect(server.failure?.message).toMatch(/frame of 104857600 bytes; the limit is 1024/)
  })

  it("a peer without the secret sending 1 MiB over TCP is cut off after a few KiB", async () => {
    const channels: Array<SecureChannel> = []
    const sockets: Array<Net.Socket> = []
    const tcp = Net.createServer((socket) => {
      sockets.push(socket)
      channels.push(new SecureChannel(socket, { role: "server", secret: SECRET }))
    })
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve))
    const { port } = tcp.address() as Net.AddressInfo
    try {
      for (const opening of [Buffer.from("colony-runner/1\n"), Buffer.from("GET / HTTP/1.1\r\n")]) {
        const attacker = Net.createConnection({ port, host: "127.0.0.1" })
        attacker.on("error", () => {})
        const gone = new Promise<void>((resolve) => attacker.once("close", () => resolve()))
        await new Promise<void>((resolve) => attacker.once("connect", () => resolve()))
        let sent = 0
        const junk = Buffer.alloc(16 * 1024, 0x41)
        attacker.write(opening)
        while (sent < 1024 * 1024 && !attacker.destroyed) {
          await new Promise<void>((resolve) => attacker.write(junk, () => resolve()))
          sent += junk.length
          await new Promise((resolve) => setImmediate(resolve))
        }
        await gone
        const channel = channels.at(-1)!
        await expect(channel.ready).rejects.toBeInstanceOf(ChannelRefused)
        // the runner read at most one socket read's worth and kept none of it
        expect(sockets.at(-1)!.bytesRead).toBeLessThanOrEqual(64 * 1024 + MAX_UNAUTHENTICATED)
        expect(sockets.at(-1)!.destroyed).toBe(true)
      }
    } finally {
      tcp.close()
    }
  })
})
