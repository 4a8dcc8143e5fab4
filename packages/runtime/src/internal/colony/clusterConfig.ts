/**
 * How a process joins a Postgres-backed colony, read from the environment: the runner secret, its
 * addresses and shard groups, the cluster's timing, mutual TLS between runners, the database.
 */
import { Config, Duration, Effect, Option, type Redacted } from "effect"
import { readFileSync } from "node:fs"
import { createSecureContext } from "node:tls"
import { StartFailed } from "../../ColonyError.js"
import * as Runner from "../runner.js"

/**
 * How a process joins a Postgres-backed colony: the shared secret, where it listens, the address
 * other runners reach it at, its shard groups, the cluster's timing knobs and, optionally, the
 * certificates for mutual TLS between runners.
 *
 * @since 0.1.0
 * @category config
 */
export type ClusterSettings = Runner.ClusterSettings

/**
 * A runner listens where it is reached: on its advertised host unless `COLONY_LISTEN_HOST` says
 * otherwise (never on every interface by default). The advertised port defaults to the listen port.
 */
export const clusterFields = Config.all({
  listenHost: Config.option(Config.string("COLONY_LISTEN_HOST")),
  listenPort: Config.port("COLONY_LISTEN_PORT").pipe(Config.withDefault(34431)),
  advertisedHost: Config.string("COLONY_ADVERTISED_HOST").pipe(Config.withDefault("127.0.0.1")),
  advertisedPort: Config.option(Config.port("COLONY_ADVERTISED_PORT")),
  shardGroups: Config.array(Config.string(), "COLONY_SHARD_GROUPS").pipe(Config.withDefault(["default"])),
  shardsPerGroup: Config.integer("COLONY_SHARDS_PER_GROUP").pipe(Config.withDefault(300)),
  // The cluster gives a lock refresh min(refresh, expiration / 3) to finish and drops every shard
  // of a runner whose refresh misses it: on a busy machine a 500 ms deadline was missed 19-26
  // times in two minutes (bench suite 8), a 2 s one about twice. A dead runner is found through
  // its Postgres connection instead (internal/liveness.ts), so these can be long; the expiration
  // still finds a machine that vanished without closing its connections.
  shardLockRefreshInterval: Config.duration("COLONY_SHARD_LOCK_REFRESH_INTERVAL").pipe(
    Config.withDefault(Duration.seconds(10))
  ),
  shardLockExpiration: Config.duration("COLONY_SHARD_LOCK_EXPIRATION").pipe(Config.withDefault(Duration.seconds(30))),
  livenessInterval: Config.duration("COLONY_LIVENESS_INTERVAL").pipe(Config.withDefault(Duration.millis(500))),
  refreshAssignmentsInterval: Config.duration("COLONY_REFRESH_ASSIGNMENTS_INTERVAL").pipe(
    Config.withDefault(Duration.millis(500))
  ),
  // "ping": runners ping each other; "kubernetes": a runner is alive while its pod (found by the
  // advertised host, the pod IP) is ready or initializing, read from the Kubernetes API.
  runnerHealth: Config.literal("ping", "kubernetes")("COLONY_RUNNER_HEALTH").pipe(Config.withDefault("ping" as const)),
  kubernetesNamespace: Config.option(Config.string("COLONY_KUBERNETES_NAMESPACE")),
  kubernetesLabelSelector: Config.option(Config.string("COLONY_KUBERNETES_LABEL_SELECTOR")),
  runnerHealthCheckInterval: Config.duration("COLONY_HEALTH_CHECK_INTERVAL").pipe(
    Config.withDefault(Duration.seconds(1))
  ),
  // Every runner reads the stored messages of all its shards at this pace; a stored message
  // normally wakes its entity at once, so this is the fallback, and at 500 ms its queries crowded
  // out the lock refreshes under load.
  entityMessagePollInterval: Config.duration("COLONY_MESSAGE_POLL_INTERVAL").pipe(
    Config.withDefault(Duration.seconds(2))
  ),
  // A read mark this old on an undelivered stored message of a held shard is cleared (see
  // internal/staleReads.ts); a message still being handled is only read again and skipped.
  staleReadAfter: Config.duration("COLONY_STALE_READ_AFTER").pipe(Config.withDefault(Duration.seconds(10)))
})

