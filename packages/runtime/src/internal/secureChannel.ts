import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto"
import { Duplex } from "node:stream"

/**
 * The channel runners talk over: a stream (TCP or TLS) wrapped so that each side first proves it
 * knows the colony's secret, then every message travels in a frame authenticated for this
 * connection, this direction and this position.
 *
 * Handshake (K is a key derived from the secret, Nc and Ns 32 fresh random bytes):
 *
 * ```text
 * client → server   MAGIC | Nc
 * server → client   Ns | HMAC(K, "server" | Nc | Ns)
 * client → server   HMAC(K, "client" | Ns | Nc)
 * ```
 *
 * Each side derives one key per direction from the secret and both nonces (HKDF-SHA256), so keys
 * differ on every connection. A frame is `[u32 length][HMAC(key, counter | payload)][payload]`,
 * with a per-direction counter that both sides keep and that is never sent. A frame recorded on
 * one connection does not verify on another (other nonces, other keys), nor later on the same
 * connection (another counter), nor in the opposite direction (another key); any frame that does
 * not verify closes the connection. Nothing is decoded or delivered before the handshake is
 * complete, and a peer that has not authenticated may leave at most `MAX_UNAUTHENTICATED` bytes
 * buffered. Received bytes are kept as a list of chunks and copied once per frame.
 *
 * Frames are authenticated, not encrypted: use TLS (`COLONY_RUNNER_TLS_*`) for confidentiality;
 * the handshake then runs inside TLS.
 */

/** The shortest secret accepted: 32 bytes, as many as the HMAC's key. */
export const MIN_SECRET_BYTES = 32

/** Bytes a peer may leave buffered before it has authenticated. */
export const MAX_UNAUTHENTICATED = 4096

/** The largest frame an authenticated peer may send. */
export const MAX_FRAME = 64 * 1024 * 1024

/** How long a connection may take to authenticate. */
export const HANDSHAKE_TIMEOUT_MS = 5000

const MAGIC = Buffer.from("colony-runner/1\n", "latin1")
const NONCE = 32
const MAC = 32
const CLIENT_HELLO = MAGIC.length + NONCE
const SERVER_HELLO = NONCE + MAC
const CLIENT_FINISH = MAC
const FRAME_HEADER = 4 + MAC

/** Why a channel was closed: the peer failed to authenticate or broke the protocol. */
export class ChannelRefused extends Error {
  override readonly name = "ChannelRefused"
}

export interface Options {
  readonly role: "client" | "server"
  readonly secret: string
  readonly maxFrameBytes?: number | undefined
  readonly handshakeTimeoutMs?: number | undefined
}

const hkdf = (secret: Buffer, salt: Buffer, info: string): Buffer =>
  Buffer.from(hkdfSync("sha256", secret, salt, info, 32))

const hmac = (key: Buffer, ...parts: ReadonlyArray<Uint8Array>): Buffer => {
  const mac = createHmac("sha256", key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

const same = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b)

const counterBytes = (counter: number): Buffer => {
  const bytes = Buffer.allocUnsafe(8)
  bytes.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0)
  bytes.writeUInt32BE(counter >>> 0, 4)
  return bytes
}

/**
 * Received bytes not consumed yet, as the chunks they arrived in: a frame is copied out once
 * when it is complete, never the whole backlog on every chunk.
 */
export class Inbox {
  private chunks: Array<Buffer> = []
  private offset = 0
  length = 0

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  /** The first `n` bytes (n ≤ length), without consuming them. */
  peek(n: number): Buffer {
    const first = this.chunks[0]!
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n)
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    for (let i = 0; filled < n; i++) {
      const chunk = this.chunks[i]!
      const from = i === 0 ? this.offset : 0
      filled += chunk.copy(out, filled, from, Math.min(chunk.length, from + n - filled))
    }
    return out
  }

  /** Remove and return the first `n` bytes (n ≤ length). */
  take(n: number): Buffer {
    const out = this.peek(n)
    this.length -= n
    let left = n
    while (left > 0) {
      const available = this.chunks[0]!.length - this.offset
      if (available > left) {
        this.offset += left
        break
      }
      left -= available
      this.chunks.shift()
      this.offset = 0
    }
    return out
  }

  clear(): void {
    this.chunks = []
    this.offset = 0
    this.length = 0
  }
}

