import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import type * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SocketRunner from "@effect/cluster/SocketRunner"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as SqlClient from "@effect/sql/SqlClient"
import { Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { createHmac } from "node:crypto"
import { RunnerRefused, StartFailed } from "../ColonyError.js"
import * as Migrations from "../Migrations.js"
import { colonyMigrations } from "./colonySchema.js"
import * as Liveness from "./liveness.js"
import * as StaleReads from "./staleReads.js"
import * as RunnerTransport from "./runnerTransport.js"
import { MIN_SECRET_BYTES } from "./secureChannel.js"

/**
 * How a process joins a Postgres-backed colony.
 */
export interface ClusterSettings {
  readonly secret: Redacted.Redacted<string>
  /** mutual TLS between runners: PEM contents of this process's certificate, its key and the CA */
  readonly tls?: RunnerTransport.RunnerTls | undefined
  readonly listenHost: string
  readonly listenPort: number
  readonly advertisedHost: string
  readonly advertisedPort: number
  readonly shardGroups: ReadonlyArray<string>
  readonly shardsPerGroup: number
  readonly shardLockRefreshInterval: Duration.Duration
  readonly shardLockExpiration: Duration.Duration
  readonly refreshAssignmentsInterval: Duration.Duration
  /** how runners tell whether another is alive: pinging it, or asking Kubernetes about its pod */
  readonly runnerHealth: "ping" | "kubernetes"
  readonly kubernetesNamespace?: string | undefined
  readonly kubernetesLabelSelector?: string | undefined
  readonly runnerHealthCheckInterval: Duration.Duration
  readonly entityMessagePollInterval: Duration.Duration
  /** how often a runner checks that the others' processes still hold their Postgres connection */
  readonly livenessInterval: Duration.Duration
  /** a read mark this old on an undelivered stored message of a held shard is cleared */
  readonly staleReadAfter: Duration.Duration
}

/**
 * The sharding configuration is built from our settings only, never from the environment:
 * `ShardingConfig.layerFromEnv` would read generic `HOST`/`PORT` variables into the runner
 * address.
 */
export const shardingConfig = (settings: ClusterSettings): Partial<ShardingConfig.ShardingConfig["Type"]> => ({
  runnerAddress: Option.some(RunnerAddress.make(settings.advertisedHost, settings.advertisedPort)),
  runnerListenAddress: Option.some(RunnerAddress.make(settings.listenHost, settings.listenPort)),
  shardsPerGroup: settings.shardsPerGroup,
  availableShardGroups: [...new Set(["default", ...settings.shardGroups])],
  assignedShardGroups: settings.shardGroups,
  shardLockRefreshInterval: settings.shardLockRefreshInterval,
  shardLockExpiration: settings.shardLockExpiration,
  refreshAssignmentsInterval: settings.refreshAssignmentsInterval,
  runnerHealthCheckInterval: settings.runnerHealthCheckInterval,
  entityMessagePollInterval: settings.entityMessagePollInterval
})

/** An advisory lock id for colony set-up statements (an arbitrary constant). */
const SETUP_LOCK = 7_310_250_001

/**
 * The cluster's storage layers create their tables on first start, and die (not fail) when a
 * concurrent runner wins a race on a CREATE TABLE. Whoever loses retries and finds the tables.
 */
const migrationRetry = Schedule.spaced("250 millis").pipe(Schedule.intersect(Schedule.recurs(20)))

const withSetupRetry = <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  layer.pipe(
    Layer.catchAllCause((cause) => Layer.fail(cause)),
    Layer.retry(migrationRetry),
    Layer.catchAll((cause) => Layer.failCause(cause))
  )

/**
 * The secret keys every runner-to-runner connection; a short one could be guessed from a recorded
 * handshake, so it is refused before anything starts. Undefined when the secret is long enough.
 */
export const secretTooShort = (secret: Redacted.Redacted<string>): string | undefined => {
  const bytes = Buffer.byteLength(Redacted.value(secret), "utf8")
  return bytes >= MIN_SECRET_BYTES ? undefined :
    `COLONY_RUNNER_SECRET is ${bytes} bytes long; it must be at least ${MIN_SECRET_BYTES} bytes of ` +
      "random data, the same on every runner and client. Make one with `openssl rand -hex 32`"
}

export const checkSecret = (secret: Redacted.Redacted<string>): Effect.Effect<void, StartFailed> => {
  const reason = secretTooShort(secret)
  return reason === undefined ? Effect.void : Effect.fail(new StartFailed({ reason }))
}

const verifierOf = (secret: Redacted.Redacted<string>) =>
  createHmac("sha256", Redacted.value(secret)).update("colony-runner-secret-v1").digest("hex")

/**
 * The first process to join records a verifier of the secret (an HMAC, not the secret); every
 * later process must present the same secret or is refused before it registers as a runner.
 * Every connection between runners is authenticated with the secret too (see `secureChannel`), so
 * a process that skipped this check still could not deliver anything.
 */
export const verifySecret = (secret: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const verifier = verifierOf(secret)
    // The colony's tables, the secret's among them, come from its migrations, which runners
    // starting together take in turns (see Migrations.run).
    yield* Migrations.run(colonyMigrations)
    const rows = yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`SELECT pg_advisory_xact_lock(${SETUP_LOCK})`
      yield* sql`INSERT INTO colony_runner_secret (id, verifier) VALUES (1, ${verifier}) ON CONFLICT (id) DO NOTHING`
      // The cluster's migrator creates its bookkeeping table with a check-then-create that races
      // when runners start together; made here, under the lock, it already exists for all of them.
      // (Same definition as @effect/sql's Migrator for Postgres.)
      yield* sql`CREATE TABLE IF NOT EXISTS cluster_migrations (
        migration_id integer primary key,
        created_at timestamp with time zone not null default now(),
        name text not null
      )`
      return yield* sql<{ verifier: string }>`SELECT verifier FROM colony_runner_secret WHERE id = 1`
    }))
    if (rows[0]?.verifier !== verifier) {
      return yield* new RunnerRefused({
        reason: "its COLONY_RUNNER_SECRET does not match the secret the colony's runners share. " +
          "Start it with the same COLONY_RUNNER_SECRET as the other runners"
      })
    }
  }).pipe(
    Effect.catchTags({
      SqlError: (error) =>
        Effect.fail(
          new RunnerRefused({ reason: `could not check the runner secret in the database: ${error.message}` })
        ),
      MigrationError: (error) =>
        Effect.fail(
          new RunnerRefused({ reason: `could not migrate the colony's tables in the database: ${error.message}` })
        )
    })
  )

