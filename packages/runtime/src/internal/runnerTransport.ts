import * as Runners from "@effect/cluster/Runners"
import * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as RpcClient from "@effect/rpc/RpcClient"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { Deferred, Effect, Exit, FiberSet, Layer, Redacted, Runtime, Scope } from "effect"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { SecureChannel } from "./secureChannel.js"

/**
 * The cluster's socket transport, with every connection wrapped in a `SecureChannel`: the client
 * side is the socket the cluster's RPC client runs on, the server side a `SocketServer` that hands
 * the RPC server only connections that have authenticated. Messages inside are the cluster's
 * plain msgpack. With `tls`, connections are mutual TLS first (both certificates checked against
 * the CA) and the channel runs inside.
 */

/** PEM contents of this process's certificate and key, and of the CA that signs the colony's. */
export interface RunnerTls {
  readonly cert: string
  readonly key: string
  readonly ca: string
}

export interface TransportSettings {
  readonly secret: Redacted.Redacted<string>
  readonly tls?: RunnerTls | undefined
}

/** How long opening a connection (TCP, TLS and the handshake) may take before it is retried. */
const OPEN_TIMEOUT = "2 seconds"

/**
 * Runners are one trust domain: any certificate the colony's CA signed is accepted, whatever
 * name or address it carries (advertised addresses are often pod IPs that no certificate names).
 */
const anyNameOfTheCa = () => undefined

type Connection = Net.Socket | Tls.TLSSocket

const openChannel = (
  settings: TransportSettings,
  connect: () => Connection
): Effect.Effect<SecureChannel, Socket.SocketError> =>
  Effect.async<SecureChannel, Socket.SocketError>((resume) => {
    const channel = new SecureChannel(connect(), { role: "client", secret: Redacted.value(settings.secret) })
    channel.ready.then(
      () => resume(Effect.succeed(channel)),
      (cause) => resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause })))
    )
    return Effect.sync(() => channel.destroy())
  })

const dial = (settings: TransportSettings, host: string, port: number) => (): Connection =>
  settings.tls === undefined
    ? Net.createConnection({ host, port, noDelay: true })
    : Tls.connect({
      host,
      port,
      cert: settings.tls.cert,
      key: settings.tls.key,
      ca: settings.tls.ca,
      checkServerIdentity: anyNameOfTheCa
    }).setNoDelay(true)

/**
 * A socket to another runner, authenticated before the cluster sends or reads anything on it.
 * Each `run` (the RPC client reconnects by running again) opens a new connection with its own
 * handshake.
 */
export const makeSocket = (
  settings: TransportSettings,
  address: { readonly host: string; readonly port: number }
): Effect.Effect<Socket.Socket> =>
  NodeSocket.fromDuplex(
    Effect.acquireRelease(
      openChannel(settings, dial(settings, address.host, address.port)),
      (channel) => Effect.sync(() => channel.destroySoon())
    ),
    { openTimeout: OPEN_TIMEOUT }
  )

/**
 * The cluster's client protocol over authenticated sockets (the counterpart of
 * `NodeClusterSocket.layerClientProtocol`).
 */
export const layerClientProtocol = (
  settings: TransportSettings
): Layer.Layer<Runners.RpcClientProtocol, never, RpcSerialization.RpcSerialization> =>
  Layer.effect(
    Runners.RpcClientProtocol,
    Effect.gen(function*() {
      const serialization = yield* RpcSerialization.RpcSerialization
      return Effect.fnUntraced(function*(address) {
        const socket = yield* makeSocket(settings, address)
        return yield* RpcClient.makeProtocolSocket().pipe(
          Effect.provideService(Socket.Socket, socket),
          Effect.provideService(RpcSerialization.RpcSerialization, serialization)
        )
      })
    })
  )

/**
 * A server whose handler sees only connections that completed the handshake; the others are
 * closed by their channel (wrong secret, a replayed or forged handshake, too many bytes, too slow)
 * without reaching the cluster.
 */
export const makeSocketServer = Effect.fnUntraced(function*(
  settings: TransportSettings,
  listen: { readonly host: string; readonly port: number }
) {
  const secret = Redacted.value(settings.secret)
  const server: Net.Server = settings.tls === undefined
    ? Net.createServer({ noDelay: true })
    : Tls.createServer({
      cert: settings.tls.cert,
      key: settings.tls.key,
      ca: settings.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: 5000,
      noDelay: true
    })
  const failed = yield* Deferred.make<never, Error>()
  server.on("error", (cause) => Deferred.unsafeDone(failed, Exit.fail(cause)))

  // Connections that authenticated before `run` was called wait here.
  const waiting: Array<SecureChannel> = []
  let onAuthenticated = (channel: SecureChannel): unknown => waiting.push(channel)
  const open = new Set<SecureChannel>()
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  const onConnection = (socket: Net.Socket) => {
    const channel = new SecureChannel(socket, { role: "server", secret })
    open.add(channel)
    channel.once("close", () => open.delete(channel))
    channel.ready.then(
      () => onAuthenticated(channel),
      (error: Error) =>
        runFork(
          Effect.logDebug(`refused a connection from ${socket.remoteAddress}:${socket.remotePort}: ${error.message}`)
        )
    )
  }
  server.on(settings.tls === undefined ? "connection" : "secureConnection", onConnection)

  // `close` waits for every connection to end: end those still in their handshake or waiting.
  yield* Effect.addFinalizer(() =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
      for (const channel of open) channel.destroySoon()
    })
  )
  yield* Effect.async<void>((resume) => {
    server.listen({ host: listen.host, port: listen.port }, () => resume(Effect.void))
  }).pipe(
    Effect.raceFirst(
      Effect.mapError(Deferred.await(failed), (cause) => new SocketServer.SocketServerError({ reason: "Open", cause }))
    )
  )

  const run = Effect.fnUntraced(function*<R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) {
    const scope = yield* Scope.make()
    const fibers = yield* FiberSet.make().pipe(Scope.extend(scope))
    const fork = yield* FiberSet.runtime(fibers)<R>()
    const serve = (channel: SecureChannel) =>
      fork(
        NodeSocket.fromDuplex(
          Effect.acquireRelease(
            Effect.suspend(() =>
              channel.destroyed
                ? Effect.fail(new Socket.SocketCloseError({ reason: "Close", code: 1000 }))
                : Effect.succeed(channel)
            ),
            (channel) => Effect.sync(() => channel.destroySoon())
          )
        ).pipe(
          Effect.flatMap(handler),
          Effect.catchAllCause((cause) => Effect.logDebug("runner connection ended", cause))
        )
      )
    return yield* Effect.async<never>(() => {
      const previous = onAuthenticated
      onAuthenticated = serve
      waiting.splice(0).forEach(serve)
      return Effect.suspend(() => {
        onAuthenticated = previous
        return Scope.close(scope, Exit.void)
      })
    }).pipe(
      Effect.raceFirst(
        Effect.mapError(Deferred.await(failed), (cause) => new SocketServer.SocketServerError({ reason: "Unknown", cause }))
      )
    )
  })

  const address = server.address() as Net.AddressInfo
  return SocketServer.SocketServer.of({
    address: { _tag: "TcpAddress", hostname: address.address, port: address.port },
    run
  })
})

/** The runner's listening side (the counterpart of `NodeClusterSocket.layerSocketServer`). */
export const layerSocketServer = (
  settings: TransportSettings,
  listen: { readonly host: string; readonly port: number }
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.scoped(SocketServer.SocketServer, makeSocketServer(settings, listen))
