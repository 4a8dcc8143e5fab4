/**
 * Where the coordination entities keep their state: lock leases, topic subscriptions, Lamport
 * clocks, two-phase-commit participant records and coordinator decisions. An entity's own memory
 * is rebuilt empty on the runner that takes its shard over — after a crash and after a graceful
 * rebalance alike — and for a short while two instances of the same entity can coexist on two
 * runners. So the state lives here, and every change is a single statement (or an atomic update
 * in memory) whose result decides: acquiring a lease is an `INSERT … ON CONFLICT … WHERE expired
 * RETURNING`, so two owners can never both be granted it, whichever instance asks.
 *
 * `layerMemory` keeps it in the process (the embedded colony: one process, nothing to survive);
 * `layerSql` keeps it in the colony's SQL database (Postgres on runners), with its tables created
 * on first use. `layer` picks the way the runtime's agent memory does: memory in the embedded
 * colony, SQL anywhere else.
 *
 * Lease expiry on SQL uses the database's clock, the one clock every runner shares; in memory it
 * uses the Effect `Clock`, so tests drive it with `TestClock`.
 *
 * @since 0.1.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { Colony, Migrations } from "@colony/runtime"
import { Clock, Config, Context, Effect, Layer, Option, Schema } from "effect"
import * as LeaseRules from "./internal/lease.js"

/**
 * The coordination storage could not be read or written.
 *
 * @since 0.1.0
 * @category errors
 */
export class StorageError extends Schema.TaggedError<StorageError>()("CoordinationStorageError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `coordination storage failed to ${this.operation}: ${this.reason}. Check the colony's database, then retry.`
  }
}

/**
 * A lease as stored.
 *
 * @since 0.1.0
 * @category models
 */
export type LeaseRow = LeaseRules.LeaseFields

/**
 * A topic subscription as stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface SubscriberRow {
  readonly agent: string
  readonly id: string
  readonly via: "TopicMessage" | "Ask"
}

/**
 * What a two-phase-commit participant recorded for one transaction.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParticipantRecord {
  readonly phase: "prepared" | "committed" | "aborted"
  readonly vote: "commit" | "abort"
  readonly reason?: string | undefined
}

/**
 * A coordinator's decision on a transaction, with the votes it rested on.
 *
 * @since 0.1.0
 * @category models
 */
export class DecisionRecord extends Schema.Class<DecisionRecord>("@colony/agents/DecisionRecord")({
  decision: Schema.Literal("committed", "aborted"),
  votes: Schema.Array(Schema.Struct({
    participant: Schema.String,
    vote: Schema.Literal("commit", "abort"),
    reason: Schema.optional(Schema.String)
  }))
}) {}

/**
 * The operations. Each one is atomic; the ones that decide (acquire, renew, release, record a
 * vote, settle, decide) return what was decided, so a caller never reads and writes separately.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** grant the lease unless another owner holds a valid one (then `heldBy`) */
  readonly acquire: (
    name: string,
    owner: string,
    ttlMs: number
  ) => Effect.Effect<{ readonly granted: LeaseRow } | { readonly heldBy: LeaseRow }, StorageError>
  /** extend a lease still in force; `undefined` when it is not */
  readonly renew: (name: string, owner: string, token: number, ttlMs: number) => Effect.Effect<LeaseRow | undefined, StorageError>
  /** end a lease still in force; `false` when it was not */
  readonly release: (name: string, owner: string, token: number) => Effect.Effect<boolean, StorageError>
  readonly holder: (name: string) => Effect.Effect<LeaseRow | undefined, StorageError>
  /** add a subscriber (once); gives the number of subscribers */
  readonly subscribe: (topic: string, subscriber: SubscriberRow) => Effect.Effect<number, StorageError>
  readonly unsubscribe: (topic: string, agent: string, id: string) => Effect.Effect<boolean, StorageError>
  /** in the order they subscribed */
  readonly subscribers: (topic: string) => Effect.Effect<ReadonlyArray<SubscriberRow>, StorageError>
  /** move a Lamport clock past `remote`, then on by `steps`; gives its new time */
  readonly advanceClock: (node: string, remote: number, steps: number) => Effect.Effect<number, StorageError>
  readonly participant: (participant: string, transaction: string) => Effect.Effect<Option.Option<ParticipantRecord>, StorageError>
  /** record a vote unless one is recorded already; gives the recorded one */
  readonly recordVote: (
    participant: string,
    transaction: string,
    record: ParticipantRecord
  ) => Effect.Effect<ParticipantRecord, StorageError>
  /**
   * `committed`: a prepared transaction becomes committed (`undefined` when it was not prepared).
   * `aborted`: anything not committed becomes aborted. Gives the phase the transaction ends in.
   */
  readonly settle: (
    participant: string,
    transaction: string,
    phase: "committed" | "aborted"
  ) => Effect.Effect<"committed" | "aborted" | undefined, StorageError>
  /** record a decision unless one is recorded already; gives the recorded one */
  readonly decide: (transaction: string, record: DecisionRecord) => Effect.Effect<DecisionRecord, StorageError>
  readonly decision: (transaction: string) => Effect.Effect<Option.Option<DecisionRecord>, StorageError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class CoordinationStorage extends Context.Tag("@colony/agents/CoordinationStorage")<CoordinationStorage, Service>() {}