/**
 * The cluster layers of a runner (hosts agents) or a client-only process, on Postgres storage
 * and the socket transport over authenticated channels (optionally inside mutual TLS).
 */
export const layer = (
  settings: ClusterSettings,
  options: { readonly clientOnly: boolean }
): Layer.Layer<
  Sharding.Sharding | Runners.Runners | MessageStorage.MessageStorage,
  RunnerRefused,
  SqlClient.SqlClient
> => {
  const clientProtocol = RunnerTransport.layerClientProtocol(settings)
  const socketServer = RunnerTransport.layerSocketServer(settings, {
    host: settings.listenHost,
    port: settings.listenPort
  })
  const transport = options.clientOnly
    ? Layer.provide(SocketRunner.layerClientOnly, clientProtocol)
    : Layer.provide(SocketRunner.layer, [socketServer, clientProtocol])
  const health = options.clientOnly
    ? Layer.empty
    : settings.runnerHealth === "kubernetes"
    ? RunnerHealth.layerK8s({
      namespace: settings.kubernetesNamespace,
      labelSelector: settings.kubernetesLabelSelector
    }).pipe(Layer.provide(NodeClusterSocket.layerK8sHttpClient))
    : RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(clientProtocol))
  const cluster = (transport as Layer.Layer<Sharding.Sharding | Runners.Runners, never, any>).pipe(
    Layer.provide(health),
    Layer.provideMerge(Layer.orDie(withSetupRetry(SqlMessageStorage.layer))),
    Layer.provide(Layer.orDie(withSetupRetry(SqlRunnerStorage.layer))),
    Layer.provide(ShardingConfig.layer(shardingConfig(settings))),
    Layer.provide(RpcSerialization.layerMsgPack)
  ) as Layer.Layer<Sharding.Sharding | Runners.Runners | MessageStorage.MessageStorage, never, SqlClient.SqlClient>
  // A runner takes its liveness lock before it registers, so no other runner ever sees it
  // registered without the lock and marks it dead.
  const hosted = options.clientOnly ? cluster : StaleReads.layer({
    shardGroups: settings.shardGroups,
    shardsPerGroup: settings.shardsPerGroup,
    olderThan: settings.staleReadAfter,
    every: Duration.seconds(5)
  }).pipe(
    Layer.provideMerge(cluster),
    Layer.provide(Liveness.layer({
      address: `${settings.advertisedHost}:${settings.advertisedPort}`,
      interval: settings.livenessInterval,
      claimTimeout: Duration.seconds(10)
    }))
  )
  // A runner that cannot listen (port taken) is a configuration error the user must see, not a
  // defect; the secret check runs first so a refused process never registers.
  return Layer.unwrapEffect(Effect.as(verifySecret(settings.secret), hosted)).pipe(
    Layer.catchAll((error) =>
      Layer.fail(
        error instanceof RunnerRefused ? error : new RunnerRefused({ reason: String((error as Error).message ?? error) })
      )
    )
  )
}
