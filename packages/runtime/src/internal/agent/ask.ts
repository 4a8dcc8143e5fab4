/**
 * How an instance answers `Ask` (and its handlers' `ask`): once for a volatile agent; for a
 * durable one, once per message id, however often the message is replayed.
 */
import type * as Entity from "@effect/cluster/Entity"
import { Effect, Option, Ref, Schema } from "effect"
import type { AgentFailed } from "../../AgentError.js"
import * as Journal from "../journal.js"
import type { ModelError } from "../model/errors.js"
import type { Instance } from "./context.js"
import { type InstanceMemory, memoryRetry } from "./memory.js"
import { Answer, type AnswerFormat } from "./protocol.js"
import type { Turn } from "./turn.js"

/** The ways an instance asks its model. */
export interface Asking {
  readonly volatile: (prompt: string, format?: AnswerFormat | undefined) => Effect.Effect<Answer, ModelError>
  readonly durable: (
    prompt: string,
    messageId: string,
    format?: AnswerFormat | undefined
  ) => Effect.Effect<Answer, AgentFailed | ModelError>
  /** `ask` for a handler of `request`: durable agents key each ask by the request and its place in it */
  readonly within: (request: Entity.Request<any>) => (prompt: string) => Effect.Effect<Answer, ModelError>
}

const encodeAnswer = Schema.encodeSync(Schema.parseJson(Answer))
const decodeAnswer = (stored: string) => Effect.orDie(Schema.decode(Schema.parseJson(Answer))(stored))

export const makeAsking = (instance: Instance, memory: InstanceMemory, turn: Turn): Asking => {
  const { def, key } = instance
  // Volatile messages are at most once: a message cut off is not replayed, so the exchange is
  // simply remembered.
  const volatile = (prompt: string, format?: AnswerFormat | undefined) =>
    Effect.gen(function*() {
      const { answer, exchange } = yield* turn(prompt, Journal.passThrough, format)
      yield* memory.remember([...(yield* Ref.get(memory.transcript)), ...exchange])
      return answer
    })

  // A durable message may run again from the start on another runner (its first runner died
  // before its reply was stored). Its turn is committed once, keyed by its message id: a replay
  // that finds the turn committed answers what the first execution answered, and one that does
  // not reuses the steps the first execution completed. (Typed: entity handlers are untyped, and
  // an answer read back must reach the caller as an `Answer`, not as the effect that decodes it.)
  const durable = (
    prompt: string,
    messageId: string,
    format?: AnswerFormat | undefined
  ): Effect.Effect<Answer, AgentFailed | ModelError> =>
    Effect.gen(function*() {
      const { store } = memory
      const progress = yield* store.progress(key, messageId).pipe(
        Effect.retry({ times: 3, schedule: memoryRetry }),
        Effect.orDie
      )
      if (Option.isSome(progress.answer)) return yield* decodeAnswer(progress.answer.value)
      const { answer, exchange } = yield* turn(prompt, Journal.make(store, key, messageId, progress), format)
      const committed = yield* store.commitTurn(key, {
        messageId,
        messages: exchange,
        answer: encodeAnswer(answer),
        limit: def.historyLimit
      }).pipe(
        Effect.retry({ times: 3, schedule: memoryRetry, while: (error) => error._tag === "MemoryError" }),
        Effect.catchTags({
          MemoryError: Effect.die,
          MemoryUnreadable: (error) => Effect.fail(memory.refusal("Ask", error))
        })
      )
      yield* Ref.set(memory.transcript, committed.transcript)
      return committed.fresh ? answer : yield* decodeAnswer(committed.answer)
    })

  const within = (request: Entity.Request<any>) => {
    if (!def.durable) return volatile
    let asks = 0
    return (prompt: string) =>
      durable(prompt, `${request.tag}/${request.requestId}/${++asks}`).pipe(
        Effect.catchTag("AgentFailed", Effect.die)
      )
  }
  return { volatile, durable, within }
}