// --- memory ---

/**
 * Coordination state kept in this process: survives passivation and shard moves within the
 * process (there is only one in the embedded colony), not the process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CoordinationStorage> = Layer.sync(CoordinationStorage, () => {
  const locks = new Map<string, LeaseRules.State>()
  const topics = new Map<string, ReadonlyArray<SubscriberRow>>()
  const clocks = new Map<string, number>()
  const participants = new Map<string, ParticipantRecord>()
  const decisions = new Map<string, DecisionRecord>()
  const lockAt = (name: string) => locks.get(name) ?? LeaseRules.empty
  const keyOf = (participant: string, transaction: string) => `${participant}#${transaction}`
  return CoordinationStorage.of({
    acquire: (name, owner, ttlMs) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const outcome = LeaseRules.acquire(lockAt(name), name, owner, now, ttlMs)
        locks.set(name, outcome.state)
        return outcome
      }),
    renew: (name, owner, token, ttlMs) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const next = LeaseRules.renew(lockAt(name), owner, token, now, ttlMs)
        if (next !== undefined) locks.set(name, next)
        return next?.lease
      }),
    release: (name, owner, token) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const next = LeaseRules.release(lockAt(name), owner, token, now)
        if (next !== undefined) locks.set(name, next)
        return next !== undefined
      }),
    holder: (name) => Effect.map(Clock.currentTimeMillis, (now) => LeaseRules.holder(lockAt(name), now)),
    subscribe: (topic, subscriber) =>
      Effect.sync(() => {
        const all = topics.get(topic) ?? []
        const next = all.some((s) => s.agent === subscriber.agent && s.id === subscriber.id) ? all : [...all, subscriber]
        topics.set(topic, next)
        return next.length
      }),
    unsubscribe: (topic, agent, id) =>
      Effect.sync(() => {
        const all = topics.get(topic) ?? []
        const rest = all.filter((s) => s.agent !== agent || s.id !== id)
        topics.set(topic, rest)
        return rest.length < all.length
      }),
    subscribers: (topic) => Effect.sync(() => topics.get(topic) ?? []),
    advanceClock: (node, remote, steps) =>
      Effect.sync(() => {
        const time = Math.max(clocks.get(node) ?? 0, remote) + steps
        clocks.set(node, time)
        return time
      }),
    participant: (participant, transaction) =>
      Effect.sync(() => Option.fromNullable(participants.get(keyOf(participant, transaction)))),
    recordVote: (participant, transaction, record) =>
      Effect.sync(() => {
        const key = keyOf(participant, transaction)
        const known = participants.get(key)
        if (known !== undefined) return known
        participants.set(key, record)
        return record
      }),
    settle: (participant, transaction, phase) =>
      Effect.sync(() => {
        const key = keyOf(participant, transaction)
        const known = participants.get(key)
        if (phase === "committed") {
          if (known === undefined || known.phase === "aborted") return undefined
          participants.set(key, { ...known, phase })
          return phase
        }
        if (known?.phase === "committed") return "committed"
        participants.set(key, { ...(known ?? { vote: "abort", reason: "aborted before prepare" }), phase })
        return phase
      }),
    decide: (transaction, record) =>
      Effect.sync(() => {
        const known = decisions.get(transaction)
        if (known !== undefined) return known
        decisions.set(transaction, record)
        return record
      }),
    decision: (transaction) => Effect.sync(() => Option.fromNullable(decisions.get(transaction)))
  })
})

// --- SQL ---

/**
 * The coordination tables, as versioned migrations recorded in `colony_coordination_migrations`.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrations = Migrations.make("colony_coordination_migrations", {
  // As the tables were created at start before migrations: a database made then migrates in place.
  "1_coordination": Migrations.statements(
    `CREATE TABLE IF NOT EXISTS colony_locks (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      token BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS colony_topic_subscribers (
      topic TEXT NOT NULL,
      agent TEXT NOT NULL,
      id TEXT NOT NULL,
      via TEXT NOT NULL,
      seq BIGSERIAL,
      PRIMARY KEY (topic, agent, id)
    )`,
    `CREATE TABLE IF NOT EXISTS colony_logical_clocks (
      node TEXT PRIMARY KEY,
      time BIGINT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS colony_2pc_participants (
      participant TEXT NOT NULL,
      tx TEXT NOT NULL,
      phase TEXT NOT NULL,
      vote TEXT NOT NULL,
      reason TEXT,
      PRIMARY KEY (participant, tx)
    )`,
    `CREATE TABLE IF NOT EXISTS colony_2pc_decisions (
      tx TEXT PRIMARY KEY,
      decision TEXT NOT NULL,
      votes TEXT NOT NULL,
      decided_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
  )
})

type LeaseSqlRow = { readonly owner: string; readonly token: string | number; readonly expires_at: string | number }
type ParticipantSqlRow = { readonly phase: ParticipantRecord["phase"]; readonly vote: ParticipantRecord["vote"]; readonly reason: string | null }
type DecisionSqlRow = { readonly decision: DecisionRecord["decision"]; readonly votes: string }

const encodeVotes = Schema.encodeSync(Schema.parseJson(DecisionRecord.fields.votes))
const decodeVotes = Schema.decodeUnknownSync(Schema.parseJson(DecisionRecord.fields.votes))

/**
 * Coordination state in the colony's SQL database (Postgres): survives shard moves, crashes and
 * the whole colony restarting, and is shared by every runner.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSql: Layer.Layer<CoordinationStorage, never, SqlClient.SqlClient> = Layer.effect(
  CoordinationStorage,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // the database's clock in epoch milliseconds: the one clock every runner agrees on
    const now = sql.literal("(extract(epoch from now()) * 1000)::bigint")
    const fail = (operation: string) => (error: { readonly message: string }) =>
      new StorageError({ operation, reason: error.message })
    // Migrated on first use, and again after a failure: a runner may start while the database is
    // still coming up.
    const ready = Effect.provideService(Migrations.once(migrations), SqlClient.SqlClient, sql)
    const run = <A>(operation: string, statement: Effect.Effect<A, { readonly message: string }>) =>
      Effect.zipRight(ready, statement).pipe(Effect.mapError(fail(operation)))
    const lease = (name: string, row: LeaseSqlRow): LeaseRow => ({
      name,
      owner: row.owner,
      token: Number(row.token),
      expiresAt: Number(row.expires_at)
    })
    const participant = (row: ParticipantSqlRow): ParticipantRecord => ({
      phase: row.phase,
      vote: row.vote,
      ...(row.reason === null ? {} : { reason: row.reason })
    })
    const decision = (row: DecisionSqlRow) => new DecisionRecord({ decision: row.decision, votes: decodeVotes(row.votes) })
    const holder = (name: string) =>
      Effect.map(
        sql<LeaseSqlRow>`SELECT owner, token, expires_at FROM colony_locks WHERE name = ${name} AND expires_at > ${now}`,
        (rows) => rows[0] === undefined ? undefined : lease(name, rows[0])
      )

    return CoordinationStorage.of({
      // A fresh row's token is the database time; the proposed row (EXCLUDED) carries it into
      // the conflict branch. The WHERE is the whole rule: an expired (or released) lease, or the
      // same owner. A new grant's token passes every earlier one; the holder keeps its token.
      acquire: (name, owner, ttlMs) =>
        run(
          `acquire lock "${name}"`,
          Effect.gen(function*() {
            const ttl = Math.ceil(ttlMs)
            const granted = yield* sql<LeaseSqlRow>`
              INSERT INTO colony_locks AS l (name, owner, token, expires_at)
              VALUES (${name}, ${owner}, ${now}, ${now} + ${ttl}::bigint)
              ON CONFLICT (name) DO UPDATE SET
                owner = EXCLUDED.owner,
                token = CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at > EXCLUDED.token THEN l.token
                             ELSE GREATEST(l.token + 1, EXCLUDED.token) END,
                expires_at = EXCLUDED.expires_at
              WHERE l.expires_at <= EXCLUDED.token OR l.owner = EXCLUDED.owner
              RETURNING owner, token, expires_at`
            if (granted[0] !== undefined) return { granted: lease(name, granted[0]) }
            const heldBy = yield* holder(name)
            // released or expired between the two statements: the lock is free, ask again
            if (heldBy === undefined) return yield* Effect.fail({ message: "the lease changed hands while acquiring; retry" })
            return { heldBy }
          })
        ),
      renew: (name, owner, token, ttlMs) =>
        run(
          `renew lock "${name}"`,
          Effect.map(
            sql<LeaseSqlRow>`
              UPDATE colony_locks SET expires_at = ${now} + ${Math.ceil(ttlMs)}::bigint
              WHERE name = ${name} AND owner = ${owner} AND token = ${token}::bigint AND expires_at > ${now}
              RETURNING owner, token, expires_at`,
            (rows) => rows[0] === undefined ? undefined : lease(name, rows[0])
          )
        ),
      release: (name, owner, token) =>
        run(
          `release lock "${name}"`,
          Effect.map(
            sql`
              UPDATE colony_locks SET expires_at = 0
              WHERE name = ${name} AND owner = ${owner} AND token = ${token}::bigint AND expires_at > ${now}
              RETURNING name`,
            (rows) => rows.length > 0
          )
        ),
      holder: (name) => run(`read lock "${name}"`, holder(name)),
      subscribe: (topic, subscriber) =>
        run(
          `subscribe to topic "${topic}"`,
          Effect.map(
            sql<{ count: string | number }>`
              WITH added AS (
                INSERT INTO colony_topic_subscribers (topic, agent, id, via)
                VALUES (${topic}, ${subscriber.agent}, ${subscriber.id}, ${subscriber.via})
                ON CONFLICT (topic, agent, id) DO NOTHING
                RETURNING 1
              )
              SELECT (SELECT count(*) FROM colony_topic_subscribers WHERE topic = ${topic}) +
                     (SELECT count(*) FROM added) AS count`,
            (rows) => Number(rows[0]!.count)
          )
        ),
      unsubscribe: (topic, agent, id) =>
        run(
          `unsubscribe from topic "${topic}"`,
          Effect.map(
            sql`DELETE FROM colony_topic_subscribers WHERE topic = ${topic} AND agent = ${agent} AND id = ${id} RETURNING 1`,
            (rows) => rows.length > 0
          )
        ),
      subscribers: (topic) =>
        run(
          `read the subscribers of topic "${topic}"`,
          sql<SubscriberRow>`SELECT agent, id, via FROM colony_topic_subscribers WHERE topic = ${topic} ORDER BY seq`
        ),
      advanceClock: (node, remote, steps) =>
        run(
          `advance the clock of ${node}`,
          Effect.map(
            sql<{ time: string | number }>`
              INSERT INTO colony_logical_clocks AS c (node, time) VALUES (${node}, ${Math.floor(remote)}::bigint + ${steps}::bigint)
              ON CONFLICT (node) DO UPDATE SET time = GREATEST(c.time, ${Math.floor(remote)}::bigint) + ${steps}::bigint
              RETURNING time`,
            (rows) => Number(rows[0]!.time)
          )
        ),
      participant: (who, transaction) =>
        run(
          `read ${who}'s record of transaction "${transaction}"`,
          Effect.map(
            sql<ParticipantSqlRow>`SELECT phase, vote, reason FROM colony_2pc_participants WHERE participant = ${who} AND tx = ${transaction}`,
            (rows) => Option.map(Option.fromNullable(rows[0]), participant)
          )
        ),
      // The no-op update makes RETURNING give the row already there: the first vote stands.
      recordVote: (who, transaction, record) =>
        run(
          `record ${who}'s vote on transaction "${transaction}"`,
          Effect.map(
            sql<ParticipantSqlRow>`
              INSERT INTO colony_2pc_participants AS p (participant, tx, phase, vote, reason)
              VALUES (${who}, ${transaction}, ${record.phase}, ${record.vote}, ${record.reason ?? null})
              ON CONFLICT (participant, tx) DO UPDATE SET phase = p.phase
              RETURNING phase, vote, reason`,
            (rows) => participant(rows[0]!)
          )
        ),
      settle: (who, transaction, phase) =>
        run(
          `record that ${who} ${phase} transaction "${transaction}"`,
          phase === "committed"
            ? Effect.map(
              sql<{ phase: "committed" }>`
                UPDATE colony_2pc_participants SET phase = 'committed'
                WHERE participant = ${who} AND tx = ${transaction} AND phase IN ('prepared', 'committed')
                RETURNING phase`,
              (rows) => rows[0]?.phase
            )
            : Effect.map(
              sql<{ phase: "committed" | "aborted" }>`
                INSERT INTO colony_2pc_participants AS p (participant, tx, phase, vote, reason)
                VALUES (${who}, ${transaction}, 'aborted', 'abort', 'aborted before prepare')
                ON CONFLICT (participant, tx) DO UPDATE
                  SET phase = CASE WHEN p.phase = 'committed' THEN p.phase ELSE 'aborted' END
                RETURNING phase`,
              (rows) => rows[0]!.phase
            )
        ),
      decide: (transaction, record) =>
        run(
          `record the decision on transaction "${transaction}"`,
          Effect.map(
            sql<DecisionSqlRow>`
              INSERT INTO colony_2pc_decisions AS d (tx, decision, votes)
              VALUES (${transaction}, ${record.decision}, ${encodeVotes(record.votes)})
              ON CONFLICT (tx) DO UPDATE SET decision = d.decision
              RETURNING decision, votes`,
            (rows) => decision(rows[0]!)
          )
        ),
      decision: (transaction) =>
        run(
          `read the decision on transaction "${transaction}"`,
          Effect.map(
            sql<DecisionSqlRow>`SELECT decision, votes FROM colony_2pc_decisions WHERE tx = ${transaction}`,
            (rows) => Option.map(Option.fromNullable(rows[0]), decision)
          )
        )
    })
  })
)

/**
 * A small pool of its own on the colony's database (`DATABASE_URL`), for a runner whose context
 * does not carry the runtime's `SqlClient`.
 */
const ownPool: Layer.Layer<SqlClient.SqlClient> = PgClient.layerConfig({
  url: Colony.databaseConfig,
  maxConnections: Config.succeed(4)
}).pipe(Layer.orDie)

/**
 * The storage for this process: one already in the context if there is one (a test sharing a
 * store between colonies, a program choosing its own); else in memory in the embedded colony,
 * where there is nothing to survive; else in SQL — through the `SqlClient` in the context if there
 * is one, else through a small pool on `DATABASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CoordinationStorage, never, Colony.Placement> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const given = yield* Effect.serviceOption(CoordinationStorage)
    if (Option.isSome(given)) return Layer.succeed(CoordinationStorage, given.value)
    const sql = yield* Effect.serviceOption(SqlClient.SqlClient)
    if (Option.isSome(sql)) return Layer.provide(layerSql, Layer.succeed(SqlClient.SqlClient, sql.value))
    const placement = yield* Colony.Placement
    return placement.address === "embedded" ? layerMemory : Layer.provide(layerSql, ownPool)
  })
)
