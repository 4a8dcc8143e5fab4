/**
 * Coordination state in the colony's SQL database (Postgres). Every change is one statement whose
 * result decides, and lease expiry uses the database's clock, the one clock every runner shares.
 */
import type { Fragment } from "@effect/sql/Statement"
import * as SqlClient from "@effect/sql/SqlClient"
import { Migrations } from "@colony/runtime"
import { Effect, Layer, Option, Schema } from "effect"
import { migrations } from "./migrations.js"
import {
  CoordinationStorage,
  DecisionRecord,
  type LeaseRow,
  type ParticipantRecord,
  type Service,
  StorageError,
  type SubscriberRow
} from "./service.js"

type LeaseSqlRow = { readonly owner: string; readonly token: string | number; readonly expires_at: string | number }
type ParticipantSqlRow = { readonly phase: ParticipantRecord["phase"]; readonly vote: ParticipantRecord["vote"]; readonly reason: string | null }
type DecisionSqlRow = { readonly decision: DecisionRecord["decision"]; readonly votes: string }

const encodeVotes = Schema.encodeSync(Schema.parseJson(DecisionRecord.fields.votes))
const decodeVotes = Schema.decodeUnknownSync(Schema.parseJson(DecisionRecord.fields.votes))

/** What every statement of the storage needs: the client, the database's clock, and `run`. */
interface Db {
  readonly sql: SqlClient.SqlClient
  /** the database's clock in epoch milliseconds: the one clock every runner agrees on */
  readonly now: Fragment
  /** migrates first (once), and names the operation in a failure */
  readonly run: <A>(operation: string, statement: Effect.Effect<A, { readonly message: string }>) => Effect.Effect<A, StorageError>
}

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

const leases = ({ now, run, sql }: Db): Pick<Service, "acquire" | "renew" | "release" | "holder"> => {
  const holder = (name: string) =>
    Effect.map(
      sql<LeaseSqlRow>`SELECT owner, token, expires_at FROM colony_locks WHERE name = ${name} AND expires_at > ${now}`,
      (rows) => rows[0] === undefined ? undefined : lease(name, rows[0])
    )
  return {
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
    holder: (name) => run(`read lock "${name}"`, holder(name))
  }
}

const topicsAndClocks = ({ run, sql }: Db): Pick<Service, "subscribe" | "unsubscribe" | "subscribers" | "advanceClock"> => ({
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
    )
})

const participants = ({ run, sql }: Db): Pick<Service, "participant" | "recordVote" | "settle"> => ({
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
    )
})

const decisions = ({ run, sql }: Db): Pick<Service, "decide" | "decision"> => ({
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
    const db: Db = { sql, now, run }
    return CoordinationStorage.of({ ...leases(db), ...topicsAndClocks(db), ...participants(db), ...decisions(db) })
  })
)
