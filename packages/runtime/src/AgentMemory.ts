/**
 * Where an agent's conversation memory lives when the agent is not active. An active agent keeps
 * its transcript in the entity; it is loaded from here when the entity starts (first message,
 * reactivation after passivation, restart after a defect, a move to another runner) and written
 * back after every message that changes it.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { ChatMessage } from "./LanguageModel.js"

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
 * @since 0.1.0
 * @category tags
 */
export class AgentMemory extends Context.Tag("@colony/runtime/AgentMemory")<AgentMemory, {
  readonly load: (key: string) => Effect.Effect<Option.Option<Transcript>, MemoryError>
  readonly save: (key: string, transcript: Transcript) => Effect.Effect<void, MemoryError>
  readonly forget: (key: string) => Effect.Effect<void, MemoryError>
}>() {}

const encode = Schema.encodeSync(Schema.parseJson(Transcript))
const decode = Schema.decodeSync(Schema.parseJson(Transcript))

/**
 * Memory kept in this process: survives passivation and restarts, not the process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<AgentMemory> = Layer.sync(AgentMemory, () => {
  // Transcripts are immutable arrays of immutable messages, so the store can keep them as they are:
  // encoding them on every save would cost time proportional to the history on every message.
  const store = new Map<string, Transcript>()
  return {
    load: (key) => Effect.sync(() => Option.fromNullable(store.get(key))),
    save: (key, transcript) => Effect.sync(() => void store.set(key, transcript)),
    forget: (key) => Effect.sync(() => void store.delete(key))
  }
})

/**
 * Memory in the colony's SQL database (Postgres on runners): survives passivation, restarts, the
 * agent moving to another runner, and the whole colony restarting. One row per agent instance.
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
    // Created on first use, and again after a failure: a runner may start while the database is
    // still coming up, and building the layer must not fail for that.
    let created = false
    const ready = Effect.suspend(() =>
      created ? Effect.void : sql`CREATE TABLE IF NOT EXISTS colony_agent_memory (
        key TEXT PRIMARY KEY,
        transcript TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`.pipe(Effect.tap(() => {
        created = true
      }), Effect.asVoid)
    )
    const withTable = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) =>
      Effect.zipRight(Effect.mapError(ready, fail(key)), effect)
    return {
      load: (key) =>
        withTable(
          key,
          sql<{ transcript: string }>`SELECT transcript FROM colony_agent_memory WHERE key = ${key}`.pipe(
            Effect.mapError(fail(key)),
            Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (row) => decode(row.transcript)))
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
          sql`DELETE FROM colony_agent_memory WHERE key = ${key}`.pipe(Effect.mapError(fail(key)), Effect.asVoid)
        )
    }
  })
)
