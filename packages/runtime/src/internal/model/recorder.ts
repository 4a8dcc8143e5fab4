/**
 * The record of every model call: counted in the ledger, published on the service's feed and,
 * when debug logging is on, logged.
 */
import { Clock, Effect, FiberRef, LogLevel, Metric, PubSub } from "effect"
import type * as ModelRegistry from "../../ModelRegistry.js"
import type { Attribution } from "./attribution.js"
import type { ModelError } from "./errors.js"
import type { Ledger } from "./ledger.js"
import { type ChatResponse, Usage } from "./messages.js"
import { costOf, ModelCall } from "./usage.js"

/** What is known of a call when it ends, successfully or not. */
export interface CallOutcome {
  readonly resolved: ModelRegistry.ResolvedModel
  readonly attribution: Attribution
  readonly startedAt: number
  readonly streamed: boolean
  readonly attempts: number
  readonly outcome: { readonly response: ChatResponse } | { readonly error: ModelError }
}

/** Records the end of a call and returns its `ModelCall`. */
export type Recorder = (options: CallOutcome) => Effect.Effect<ModelCall>

const logCall = (call: ModelCall) =>
  Effect.logDebug("model call").pipe(
    Effect.annotateLogs({
      model: call.model,
      modelId: call.modelId,
      outcome: call.outcome,
      tokens: call.usage.totalTokens,
      latencyMs: Math.round(call.latencyMs),
      retries: call.retries
    })
  )

const toModelCall = (options: CallOutcome, now: number): ModelCall => {
  const { attribution, outcome, resolved } = options
  const response = "response" in outcome ? outcome.response : undefined
  const usage = response?.usage ?? Usage.zero
  return new ModelCall({
    model: resolved.name,
    modelId: response?.modelId ?? resolved.modelId,
    provider: resolved.settings.provider,
    simulated: resolved.settings.provider === "simulated",
    streamed: options.streamed,
    outcome: response === undefined ? "failure" : "success",
    ...("error" in outcome ? { error: outcome.error._tag } : {}),
    usage,
    cost: costOf(usage, resolved.settings.prices),
    latencyMs: Math.max(0, now - options.startedAt),
    retries: Math.max(0, options.attempts - 1),
    ...(attribution.agent === undefined ? {} : { agent: attribution.agent }),
    ...(attribution.collaboration === undefined ? {} : { collaboration: attribution.collaboration }),
    startedAt: options.startedAt
  }, true)
}

/**
 * Calls the feed held this many unread for its slowest subscriber: past it, a call is left out of
 * the feed (never out of the ledger) and counted in `callsDropped`, so a stalled subscriber costs
 * a bounded amount of memory instead of every call from then on.
 */
export const feedCapacity = 10_000

export const callsDropped = Metric.counter("colony_model_calls_dropped_total", {
  description: "model calls left out of the call feed because a subscriber had feedCapacity calls unread (the usage ledger still counts them)",
  incremental: true
})

/** A recorder counting into `ledger` and publishing on `pubsub` (made with `PubSub.dropping`). */
export const makeRecorder = (ledger: Ledger, pubsub: PubSub.PubSub<ModelCall>): Recorder => {
  // The debug line's annotations are built only when debug logging is on (it is off by
  // default), since this runs on every model call.
  const publish = (call: ModelCall) =>
    Effect.sync(() => ledger.add(call)).pipe(
      Effect.zipRight(PubSub.publish(pubsub, call)),
      Effect.tap((published) => published ? Effect.void : Metric.increment(callsDropped)),
      Effect.zipRight(FiberRef.getWith(
        FiberRef.currentMinimumLogLevel,
        (minimum) => LogLevel.greaterThan(minimum, LogLevel.Debug) ? Effect.void : logCall(call)
      ))
    )
  return (options) =>
    Effect.gen(function*() {
      const call = toModelCall(options, yield* Clock.currentTimeMillis)
      yield* publish(call)
      return call
    })
}
