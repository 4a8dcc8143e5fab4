/**
 * The steps of one durable message, recorded in the agent's memory store as they complete and
 * reused when the message is replayed (its runner died mid-message and another runner runs it
 * again from the start). Steps are numbered in the order the handler takes them — `model-1`,
 * `tool-1`, `model-2`, ... — which is the same order on a replay, because every step before a
 * recorded one answers as it did the first time.
 *
 * A model call is recorded only when it asked for tools: the final answer is kept with the turn
 * itself (`AgentMemory.commitTurn`). A step completed but not yet recorded when the runner died
 * runs again; a tool with effects outside the colony should make them idempotent itself.
 */
import { Effect, Either, Schedule, Schema } from "effect"
import type { AgentMemory, Progress } from "../AgentMemory.js"
import type { ModelError } from "./model/errors.js"
import { type ChatRequest, ChatResponse } from "./model/messages.js"
import type { Tool } from "./model/tools.js"

export interface Journal {
  /** a model call through `chat`, or the response recorded for this step */
  readonly chat: (
    chat: (request: ChatRequest) => Effect.Effect<ChatResponse, ModelError>
  ) => (request: ChatRequest) => Effect.Effect<ChatResponse, ModelError>
  /** the tool, its result recorded (or, on a replay, read back) per call */
  readonly tool: (tool: Tool.Any) => Tool.Any
  /** true for a response read back from the journal: no model was called for it */
  readonly replayed: (response: ChatResponse) => boolean
}

/** Volatile messages are at most once: nothing to record. */
export const passThrough: Journal = {
  chat: (chat) => chat,
  tool: (tool) => tool,
  replayed: () => false
}

const encodeResponse = Schema.encodeSync(Schema.parseJson(ChatResponse))
const decodeResponse = Schema.decodeEither(Schema.parseJson(ChatResponse))

const recordRetry = Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

export const make = (
  store: AgentMemory["Type"],
  key: string,
  messageId: string,
  progress: Progress
): Journal => {
  let modelCalls = 0
  let toolCalls = 0
  const replayed = new WeakSet<ChatResponse>()
  // A step that cannot be recorded only loses its reuse on a replay: the message goes on.
  const record = (step: string, value: string) =>
    store.recordStep(key, messageId, step, value).pipe(
      Effect.retry(recordRetry),
      Effect.catchAll((error) => Effect.logWarning(`${error.message} (step ${step} of message ${messageId})`))
    )
  return {
    chat: (chat) => (request) =>
      Effect.suspend(() => {
        const step = `model-${++modelCalls}`
        const recorded = progress.steps.get(step)
        // a record that no longer decodes (a schema change) is asked again, not trusted
        const response = recorded === undefined ? undefined : Either.getOrUndefined(decodeResponse(recorded))
        if (response !== undefined) {
          replayed.add(response)
          return Effect.succeed(response)
        }
        return Effect.tap(
          chat(request),
          (answer) => answer.toolCalls.length > 0 ? record(step, encodeResponse(answer)) : Effect.void
        )
      }),
    tool: (tool) => ({
      ...tool,
      handler: (args: unknown) =>
        Effect.suspend(() => {
          const step = `tool-${++toolCalls}`
          const recorded = progress.steps.get(step)
          if (recorded !== undefined) return Effect.succeed(recorded)
          return Effect.tap(tool.handler(args), (output) => record(step, String(output)))
        })
    }),
    replayed: (response) => replayed.has(response)
  }
}
