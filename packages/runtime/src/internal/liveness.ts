/**
 * A runner's liveness as Postgres sees it.
 *
 * The cluster learns that a runner died only when its heartbeat is older than the shard lock
 * expiration, and it drops every shard of a live runner whose lock refresh misses
 * min(refresh, expiration / 3). Short timings give fast failover and make busy runners lose their
 * shards; long ones keep the shards and make failover slow. Postgres already knows the answer
 * sooner: a process that dies closes its connections, and the server frees that session's advisory
 * locks at once. So each runner holds one advisory lock named after its address on a connection of
 * its own, and every runner marks a registered runner whose lock is gone as unhealthy — the
 * cluster's own signal, which takes it out of every hash ring at the next assignment refresh. The
 * lock timings can then be long enough for a busy machine.
 *
 * A machine that vanishes without closing its connections (power, network) is still found by the
 * heartbeat, after the expiration.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Deferred, Duration, Effect, Layer, Schedule } from "effect"
import { createHash } from "node:crypto"

/** First key of the two-key advisory lock space: the cluster's shard locks use the one-key space. */
export const LOCK_CLASS = 7_310_250

/** The second key: a 31-bit hash of the runner's address (a collision only delays detection). */
export const keyOf = (address: string): number =>
  createHash("sha256").update(address).digest().readUInt32BE(0) & 0x7fffffff

/** The cluster's runner table (`SqlRunnerStorage` with its default prefix). */
const RUNNERS = "cluster_runners"

export interface LivenessSettings {
  readonly address: string
  /** how often the lock connection is checked and the other runners' locks are read */
  readonly interval: Duration.Duration
  /** how long a start waits for its address's lock before it goes on without it */
  readonly claimTimeout: Duration.Duration
}

/**
 * Hold this runner's liveness lock for as long as the layer lives: a fiber keeps a reserved
 * connection, checks it every interval, and when it breaks (Postgres restarted) connects again,
 * takes the lock again and marks this runner healthy, undoing what the other runners did meanwhile.
 * The layer is built once the lock is first held, so the runner registers only after that.
 */
const hold = (settings: LivenessSettings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const key = keyOf(settings.address)
    const held = yield* Deferred.make<void>()
    const claim = Effect.gen(function*() {
      const conn = yield* sql.reserve
      const taken = conn.executeValues("SELECT pg_try_advisory_lock($1::int, $2::int)", [LOCK_CLASS, key]).pipe(
        Effect.map((rows) => rows[0]?.[0] === true)
      )
      yield* taken.pipe(Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced(settings.interval) }))
      if (yield* Deferred.isDone(held)) {
        yield* sql`UPDATE ${sql(RUNNERS)} SET healthy = true WHERE address = ${settings.address}`
        yield* Effect.logInfo("Liveness lock held again after a lost connection; marked healthy")
      }
      yield* Deferred.succeed(held, undefined)
      return yield* conn.executeValues("SELECT 1", []).pipe(Effect.repeat(Schedule.spaced(settings.interval)))
    }).pipe(Effect.scoped)
    yield* claim.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("Liveness lock connection lost; connecting again", cause)),
      Effect.repeat(Schedule.spaced(settings.interval)),
      Effect.forkScoped
    )
    // A process still holding the lock is a second runner with this address, or a crashed
    // machine's connection Postgres has not dropped yet: start anyway, unhealthy until it is gone.
    yield* Deferred.await(held).pipe(
      Effect.timeoutFail({ duration: settings.claimTimeout, onTimeout: () => "not held" as const }),
      Effect.catchAll(() =>
        Effect.logError(
          `Another process holds the liveness lock of ${settings.address}: this runner gets shards only once ` +
            "it is gone. If two runners share this address, give each its own COLONY_ADVERTISED_HOST / " +
            "COLONY_ADVERTISED_PORT"
        )
      )
    )
  })

/**
 * Every runner watches every other: a healthy registered runner whose liveness lock is missing on
 * two checks in a row (one miss can be a runner reconnecting after a Postgres restart) is marked
 * unhealthy. Several runners may mark the same one; the update is idempotent.
 */
const watch = (settings: LivenessSettings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    let suspected = new Set<string>()
    const check = Effect.gen(function*() {
      const runners = yield* sql<{ address: string }>`SELECT address FROM ${sql(RUNNERS)} WHERE healthy`
      if (runners.length === 0) return
      const others = runners.filter(({ address }) => address !== settings.address)
      if (others.length === 0) return
      // A transaction-level try on a runner's key succeeds only when no session holds it, and lets
      // go when the statement ends. (Reading pg_locks instead takes every lock-manager partition.)
      const keys = others.map(({ address }) => keyOf(address))
      const free = yield* sql<{ key: number }>`
        SELECT k AS key FROM unnest(ARRAY[${sql.literal(keys.join(","))}]::int[]) AS k
        WHERE pg_try_advisory_xact_lock(${LOCK_CLASS}, k)`
      const dead = new Set(free.map((row) => Number(row.key)))
      const missing = new Set<string>()
      for (const { address } of others) {
        if (!dead.has(keyOf(address))) continue
        missing.add(address)
        if (!suspected.has(address)) continue
        yield* sql`UPDATE ${sql(RUNNERS)} SET healthy = false WHERE address = ${address} AND healthy`
        yield* Effect.logWarning(
          `Runner ${address} lost its connection to Postgres (its process is gone): marked unhealthy so its shards move now`
        )
      }
      suspected = missing
    })
    yield* check.pipe(
      // the runner table appears with the cluster's storage; until then there is nothing to watch
      Effect.catchAllCause((cause) => Effect.logDebug("Liveness check failed", cause)),
      Effect.repeat(Schedule.spaced(settings.interval)),
      Effect.forkScoped
    )
  })

/** The liveness lock is held before the layers built on this one start; the watch starts with it. */
export const layer = (settings: LivenessSettings): Layer.Layer<never, never, SqlClient.SqlClient> =>
  Layer.scopedDiscard(Effect.zipRight(hold(settings), watch(settings)))
