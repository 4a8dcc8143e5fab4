/**
 * The model service's tag: what every caller of a model depends on, whatever builds it.
 */
import { Context, type Effect, type Queue, type Scope, type Stream } from "effect"
import type { ModelError } from "./errors.js"
import type { ChatRequest, ChatResponse, StreamPart } from "./messages.js"
import type { ModelCall, UsageReport } from "./usage.js"

/**
 * The model service. `chat` answers once; `stream` yields `TextDelta`s and ends with `Finished`;
 * `calls` is a live feed of `ModelCall` records (from the moment it is run), `subscribe` the same
 * as a queue that is already listening when it is returned; `usage` is the running total.
 *
 * @since 0.1.0
 * @category tags
 */
export class LanguageModel extends Context.Tag("@colony/runtime/LanguageModel")<LanguageModel, {
  readonly chat: (request: ChatRequest) => Effect.Effect<ChatResponse, ModelError>
  readonly stream: (request: ChatRequest) => Stream.Stream<StreamPart, ModelError>
  readonly calls: Stream.Stream<ModelCall>
  readonly subscribe: Effect.Effect<Queue.Dequeue<ModelCall>, never, Scope.Scope>
  readonly usage: Effect.Effect<UsageReport>
}>() {}
