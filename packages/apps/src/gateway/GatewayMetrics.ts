/**
 * What the gateway counts, as Effect `Metric`s (served on `/metrics` by `Prometheus`). Names
 * follow Prometheus conventions: counters end in `_total`, durations are in seconds.
 *
 * @since 0.1.0
 */
import { Events, LanguageModel } from "@colony/runtime"
import { Effect, Metric, MetricBoundaries, Queue, Stream } from "effect"

/**
 * HTTP requests by route and status.
 *
 * @since 0.1.0
 */
export const requests = Metric.counter("colony_gateway_requests_total", {
  description: "HTTP requests served by the gateway, by route and status",
  incremental: true
})

/**
 * HTTP request latency by route.
 *
 * @since 0.1.0
 */
export const requestDuration = Metric.histogram(
  "colony_gateway_request_duration_seconds",
  MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 14 }),
  "HTTP request latency in seconds until the response starts, by route"
)

/**
 * Typed RPC calls by RPC and outcome (over HTTP and WebSocket alike).
 *
 * @since 0.1.0
 */
export const rpcCalls = Metric.counter("colony_gateway_rpc_calls_total", {
  description: "typed RPC calls by RPC and outcome",
  incremental: true
})

/**
 * Typed RPC latency by RPC.
 *
 * @since 0.1.0
 */
export const rpcDuration = Metric.histogram(
  "colony_gateway_rpc_duration_seconds",
  MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 14 }),
  "typed RPC latency in seconds (streams: until the stream ends), by RPC"
)

/**
 * Tokens in the answers the gateway returned, by agent (or preset) and kind.
 *
 * @since 0.1.0
 */
export const tokens = Metric.counter("colony_gateway_tokens_total", {
  description: "tokens spent on the answers the gateway returned, by agent or preset and kind (prompt, completion, total)",
  incremental: true
})

/**
 * Messages the gateway has sent to an agent type and not yet had answered.
 *
 * @since 0.1.0
 */
export const inFlight = Metric.gauge("colony_agent_mailbox_depth", {
  description: "messages this gateway has in flight to each agent type (sent, not yet answered); the cluster does not expose mailbox sizes, so this is the part of the depth the gateway sees"
})

/**
 * Model calls made in this process (an embedded gateway hosts its agents, so these are all of them).
 *
 * @since 0.1.0
 */
export const modelCalls = Metric.counter("colony_model_calls_total", {
  description: "model calls made in this process, by model and outcome",
  incremental: true
})

/**
 * @since 0.1.0
 */
export const modelTokens = Metric.counter("colony_model_tokens_total", {
  description: "tokens of the model calls made in this process, by model and kind",
  incremental: true
})

/**
 * @since 0.1.0
 */
export const modelCost = Metric.counter("colony_model_cost_usd_total", {
  description: "cost in US dollars of the model calls made in this process (from the model's price table), by model",
  incremental: true
})

/**
 * @since 0.1.0
 */
export const modelLatency = Metric.histogram(
  "colony_model_call_duration_seconds",
  MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 14 }),
  "model call latency in seconds, retries included, by model"
)

/**
 * @since 0.1.0
 */
export const restarts = Metric.counter("colony_agent_restarts_total", {
  description: "agent restarts after a handler defect, for agents hosted in this process, by agent type",
  incremental: true
})

/**
 * @since 0.1.0
 */
export const gaveUp = Metric.counter("colony_agent_gave_up_total", {
  description: "messages an agent hosted in this process failed past its supervision limit, by agent type",
  incremental: true
})

/**
 * Count tokens of an answer under `agent`.
 *
 * @since 0.1.0
 */
export const countTokens = (agent: string, usage: LanguageModel.Usage) =>
  Effect.all([
    Metric.incrementBy(Metric.tagged(Metric.tagged(tokens, "agent", agent), "kind", "prompt"), usage.promptTokens),
    Metric.incrementBy(Metric.tagged(Metric.tagged(tokens, "agent", agent), "kind", "completion"), usage.completionTokens),
    Metric.incrementBy(Metric.tagged(Metric.tagged(tokens, "agent", agent), "kind", "total"), usage.totalTokens)
  ], { discard: true })

/**
 * Track `effect` as a message in flight to `agent`.
 *
 * @since 0.1.0
 */
export const trackInFlight = (agent: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const gauge = Metric.tagged(inFlight, "agent", agent)
  return Effect.acquireUseRelease(
    Metric.modify(gauge, 1),
    () => effect,
    () => Metric.modify(gauge, -1)
  )
}

/**
 * Feed the process-local model and supervision metrics from the colony's `LanguageModel` call
 * records and `Events` bus; runs until interrupted.
 *
 * @since 0.1.0
 */
export const collect: Effect.Effect<never, never, LanguageModel.LanguageModel | Events.Events> = Effect.gen(
  function*() {
    const fromModels = LanguageModel.calls.pipe(
      Stream.runForEach((call) => {
        const model = (m: typeof modelTokens) => Metric.tagged(m, "model", call.model)
        return Effect.all([
          Metric.increment(Metric.tagged(model(modelCalls), "outcome", call.outcome)),
          Metric.incrementBy(Metric.tagged(model(modelTokens), "kind", "prompt"), call.usage.promptTokens),
          Metric.incrementBy(Metric.tagged(model(modelTokens), "kind", "completion"), call.usage.completionTokens),
          Metric.incrementBy(model(modelCost), call.cost),
          Metric.update(Metric.tagged(modelLatency, "model", call.model), call.latencyMs / 1000)
        ], { discard: true })
      })
    )
    const fromEvents = Effect.scoped(Effect.gen(function*() {
      const bus = yield* Events.Events
      const queue = yield* bus.subscribe
      return yield* Queue.take(queue).pipe(
        Effect.flatMap((event) =>
          event._tag === "AgentRestarted"
            ? Metric.increment(Metric.tagged(restarts, "agent", event.agent))
            : event._tag === "AgentGaveUp"
            ? Metric.increment(Metric.tagged(gaveUp, "agent", event.agent))
            : Effect.void
        ),
        Effect.forever
      )
    }))
    yield* Effect.all([fromModels, fromEvents], { concurrency: "unbounded", discard: true })
    return yield* Effect.never
  }
)
