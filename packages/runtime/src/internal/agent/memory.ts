/**
 * An instance's conversation memory: loaded when the instance is built, kept in memory between
 * messages, and stored again on every change.
 */
import { Effect, Either, Option, Ref, Schedule } from "effect"
import { AgentFailed } from "../../AgentError.js"
import type { AgentMemory, MemoryUnreadable, Transcript } from "../../AgentMemory.js"
import type { Instance } from "./context.js"

/** How the memory store is retried: quickly at first, then every few seconds. */
export const memoryRetry = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds"))
)

const trim = (transcript: Transcript, limit: number): Transcript =>
  transcript.length > limit ? transcript.slice(transcript.length - limit) : transcript

/**
 * The memory of one instance. `unreadable` holds the reason while the stored memory does not
 * decode; `refusal` is how the instance then answers a message.
 */
export interface InstanceMemory {
  readonly store: AgentMemory["Type"]
  readonly transcript: Ref.Ref<Transcript>
  readonly unreadable: Ref.Ref<Option.Option<MemoryUnreadable>>
  readonly remember: (transcript: Transcript) => Effect.Effect<void>
  readonly forget: Effect.Effect<void>
  readonly refusal: (rpc: string, error: MemoryUnreadable) => AgentFailed
}

/**
 * Load the instance's memory. Storage trouble must not kill the entity build, so the load waits
 * for storage with its own backoff. Memory that no longer decodes is not retried: it was moved
 * aside, and the agent refuses messages (but Forget) until an operator repairs it or Forget
 * starts it afresh.
 */
export const loadMemory = (store: AgentMemory["Type"], instance: Instance): Effect.Effect<InstanceMemory> =>
  Effect.gen(function*() {
    const { def, id, key } = instance
    const loaded = yield* store.load(key).pipe(
      Effect.tapError((error) => Effect.logWarning(error.message)),
      Effect.retry({ schedule: memoryRetry, while: (error) => error._tag === "MemoryError" }),
      Effect.either
    )
    if (Either.isLeft(loaded) && loaded.left._tag === "MemoryError") return yield* Effect.die(loaded.left)
    const unreadable = yield* Ref.make(Either.isLeft(loaded) ? Option.some(loaded.left as MemoryUnreadable) : Option.none())
    const transcript = yield* Ref.make<Transcript>(Either.isRight(loaded) ? Option.getOrElse(loaded.right, () => []) : [])
    const remember = (next: Transcript) =>
      Effect.flatMap(Ref.setAndGet(transcript, trim(next, def.historyLimit)), (kept) =>
        store.save(key, kept).pipe(Effect.retry({ times: 3, schedule: memoryRetry }), Effect.orDie))
    const forget = store.forget(key).pipe(
      Effect.retry({ times: 3, schedule: memoryRetry }),
      Effect.orDie,
      Effect.zipRight(Ref.set(transcript, [])),
      Effect.zipRight(Ref.set(unreadable, Option.none()))
    )
    // Memory that no longer decodes reaches callers as `AgentFailed` carrying `MemoryUnreadable`
    // (which names the row), with no restarts: a rebuild would read the same row.
    const refusal = (rpc: string, error: MemoryUnreadable) =>
      new AgentFailed({ agent: def.name, id, rpc, restarts: 0, defect: error })
    return { store, transcript, unreadable, remember, forget, refusal }
  })