type State = "client-hello" | "client-finish" | "server-hello" | "open"

/**
 * A stream over `socket` that authenticates the peer (see the module comment). Its readable side
 * yields one Buffer per frame (object mode); its writable side sends each write as one frame.
 * `ready` settles when the handshake succeeds or fails; only then may the channel be used.
 */
export class SecureChannel extends Duplex {
  readonly ready: Promise<void>
  /** why the channel was closed, when it was closed for a reason */
  failure: Error | undefined

  private readonly socket: Duplex
  private readonly role: "client" | "server"
  private readonly secret: Buffer
  private readonly handshakeKey: Buffer
  private readonly maxFrame: number
  private readonly inbox = new Inbox()
  private readonly timer: ReturnType<typeof setTimeout>
  private state: State
  private clientNonce: Buffer | undefined
  private serverNonce: Buffer | undefined
  private sendKey: Buffer | undefined
  private receiveKey: Buffer | undefined
  private sent = 0
  private received = 0

  constructor(socket: Duplex, options: Options) {
    super({ readableObjectMode: true, allowHalfOpen: false })
    this.socket = socket
    this.role = options.role
    this.secret = Buffer.from(options.secret, "utf8")
    this.handshakeKey = hkdf(this.secret, MAGIC, "handshake")
    this.maxFrame = options.maxFrameBytes ?? MAX_FRAME
    this.state = options.role === "server" ? "client-hello" : "server-hello"
    // The channel's errors reach its user through `ready` and the stream's own listeners; this
    // one keeps an error after the user stopped listening from becoming an uncaught exception.
    this.on("error", (error) => {
      this.failure ??= error
    })
    this.ready = new Promise((resolve, reject) => {
      this.once("secure", resolve)
      this.once("close", () => reject(this.failure ?? new ChannelRefused("the connection closed during the handshake")))
    })
    this.ready.catch(() => {})
    this.timer = setTimeout(
      () => this.refuse("the peer did not authenticate in time"),
      options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS
    )
    socket.on("data", (chunk: Buffer) => this.onData(chunk))
    socket.on("end", () => this.push(null))
    socket.on("error", (error) => this.destroy(error))
    socket.on("close", () => {
      if (!this.destroyed) this.destroy()
    })
    if (this.role === "client") {
      this.clientNonce = randomBytes(NONCE)
      socket.write(Buffer.concat([MAGIC, this.clientNonce]))
    }
  }

  /** Whether the peer has authenticated. */
  get authenticated(): boolean {
    return this.state === "open"
  }

  private refuse(reason: string): void {
    if (this.destroyed) return
    this.inbox.clear()
    this.destroy(new ChannelRefused(reason))
  }

  private onData(chunk: Buffer): void {
    if (this.destroyed) return
    this.inbox.push(chunk)
    try {
      while (this.step()) {
        // each step consumes one handshake message or one frame
      }
    } catch (error) {
      this.refuse(error instanceof Error ? error.message : String(error))
      return
    }
    if (this.state !== "open" && this.inbox.length > MAX_UNAUTHENTICATED) {
      this.refuse(`the peer sent more than ${MAX_UNAUTHENTICATED} bytes without authenticating`)
    }
  }

