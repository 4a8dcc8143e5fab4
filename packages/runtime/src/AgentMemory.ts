/**
 * Where an agent's conversation memory lives when the agent is not active. An active agent keeps
 * its transcript in the entity; it is loaded from here when the entity starts (first message,
 * reactivation after passivation, restart after a defect, a move to another runner) and written
 * back after every message that changes it.
 *
 * For durable agents it also keeps each message's progress, so a message replayed after a crash
 * repeats nothing: the steps a message completed (model calls that asked for tools, tool results)
 * are recorded by (agent, message id, step), and a message's turn is committed once: its answer
 * is kept under the message id and its exchange appended to the transcript in one transaction. A
 * replay finds the answer and returns it instead of answering again.
 *
 * A stored transcript that no longer decodes (the message schema changed between deploys) is moved
 * aside to a quarantine for an operator, and the agent refuses messages with `MemoryUnreadable`
 * until it is sent `Forget` (which starts it afresh and leaves the quarantined row in place).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Either, Layer, Option, ParseResult, Schema } from "effect"
import { colonyMigrations } from "./internal/colonySchema.js"
import { ChatMessage } from "./LanguageModel.js"
import * as Migrations from "./Migrations.js"

/**
 * A transcript as stored: the encoded form, so every store keeps exactly what crosses a process
 * boundary.
 *
 * @since 0.1.0
 */
export const Transcript = Schema.Array(ChatMessage)

/**
 * @since 0.1.0
 */
export type Transcript = typeof Transcript.Type

/**
 * A store failure: the memory could not be read or written.
 *
 * @since 0.1.0
 * @category errors
 */
export class MemoryError extends Schema.TaggedError<MemoryError>()("MemoryError", {
  key: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `agent memory for ${this.key} is unavailable: ${this.reason}. Check the colony's storage.`
  }
}

/**
 * An agent's stored memory no longer decodes (the message schema changed between deploys). The
 * row was moved to `colony_agent_memory_quarantine` (its `id` is `quarantineId`), where an
 * operator can repair it; until then the agent refuses messages with this error. Sending the
 * agent `Forget` starts it afresh with an empty memory and leaves the quarantined row in place.
 *
 * @since 0.1.0
 * @category errors
 */
export class MemoryUnreadable extends Schema.TaggedError<MemoryUnreadable>()("MemoryUnreadable", {
  agent: Schema.String,
  id: Schema.String,
  /** the memory row's key ("agent/id") */
  key: Schema.String,
  /** the row's id in `colony_agent_memory_quarantine` */
  quarantineId: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return `the stored memory of agent ${this.agent}/${this.id} (row "${this.key}") no longer decodes: ` +
      `${this.reason}. It was moved to colony_agent_memory_quarantine (id ${this.quarantineId}) and the agent ` +
      `refuses messages until then. Repair the row and move it back to colony_agent_memory, or send the ` +
      `agent Forget to start it with an empty memory.`
  }
}

/**
 * What a durable message has done so far: the steps it completed, each by its name within the
 * message (`model-1`, `tool-1`, ...) with its encoded result, and its answer once its turn is
 * committed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly answer: Option.Option<string>
  readonly steps: ReadonlyMap<string, string>
}

/**
 * One message's turn: the messages it adds to the transcript and its encoded answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Turn {
  readonly messageId: string
  readonly messages: Transcript
  readonly answer: string
  /** the transcript is trimmed to its last `limit` messages */
  readonly limit: number
}

/**
 * The result of committing a turn: the answer and transcript as stored. `fresh` is false when the
 * message's turn had been committed before, in which case `answer` is the one stored then.
 *
 * @since 0.1.0
 * @category models
 */