type ClusterFields = Config.Config.Success<typeof clusterFields>

/** Settings from the environment, overridden by explicit ones, then the defaults that depend on others. */
export const resolveFields = (
  fromEnv: ClusterFields,
  explicit: Partial<ClusterSettings> | undefined
): Omit<ClusterSettings, "secret" | "tls"> => {
  const { advertisedPort, kubernetesLabelSelector, kubernetesNamespace, listenHost, ...rest } = fromEnv
  const merged = {
    ...rest,
    kubernetesNamespace: Option.getOrUndefined(kubernetesNamespace),
    kubernetesLabelSelector: Option.getOrUndefined(kubernetesLabelSelector),
    ...explicit
  }
  return {
    ...merged,
    listenHost: explicit?.listenHost ?? Option.getOrElse(listenHost, () => merged.advertisedHost),
    advertisedPort: explicit?.advertisedPort ?? Option.getOrElse(advertisedPort, () => merged.listenPort)
  }
}

const tlsVariables = ["COLONY_RUNNER_TLS_CERT", "COLONY_RUNNER_TLS_KEY", "COLONY_RUNNER_TLS_CA"] as const

/**
 * `COLONY_RUNNER_TLS_CERT`, `COLONY_RUNNER_TLS_KEY`, `COLONY_RUNNER_TLS_CA`: PEM files for mutual
 * TLS between runners. All three or none; the files are read and checked at start.
 */
export const tlsConfig: Effect.Effect<Runner.ClusterSettings["tls"], StartFailed> = Effect.gen(function*() {
  const paths = yield* Effect.mapError(
    Config.all(tlsVariables.map((name) => Config.option(Config.string(name)))),
    (error) => new StartFailed({ reason: `invalid configuration: ${String(error)}` })
  )
  const set = tlsVariables.filter((_, i) => Option.isSome(paths[i]!))
  if (set.length === 0) return undefined
  if (set.length < tlsVariables.length) {
    const unset = tlsVariables.filter((name) => !set.includes(name))
    return yield* new StartFailed({
      reason: `${set.join(" and ")} set but not ${unset.join(" and ")}: mutual TLS between runners needs ` +
        "all three PEM files (this process's certificate and key, and the CA that signs every runner's certificate)"
    })
  }
  const [cert, key, ca] = yield* Effect.forEach(tlsVariables, (name, i) => {
    const path = Option.getOrThrow(paths[i]!)
    return Effect.try({
      try: () => readFileSync(path, "utf8"),
      catch: (error) => new StartFailed({ reason: `cannot read ${name} (${path}): ${(error as Error).message}` })
    })
  })
  const tls = { cert: cert!, key: key!, ca: ca! }
  yield* Effect.try({
    try: () => createSecureContext(tls),
    catch: (error) =>
      new StartFailed({
        reason: `the files of ${tlsVariables.join(", ")} are not a usable certificate, key and CA: ` +
          `${(error as Error).message}`
      })
  })
  return tls
})

/**
 * The cluster settings from the environment. Timing defaults are chosen under load (bench suite 8:
 * 3 runners, 300 conversations, a runner killed every 10 s on 2 cores): a live runner keeps its
 * shards through a busy second, and a dead runner's shards move within seconds (the ping health
 * check finds it at once; its lock expiry after 6 s is the fallback). The TLS files are read when a colony layer
 * starts, not here.
 *
 * @since 0.1.0
 * @category config
 */
export const clusterConfig: Config.Config<ClusterSettings> = Config.map(
  Config.all({
    secret: Config.redacted("COLONY_RUNNER_SECRET").pipe(
      Config.validate({
        message: "COLONY_RUNNER_SECRET must be at least 32 bytes of random data (make one with `openssl rand -hex 32`)",
        validation: (secret) => Runner.secretTooShort(secret) === undefined
      })
    ),
    fields: clusterFields
  }),
  ({ fields, secret }) => ({ ...resolveFields(fields, undefined), secret })
)

/**
 * `DATABASE_URL`: the Postgres database the colony's runners share.
 *
 * @since 0.1.0
 * @category config
 */
export const databaseConfig: Config.Config<Redacted.Redacted<string>> = Config.redacted("DATABASE_URL")