  /** Consume one complete message from the inbox; false when more bytes are needed. */
  private step(): boolean {
    if (this.destroyed) return false
    switch (this.state) {
      case "client-hello": {
        const prefix = Math.min(this.inbox.length, MAGIC.length)
        if (prefix > 0 && !this.inbox.peek(prefix).equals(MAGIC.subarray(0, prefix))) {
          throw new ChannelRefused("the peer does not speak the colony's runner protocol")
        }
        if (this.inbox.length < CLIENT_HELLO) return false
        this.clientNonce = this.inbox.take(CLIENT_HELLO).subarray(MAGIC.length)
        this.serverNonce = randomBytes(NONCE)
        const proof = hmac(this.handshakeKey, Buffer.from("server"), this.clientNonce, this.serverNonce)
        this.socket.write(Buffer.concat([this.serverNonce, proof]))
        this.state = "client-finish"
        return true
      }
      case "client-finish": {
        if (this.inbox.length < CLIENT_FINISH) return false
        const proof = this.inbox.take(CLIENT_FINISH)
        const expected = hmac(this.handshakeKey, Buffer.from("client"), this.serverNonce!, this.clientNonce!)
        if (!same(proof, expected)) throw new ChannelRefused("the peer does not know the colony's secret")
        this.open()
        return true
      }
      case "server-hello": {
        if (this.inbox.length < SERVER_HELLO) return false
        const hello = this.inbox.take(SERVER_HELLO)
        this.serverNonce = hello.subarray(0, NONCE)
        const expected = hmac(this.handshakeKey, Buffer.from("server"), this.clientNonce!, this.serverNonce)
        if (!same(hello.subarray(NONCE), expected)) {
          throw new ChannelRefused("the peer does not know the colony's secret")
        }
        this.socket.write(hmac(this.handshakeKey, Buffer.from("client"), this.serverNonce, this.clientNonce!))
        this.open()
        return true
      }
      case "open":
        return this.readFrame()
    }
  }

  private open(): void {
    const salt = Buffer.concat([this.clientNonce!, this.serverNonce!])
    const toServer = hkdf(this.secret, salt, "client->server")
    const toClient = hkdf(this.secret, salt, "server->client")
    this.sendKey = this.role === "client" ? toServer : toClient
    this.receiveKey = this.role === "client" ? toClient : toServer
    this.state = "open"
    clearTimeout(this.timer)
    this.emit("secure")
  }

  private readFrame(): boolean {
    if (this.inbox.length < 4) return false
    const length = this.inbox.peek(4).readUInt32BE(0)
    if (length > this.maxFrame) {
      throw new ChannelRefused(`the peer sent a frame of ${length} bytes; the limit is ${this.maxFrame}`)
    }
    if (this.inbox.length < FRAME_HEADER + length) return false
    const header = this.inbox.take(FRAME_HEADER)
    const payload = length === 0 ? Buffer.alloc(0) : this.inbox.take(length)
    const expected = hmac(this.receiveKey!, counterBytes(this.received), payload)
    if (!same(header.subarray(4), expected)) {
      throw new ChannelRefused("a frame did not verify (forged, replayed or out of order)")
    }
    this.received++
    if (!this.push(payload)) this.socket.pause()
    return true
  }

  private frameHeader(payload: Buffer): Buffer {
    const header = Buffer.allocUnsafe(FRAME_HEADER)
    header.writeUInt32BE(payload.length, 0)
    hmac(this.sendKey!, counterBytes(this.sent++), payload).copy(header, 4)
    return header
  }

  private writeFrames(payloads: ReadonlyArray<Buffer>, callback: (error?: Error | null) => void): void {
    if (this.state !== "open") return callback(new ChannelRefused("the channel is not authenticated yet"))
    const tooLarge = payloads.find((payload) => payload.length > this.maxFrame)
    if (tooLarge !== undefined) {
      return callback(new Error(`a frame of ${tooLarge.length} bytes exceeds the ${this.maxFrame}-byte limit`))
    }
    this.socket.cork()
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i]!
      this.socket.write(this.frameHeader(payload))
      if (i === payloads.length - 1) this.socket.write(payload, callback)
      else this.socket.write(payload)
    }
    this.socket.uncork()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeFrames([chunk], callback)
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void
  ): void {
    this.writeFrames(chunks.map(({ chunk }) => chunk), callback)
  }

  override _read(): void {
    this.socket.resume()
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer)
    if (error) this.failure ??= error
    this.socket.destroy()
    callback(error)
  }

  /** Finish sending what is queued, then close. */
  destroySoon(): void {
    if (this.destroyed) return
    if (!this.writable || this.writableEnded) return void this.destroy()
    this.end(() => this.destroy())
  }
}