export interface Committed {
  readonly answer: string
  readonly transcript: Transcript
  readonly fresh: boolean
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AgentMemory extends Context.Tag("@colony/runtime/AgentMemory")<AgentMemory, {
  readonly load: (key: string) => Effect.Effect<Option.Option<Transcript>, MemoryError | MemoryUnreadable>
  readonly save: (key: string, transcript: Transcript) => Effect.Effect<void, MemoryError>
  /** clear the memory; a quarantined row is released (kept, no longer blocking the agent) */
  readonly forget: (key: string) => Effect.Effect<void, MemoryError>
  readonly progress: (key: string, messageId: string) => Effect.Effect<Progress, MemoryError>
  /** record a completed step of a message; a step recorded before keeps its first result */
  readonly recordStep: (key: string, messageId: string, step: string, value: string) => Effect.Effect<void, MemoryError>
  /**
   * Commit a message's turn, once per (key, message id): keep its answer, append its messages to
   * the stored transcript, and drop its step records.
   */
  readonly commitTurn: (key: string, turn: Turn) => Effect.Effect<Committed, MemoryError | MemoryUnreadable>
}>() {}

const encode = Schema.encodeSync(Schema.parseJson(Transcript))
const decode = Schema.decodeEither(Schema.parseJson(Transcript))

const trim = (transcript: Transcript, limit: number): Transcript =>
  transcript.length > limit ? transcript.slice(transcript.length - limit) : transcript

const addressOf = (key: string) => {
  const slash = key.indexOf("/")
  return slash < 0 ? { agent: key, id: "" } : { agent: key.slice(0, slash), id: key.slice(slash + 1) }
}

/** How many committed answers the in-process store keeps (the oldest go first). */
const answersKept = 10_000

/**
 * How many agent instances' transcripts `layerMemory` keeps unless told otherwise. Each request to
 * the OpenAI-compatible endpoint without a `user` starts a new conversation, so without a bound the
 * store would grow for as long as the process runs.
 *
 * @since 0.1.0
 */
export const transcriptsKept = 10_000

/**
 * Memory kept in this process: survives passivation and restarts, not the process. It keeps the
 * transcripts of the `transcripts` (default `transcriptsKept`) most recently used agent instances;
 * the least recently used is dropped when another is added, and that instance starts again with an
 * empty memory, as it would after the process restarted. An instance active at the time keeps the
 * transcript it holds and stores it again with its next message, unless its memory is durable, in
 * which case its next message is appended to an empty transcript.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemoryWith = (
  options: { readonly transcripts?: number | undefined } = {}
): Layer.Layer<AgentMemory> =>
  Layer.sync(AgentMemory, () => {
    const limit = options.transcripts ?? transcriptsKept
    // Transcripts are immutable arrays of immutable messages, so the store can keep them as they are:
    // encoding them on every save would cost time proportional to the history on every message.
    // Map iteration order is insertion order: re-inserting a key on each use keeps the least
    // recently used first, which is the one to drop.
    const store = new Map<string, Transcript>()
    const steps = new Map<string, Map<string, string>>()
    const answers = new Map<string, string>()
    const slot = (key: string, messageId: string) => `${key}\u0000${messageId}`
    const keep = (key: string, transcript: Transcript) => {
      store.delete(key)
      store.set(key, transcript)
      if (store.size > limit) store.delete(store.keys().next().value!)
    }
    const get = (key: string) => {
      const transcript = store.get(key)
      if (transcript !== undefined) keep(key, transcript)
      return transcript
    }
    return {
      load: (key) => Effect.sync(() => Option.fromNullable(get(key))),
      save: (key, transcript) => Effect.sync(() => keep(key, transcript)),
      forget: (key) => Effect.sync(() => void store.delete(key)),
      progress: (key, messageId) =>
        Effect.sync(() => ({
          answer: Option.fromNullable(answers.get(slot(key, messageId))),
          steps: new Map(steps.get(slot(key, messageId)))
        })),
      recordStep: (key, messageId, step, value) =>
        Effect.sync(() => {
          const recorded = steps.get(slot(key, messageId)) ?? new Map<string, string>()
          steps.set(slot(key, messageId), recorded)
          if (!recorded.has(step)) recorded.set(step, value)
        }),
      commitTurn: (key, turn) =>
        Effect.sync(() => {
          const at = slot(key, turn.messageId)
          const earlier = answers.get(at)
          if (earlier !== undefined) return { answer: earlier, transcript: get(key) ?? [], fresh: false }
          const transcript = trim([...(store.get(key) ?? []), ...turn.messages], turn.limit)
          keep(key, transcript)
          answers.set(at, turn.answer)
          steps.delete(at)
          if (answers.size > answersKept) answers.delete(answers.keys().next().value!)
          return { answer: turn.answer, transcript, fresh: true }
        })
    }
  })

/**
 * `layerMemoryWith` with its defaults: the transcripts of the `transcriptsKept` most recently used
 * agent instances.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<AgentMemory> = layerMemoryWith()

/**
 * Memory in the colony's SQL database (Postgres on runners): survives passivation, restarts, the
 * agent moving to another runner, and the whole colony restarting.
 *
 * Tables: `colony_agent_memory` (one row per agent instance: its transcript),
 * `colony_agent_steps` (keyed by agent, message id and step: the completed steps of a durable
 * message in progress, and each committed message's answer, kept 7 days), and
 * `colony_agent_memory_quarantine` (transcripts that no longer decode, for an operator); made by
 * the versioned migrations recorded in `colony_migrations` (see `Migrations`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSql: Layer.Layer<AgentMemory, never, SqlClient.SqlClient> = Layer.effect(
  AgentMemory,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const fail = (key: string) => (error: { readonly message: string }) =>
      new MemoryError({ key, reason: error.message })
    // Migrated on first use, and again after a failure: a runner may start while the database is
    // still coming up, and building the layer must not fail for that.
    const ready = Effect.provideService(Migrations.once(colonyMigrations), SqlClient.SqlClient, sql)
    const withTable = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) =>
      Effect.zipRight(Effect.mapError(ready, fail(key)), effect)

    const unreadable = (key: string, quarantineId: number, reason: string) =>
      new MemoryUnreadable({ ...addressOf(key), key, quarantineId, reason: reason.slice(0, 500) })

    // Moves the row aside in one statement, so a row is never both in memory and quarantined.
    const quarantine = (key: string, reason: string) =>
      sql<{ id: string }>`WITH moved AS (DELETE FROM colony_agent_memory WHERE key = ${key} RETURNING key, transcript)
        INSERT INTO colony_agent_memory_quarantine (key, transcript, reason)
        SELECT key, transcript, ${reason} FROM moved RETURNING id`.pipe(
        Effect.mapError(fail(key)),
        Effect.flatMap((rows) => Effect.fail(unreadable(key, Number(rows[0]?.id ?? 0), reason)))
      )

    const decodeStored = (key: string, stored: string) =>
      Either.match(decode(stored), {
        onLeft: (error) => quarantine(key, ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s*\n\s*/g, " ")),
        onRight: Effect.succeed
      })

    return {
      load: (key) =>
        withTable(
          key,
          sql<{ source: string; value: string; id: string | null }>`
            (SELECT 'quarantine' AS source, reason AS value, id::text AS id FROM colony_agent_memory_quarantine
              WHERE key = ${key} AND released_at IS NULL ORDER BY id DESC LIMIT 1)
            UNION ALL
            SELECT 'memory', transcript, NULL FROM colony_agent_memory WHERE key = ${key}`.pipe(
            Effect.mapError(fail(key)),
            Effect.flatMap((rows): Effect.Effect<Option.Option<Transcript>, MemoryError | MemoryUnreadable> => {
              const quarantined = rows.find((row) => row.source === "quarantine")
              if (quarantined !== undefined) return Effect.fail(unreadable(key, Number(quarantined.id), quarantined.value))
              const stored = rows[0]
              return stored === undefined ? Effect.succeedNone : Effect.asSome(decodeStored(key, stored.value))
            })
          )
        ),
      save: (key, transcript) =>
        withTable(
          key,
          sql`INSERT INTO colony_agent_memory (key, transcript) VALUES (${key}, ${encode(transcript)})
            ON CONFLICT (key) DO UPDATE SET transcript = EXCLUDED.transcript, updated_at = now()`.pipe(
            Effect.mapError(fail(key)),
            Effect.asVoid
          )
        ),
      forget: (key) =>
        withTable(
          key,
          sql.withTransaction(Effect.all([
            sql`DELETE FROM colony_agent_memory WHERE key = ${key}`,
            sql`UPDATE colony_agent_memory_quarantine SET released_at = now() WHERE key = ${key} AND released_at IS NULL`
          ], { discard: true })).pipe(Effect.mapError(fail(key)))
        ),
      progress: (key, messageId) =>
        withTable(
          key,
          sql<{ step: string; value: string }>`SELECT step, value FROM colony_agent_steps
            WHERE key = ${key} AND message_id = ${messageId}`.pipe(
            Effect.mapError(fail(key)),
            Effect.map((rows) => {
              const steps = new Map(rows.map((row) => [row.step, row.value] as const))
              const answer = Option.fromNullable(steps.get(answerStep))
              steps.delete(answerStep)
              return { answer, steps }
            })
          )
        ),
      recordStep: (key, messageId, step, value) =>
        withTable(
          key,
          sql`INSERT INTO colony_agent_steps (key, message_id, step, value)
            VALUES (${key}, ${messageId}, ${step}, ${value}) ON CONFLICT DO NOTHING`.pipe(
            Effect.mapError(fail(key)),
            Effect.asVoid
          )
        ),
      commitTurn: (key, turn) =>
        withTable(
          key,
          sql.withTransaction(Effect.gen(function*() {
            const claimed = yield* sql`INSERT INTO colony_agent_steps (key, message_id, step, value)
              VALUES (${key}, ${turn.messageId}, ${answerStep}, ${turn.answer}) ON CONFLICT DO NOTHING RETURNING step`
            // the upsert locks the transcript's row (creating it if need be) until the commit
            const [locked] = yield* sql<{ transcript: string }>`INSERT INTO colony_agent_memory (key, transcript)
              VALUES (${key}, '[]') ON CONFLICT (key) DO UPDATE SET updated_at = now() RETURNING transcript`
            const stored = yield* decodeStored(key, locked!.transcript)
            if (claimed.length === 0) {
              const [earlier] = yield* sql<{ value: string }>`SELECT value FROM colony_agent_steps
                WHERE key = ${key} AND message_id = ${turn.messageId} AND step = ${answerStep}`
              return { answer: earlier!.value, transcript: stored, fresh: false }
            }
            const transcript = trim([...stored, ...turn.messages], turn.limit)
            yield* sql`UPDATE colony_agent_memory SET transcript = ${encode(transcript)} WHERE key = ${key}`
            yield* sql`DELETE FROM colony_agent_steps WHERE key = ${key} AND (
              (message_id = ${turn.messageId} AND step <> ${answerStep}) OR
              (step = ${answerStep} AND created_at < now() - interval '7 days'))`
            return { answer: turn.answer, transcript, fresh: true }
          })).pipe(
            Effect.catchTag("SqlError", (error) => Effect.fail(fail(key)(error)))
          )
        )
    }
  })
)

const answerStep = "answer"
