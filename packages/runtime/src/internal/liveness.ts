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
  /** how often the other runners' locks are tested (on this runner's own connection) */
  readonly interval: Duration.Duration
  /** how long a start waits for its address's lock before it goes on without it */
  readonly claimTimeout: Duration.Duration
}

/** A miss is confirmed this soon, not a whole interval later. */
const CONFIRM_AFTER = Duration.millis(150)

/**
 * After its own connection is made (at start, or again after Postgres restarted and dropped every
 * runner's connection at once), a runner marks nobody for this long: the others are reconnecting
 * too, and their locks are briefly missing without their processes being gone.
 */
const RECONNECT_GRACE = Duration.seconds(3)

type Connection = SqlClient.SqlClient extends { readonly reserve: Effect.Effect<infer C, any, any> } ? C : never

/**
 * Every runner watches every other on its own connection, so a saturated query pool never delays
 * the verdict: a registered healthy runner whose lock a transaction-level try can take (no session
 * holds it) is tested again `CONFIRM_AFTER` later and, still free, marked unhealthy. Several
 * runners may mark the same one; the update is idempotent.
 */
const makeCheck = (conn: Connection, settings: LivenessSettings, since: number) => {
  const freeAmong = (addresses: ReadonlyArray<string>) =>
    Effect.map(
      // Succeeds only when no session holds the key, and lets go when the statement ends. (Reading
      // pg_locks instead takes every lock-manager partition.)
      conn.executeValues(
        `SELECT k FROM unnest(ARRAY[${addresses.map(keyOf).join(",")}]::int[]) AS k ` +
          `WHERE pg_try_advisory_xact_lock(${LOCK_CLASS}, k)`,
        []
      ),
      (rows) => {
        const free = new Set(rows.map((row) => Number(row[0])))
        return addresses.filter((address) => free.has(keyOf(address)))
      }
    )
  return Effect.gen(function*() {
    if (Date.now() - since < Duration.toMillis(RECONNECT_GRACE)) return
    const rows = yield* conn.executeValues(`SELECT address FROM ${RUNNERS} WHERE healthy AND address <> $1`, [
      settings.address
    ])
    const others = rows.map((row) => String(row[0]))
    if (others.length === 0) return
    const suspects = yield* freeAmong(others)
    if (suspects.length === 0) return
    yield* Effect.sleep(CONFIRM_AFTER)
    for (const address of yield* freeAmong(suspects)) {
      yield* conn.executeRaw(`UPDATE ${RUNNERS} SET healthy = false WHERE address = $1 AND healthy`, [address])
      yield* Effect.logWarning(
        `Runner ${address} lost its connection to Postgres (its process is gone): marked unhealthy so its shards move now`
      )
    }
  }).pipe(
    // A failed check (the runner table appears only with the cluster's storage) is retried at the
    // next interval; only a connection that no longer answers ends the claim, since this session
    // holds the lock and must not go back to the pool holding it.
    Effect.catchAllCause((cause) =>
      Effect.zipRight(Effect.logDebug("Liveness check failed", cause), conn.executeValues("SELECT 1", []))
    )
  )
}

/**
 * Hold this runner's liveness lock, and watch the others', for as long as the layer lives: a fiber
 * keeps a reserved connection, and when it breaks (Postgres restarted) connects again, takes the
 * lock again and marks this runner healthy, undoing what the others did meanwhile. The layer is
 * built once the lock is first held, so the runner registers only after that.
 */
const holdAndWatch = (settings: LivenessSettings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const key = keyOf(settings.address)
    const held = yield* Deferred.make<void>()
    const claim = Effect.gen(function*() {
      const conn = yield* sql.reserve
      const since = Date.now()
      // a reserved connection goes back to the pool when the claim ends: without the lock
      yield* Effect.addFinalizer(() =>
        conn.executeValues("SELECT pg_advisory_unlock_all()", []).pipe(Effect.ignore)
      )
      const taken = conn.executeValues("SELECT pg_try_advisory_lock($1::int, $2::int)", [LOCK_CLASS, key]).pipe(
        Effect.map((rows) => rows[0]?.[0] === true)
      )
      yield* taken.pipe(Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced(settings.interval) }))
      if (yield* Deferred.isDone(held)) {
        yield* conn.executeRaw(`UPDATE ${RUNNERS} SET healthy = true WHERE address = $1`, [settings.address])
        yield* Effect.logInfo("Liveness lock held again after a lost connection; marked healthy")
      }
      yield* Deferred.succeed(held, undefined)
      // a failing check is a broken connection: the claim ends and starts over on a new one
      return yield* makeCheck(conn, settings, since).pipe(Effect.repeat(Schedule.spaced(settings.interval)))
    }).pipe(Effect.scoped)
    yield* claim.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("Liveness connection lost; connecting again", cause)),
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

/** The liveness lock is held before the layers built on this one start; the watch starts with it. */
export const layer = (settings: LivenessSettings): Layer.Layer<never, never, SqlClient.SqlClient> =>
  Layer.scopedDiscard(holdAndWatch(settings))
