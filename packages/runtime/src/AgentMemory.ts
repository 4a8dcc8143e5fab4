/**
 * Where an agent's conversation memory lives when the agent is not active. An active agent keeps
 * its transcript in the entity; it is loaded from here when the entity starts (first message,
 * reactivation after passivation, restart after a defect, a move to another runner) and written
 * back after every message that changes it.
 *
 * @since 0.1.0
 */
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
  const store = new Map<string, string>()
  return {
    load: (key) => Effect.sync(() => Option.map(Option.fromNullable(store.get(key)), decode)),
    save: (key, transcript) => Effect.sync(() => void store.set(key, encode(transcript))),
    forget: (key) => Effect.sync(() => void store.delete(key))
  }
})
