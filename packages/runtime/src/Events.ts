/**
 * The typed record of what happened inside a colony: agents starting and stopping, messages
 * received and handled, model calls, restarts. Events are values with a `Schema`, so they can be
 * streamed to callers in other processes, printed by the CLI and asserted in tests.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, PubSub, Queue, Schema, Stream } from "effect"
import type { Scope } from "effect"
import { Usage } from "./LanguageModel.js"

const base = {
  /** agent type */
  agent: Schema.String,
  /** agent instance (entity id) */
  id: Schema.String,
  /** wall-clock time in epoch milliseconds, from the Effect `Clock` */
  at: Schema.Number
}

/**
 * An agent instance was activated: first message, reactivation after passivation, or restart.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentStarted extends Schema.TaggedClass<AgentStarted>()("AgentStarted", {
  ...base,
  restart: Schema.Boolean,
  memoryMessages: Schema.Number
}) {}

/**
 * An agent instance was stopped: passivated after being idle, moved, shut down or restarting.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentStopped extends Schema.TaggedClass<AgentStopped>()("AgentStopped", {
  ...base
}) {}

/**
 * A message reached an agent's handler.
 *
 * @since 0.1.0
 * @category events
 */
export class MessageReceived extends Schema.TaggedClass<MessageReceived>()("MessageReceived", {
  ...base,
  rpc: Schema.String,
  from: Schema.optional(Schema.String),
  summary: Schema.String
}) {}

/**
 * An agent's handler finished with a message.
 *
 * @since 0.1.0
 * @category events
 */
export class MessageHandled extends Schema.TaggedClass<MessageHandled>()("MessageHandled", {
  ...base,
  rpc: Schema.String,
  outcome: Schema.Literal("success", "failure", "defect", "interrupted"),
  durationMs: Schema.Number,
  summary: Schema.String
}) {}

/**
 * An agent called a model.
 *
 * @since 0.1.0
 * @category events
 */
export class ModelCalled extends Schema.TaggedClass<ModelCalled>()("ModelCalled", {
  ...base,
  model: Schema.String,
  modelId: Schema.String,
  simulated: Schema.Boolean,
  usage: Usage,
  durationMs: Schema.Number
}) {}

/**
 * An agent's handler died and the agent is being restarted by its supervision policy.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentRestarted extends Schema.TaggedClass<AgentRestarted>()("AgentRestarted", {
  ...base,
  restart: Schema.Number,
  delayMs: Schema.Number,
  defect: Schema.String
}) {}

/**
 * An agent's handler died once more than its supervision policy allows; the caller got
 * `AgentFailed`.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentGaveUp extends Schema.TaggedClass<AgentGaveUp>()("AgentGaveUp", {
  ...base,
  rpc: Schema.String,
  restarts: Schema.Number,
  defect: Schema.String
}) {}

/**
 * @since 0.1.0
 * @category events
 */
export const Event = Schema.Union(
  AgentStarted,
  AgentStopped,
  MessageReceived,
  MessageHandled,
  ModelCalled,
  AgentRestarted,
  AgentGaveUp
)

/**
 * @since 0.1.0
 * @category events
 */
export type Event = typeof Event.Type

/**
 * The event bus of one colony process.
 *
 * @since 0.1.0
 * @category tags
 */
export class Events extends Context.Tag("@colony/runtime/Events")<Events, {
  readonly publish: (event: Event) => Effect.Effect<void>
  /** A queue of every event published from now on, for as long as the scope lives. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Event>, never, Scope.Scope>
  /** Every event published while the stream runs. */
  readonly stream: Stream.Stream<Event>
}>() {}

/**
 * An in-process bus. Subscribers each get every event; with no subscriber, publishing is a
 * no-op, so agents pay next to nothing for events nobody watches.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Events> = Layer.scoped(
  Events,
  Effect.gen(function*() {
    const hub = yield* PubSub.unbounded<Event>()
    yield* Effect.addFinalizer(() => PubSub.shutdown(hub))
    return {
      publish: (event) => PubSub.publish(hub, event).pipe(Effect.asVoid),
      subscribe: PubSub.subscribe(hub),
      stream: Stream.fromPubSub(hub)
    }
  })
)

/**
 * Publish an event if the program has an event bus; do nothing otherwise.
 *
 * @since 0.1.0
 */
export const publish = (event: Event): Effect.Effect<void> =>
  Effect.serviceOption(Events).pipe(
    Effect.flatMap((events) => events._tag === "Some" ? events.value.publish(event) : Effect.void)
  )

/**
 * The current time in epoch milliseconds from the Effect `Clock` (so tests can drive it).
 *
 * @since 0.1.0
 */
export const now: Effect.Effect<number> = Clock.currentTimeMillis

/**
 * One line for a progress display.
 *
 * @since 0.1.0
 */
export const format = (event: Event): string => {
  const who = `${event.agent}/${event.id}`
  switch (event._tag) {
    case "AgentStarted":
      return `${event.restart ? "restarted" : "started"} ${who}` +
        (event.memoryMessages > 0 ? ` (memory: ${event.memoryMessages} messages)` : "")
    case "AgentStopped":
      return `stopped ${who}`
    case "MessageReceived":
      return `→ ${who} ${event.rpc}${event.from ? ` from ${event.from}` : ""}: ${event.summary}`
    case "MessageHandled":
      return `← ${who} ${event.rpc} ${event.outcome} in ${event.durationMs} ms: ${event.summary}`
    case "ModelCalled":
      return `  ${who} called ${event.model} (${event.simulated ? "simulated" : event.modelId}), ` +
        `${event.usage.totalTokens} tokens, ${event.durationMs} ms`
    case "AgentRestarted":
      return `! ${who} restart #${event.restart} in ${event.delayMs} ms after: ${event.defect}`
    case "AgentGaveUp":
      return `✗ ${who} gave up on ${event.rpc} after ${event.restarts} restart(s): ${event.defect}`
  }
}

/**
 * Shorten a text to one line for an event summary.
 *
 * @since 0.1.0
 */
export const summarize = (text: string, max = 80): string => {
  const line = text.replace(/\s+/g, " ").trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
