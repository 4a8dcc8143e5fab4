/**
 * Builds the model service over a registry: routing, the call recorder, `chat` and `stream`, and
 * the spans around them.
 */
import { Effect, PubSub, type Scope, Stream } from "effect"
import type * as ModelRegistry from "../../ModelRegistry.js"
import { makeChat } from "./chat.js"
import { makeLedger } from "./ledger.js"
import { feedCapacity, makeRecorder } from "./recorder.js"
import { makeRouter } from "./routing.js"
import type { LanguageModel } from "./service.js"
import { makeStream } from "./stream.js"
import { defaultAgentRows, defaultCollaborationRows, type ModelCall } from "./usage.js"

/**
 * How many agent instances and collaborations the usage report lists one by one, and how many
 * calls the call feed holds unread for its slowest subscriber (default `feedCapacity`).
 */
export interface MakeOptions {
  readonly agentRows?: number | undefined
  readonly collaborationRows?: number | undefined
  readonly feedCapacity?: number | undefined
}

/**
 * A `LanguageModel` over a registry. Limits (concurrency, requests per minute) are per registry
 * entry; the event feed and the usage totals live as long as the scope. The usage report lists at
 * most `agentRows` agent instances (default `defaultAgentRows`) and `collaborationRows`
 * collaborations (default `defaultCollaborationRows`) one by one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  registry: ModelRegistry.ModelRegistry,
  options: MakeOptions = {}
): Effect.Effect<LanguageModel["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(PubSub.dropping<ModelCall>(options.feedCapacity ?? feedCapacity), PubSub.shutdown)
    const ledger = makeLedger({
      agentRows: Math.max(1, options.agentRows ?? defaultAgentRows),
      collaborationRows: Math.max(1, options.collaborationRows ?? defaultCollaborationRows)
    })
    const route = yield* makeRouter(registry)
    const record = makeRecorder(ledger, pubsub)
    const chat = makeChat(route, record)
    const stream = makeStream(route, record)
    return {
      // Spans here, in the one door to models, so a trace reaches the model call on whichever
      // runner the agent lives (the cluster carries the span context across hops).
      chat: (request) =>
        chat(request).pipe(
          Effect.tap((response) =>
            Effect.annotateCurrentSpan({
              "gen_ai.response.model": response.modelId,
              "gen_ai.usage.input_tokens": response.usage.promptTokens,
              "gen_ai.usage.output_tokens": response.usage.completionTokens,
              "colony.simulated": response.simulated
            })
          ),
          Effect.withSpan("LanguageModel.chat", {
            kind: "client",
            attributes: { "gen_ai.request.model": request.model }
          })
        ),
      stream: (request) =>
        stream(request).pipe(
          Stream.withSpan("LanguageModel.stream", { kind: "client", attributes: { "gen_ai.request.model": request.model } })
        ),
      calls: Stream.fromPubSub(pubsub),
      subscribe: PubSub.subscribe(pubsub),
      usage: Effect.sync(() => ledger.report())
    }
  })
