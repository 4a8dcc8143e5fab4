/**
 * The typed record of what happened inside a colony: agents starting and stopping, messages
 * received and handled, model calls, restarts. Events are values with a `Schema`, so they can be
 * streamed to callers in other processes, printed by the CLI and asserted in tests.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Option, Queue, Schema, Stream } from "effect"
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
  /** from the model's price table; 0 when it has none */
  cost: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** attempts after the first (transient faults, timeouts) */
  retries: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  durationMs: Schema.Number
}) {}

/**
 * An agent ran one of its tools during a tool-call loop. `ok` is false when the tool failed or
 * the model's arguments did not fit; the model was told so and went on.
 *
 * @since 0.1.0
 * @category events
 */
export class ToolCalled extends Schema.TaggedClass<ToolCalled>()("ToolCalled", {
  ...base,
  tool: Schema.String,
  ok: Schema.Boolean,
  durationMs: Schema.Number,
  /** the start of the tool's output (or of its error) */
  summary: Schema.String
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

// --- collaboration sessions ---
//
// A session (see `@colony/agents` `Session`) records what it does as events of its own. `agent` is
// the session's entity type and `id` the session id, so the events share the shape of agent
// events; `clock` is the session's logical (Lamport) time, which orders them causally where
// wall-clock `at` cannot (several runners, equal milliseconds).

const session = {
  ...base,
  /** the session's logical (Lamport) time when the event happened */
  clock: Schema.Number
}

/**
 * A session started running a collaboration on a task.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionStarted extends Schema.TaggedClass<SessionStarted>()("SessionStarted", {
  ...session,
  pattern: Schema.String,
  task: Schema.String
}) {}

/**
 * A task was split into subtasks.
 *
 * @since 0.1.0
 * @category events
 */
export class TaskDecomposed extends Schema.TaggedClass<TaskDecomposed>()("TaskDecomposed", {
  ...session,
  strategy: Schema.String,
  subtasks: Schema.Array(Schema.String)
}) {}

/**
 * A subtask was given to an agent.
 *
 * @since 0.1.0
 * @category events
 */
export class SubtaskAssigned extends Schema.TaggedClass<SubtaskAssigned>()("SubtaskAssigned", {
  ...session,
  step: Schema.String,
  subtask: Schema.String,
  /** the agent address, `type/id` */
  worker: Schema.String,
  strategy: Schema.String
}) {}

/**
 * A session sent a message to an agent.
 *
 * @since 0.1.0
 * @category events
 */
export class MessageSent extends Schema.TaggedClass<MessageSent>()("MessageSent", {
  ...session,
  step: Schema.String,
  to: Schema.String,
  rpc: Schema.String,
  summary: Schema.String
}) {}

/**
 * A session got an agent's reply (or its failure).
 *
 * @since 0.1.0
 * @category events
 */
export class ReplyReceived extends Schema.TaggedClass<ReplyReceived>()("ReplyReceived", {
  ...session,
  step: Schema.String,
  from: Schema.String,
  rpc: Schema.String,
  outcome: Schema.Literal("success", "failure"),
  summary: Schema.String,
  totalTokens: Schema.Number
}) {}

/**
 * A participant's answer was read as a vote.
 *
 * @since 0.1.0
 * @category events
 */
export class VoteCast extends Schema.TaggedClass<VoteCast>()("VoteCast", {
  ...session,
  step: Schema.String,
  voter: Schema.String,
  choice: Schema.String,
  weight: Schema.Number,
  /** how the choice was read from the answer: an explicit marker, a single mention, or a fallback */
  how: Schema.String
}) {}

/**
 * A round of peer deliberation ended.
 *
 * @since 0.1.0
 * @category events
 */
export class RoundCompleted extends Schema.TaggedClass<RoundCompleted>()("RoundCompleted", {
  ...session,
  team: Schema.optional(Schema.String),
  round: Schema.Number,
  /** share of the answering peers that hold the leading choice, 0..1 */
  agreement: Schema.Number,
  leading: Schema.optional(Schema.String),
  stopped: Schema.Boolean
}) {}

/**
 * A subtask moved to another agent because its agent stayed failed after supervision; with no
 * agent left, `to` is absent and the part is reported missing.
 *
 * @since 0.1.0
 * @category events
 */
export class SubtaskReassigned extends Schema.TaggedClass<SubtaskReassigned>()("SubtaskReassigned", {
  ...session,
  step: Schema.String,
  subtask: Schema.String,
  from: Schema.String,
  to: Schema.optional(Schema.String),
  reason: Schema.String
}) {}

/**
 * A session finished with a result; `missing` counts the parts it could not get.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionCompleted extends Schema.TaggedClass<SessionCompleted>()("SessionCompleted", {
  ...session,
  missing: Schema.Number,
  totalTokens: Schema.Number,
  summary: Schema.String
}) {}

/**
 * A session ended without a result.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionFailed extends Schema.TaggedClass<SessionFailed>()("SessionFailed", {
  ...session,
  reason: Schema.String
}) {}

/**
 * The last event a subscriber of the bus gets when it read too slowly: `capacity` events waited
 * unread, so the bus dropped them and ended its subscription; it had taken the first `delivered`
 * events, and nothing follows this one. Subscribe again to follow on (what was published in
 * between is not replayed).
 *
 * @since 0.1.0
 * @category events
 */
export class SubscriberFellBehind extends Schema.TaggedClass<SubscriberFellBehind>()("SubscriberFellBehind", {
  ...base,
  capacity: Schema.Number,
  delivered: Schema.Number
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
  ToolCalled,
  AgentRestarted,
  AgentGaveUp,
  SessionStarted,
  TaskDecomposed,
  SubtaskAssigned,
  MessageSent,
  ReplyReceived,
  VoteCast,
  RoundCompleted,
  SubtaskReassigned,
  SessionCompleted,
  SessionFailed,
  SubscriberFellBehind
)

/**
 * @since 0.1.0
 * @category events
 */
export type Event = typeof Event.Type

/**
 * Events a subscriber of the bus may leave unread before its subscription is ended, unless the
 * bus is made with another `subscriberBuffer`. At some 300 bytes an event, about 3 MB a subscriber.
 *
 * @since 0.1.0
 */
export const subscriberBuffer = 10_000

/**
 * What the bus's subscribers hold right now, and how many were ended for falling behind.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly subscribers: number
  /** events waiting unread, over all subscribers */
  readonly buffered: number
  /** subscriptions ended with `SubscriberFellBehind` since the bus was made */
  readonly overflowed: number
}

/**
 * The event bus of one colony process. Each subscriber has its own buffer of `subscriberBuffer`
 * events: publishing never waits for a subscriber, and one that leaves that many unread is ended
 * with `SubscriberFellBehind` instead of holding more, while the others keep every event. The same
 * rule as `@colony/agents` `Broadcast`, for a bus whose subscribers read queues.
 *
 * @since 0.1.0
 * @category tags
 */
export class Events extends Context.Tag("@colony/runtime/Events")<Events, {
  readonly publish: (event: Event) => Effect.Effect<void>
  /**
   * A queue of every event published from now on, for as long as the scope lives, or until it ends
   * with `SubscriberFellBehind`.
   */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Event>, never, Scope.Scope>
  /** Every event published while the stream runs; it ends after a `SubscriberFellBehind`. */
  readonly stream: Stream.Stream<Event>
  readonly stats: Effect.Effect<Stats>
}>() {}

interface Subscriber {
  readonly queue: Queue.Queue<Event>
  offered: number
}

// negative while readers wait on an empty queue
const unread = (subscriber: Subscriber) => Math.max(0, Option.getOrElse(subscriber.queue.unsafeSize(), () => 0))

/**
 * An in-process bus whose subscribers each buffer at most `options.subscriberBuffer` events
 * (default `subscriberBuffer`). With no subscriber, publishing is a no-op, so agents pay next to
 * nothing for events nobody watches.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: { readonly subscriberBuffer?: number | undefined } = {}): Layer.Layer<Events> =>
  Layer.scoped(
    Events,
    Effect.gen(function*() {
      const capacity = options.subscriberBuffer ?? subscriberBuffer
      const subscribers = new Set<Subscriber>()
      let overflowed = 0

      // Its unread events are dropped at once, so an abandoned subscriber holds no memory until its
      // scope closes; the events it already took are its own. One slot more than the capacity
      // keeps room for the last event whatever the queue holds.
      const end = (subscriber: Subscriber, at: number) =>
        Effect.flatMap(Queue.takeAll(subscriber.queue), (dropped) =>
          Queue.offer(
            subscriber.queue,
            new SubscriberFellBehind({
              agent: "colony",
              id: "events",
              at,
              capacity,
              delivered: subscriber.offered - dropped.length
            })
          ))

      const publish = (event: Event) =>
        Effect.suspend(() => {
          const behind: Array<Subscriber> = []
          for (const subscriber of subscribers) {
            if (unread(subscriber) < capacity && subscriber.queue.unsafeOffer(event)) subscriber.offered += 1
            else behind.push(subscriber)
          }
          if (behind.length === 0) return Effect.void
          for (const subscriber of behind) subscribers.delete(subscriber)
          overflowed += behind.length
          return Effect.forEach(behind, (subscriber) => end(subscriber, event.at), { discard: true })
        })

      const subscribe = Effect.acquireRelease(
        Effect.map(Queue.dropping<Event>(capacity + 1), (queue) => {
          const subscriber: Subscriber = { queue, offered: 0 }
          subscribers.add(subscriber)
          return subscriber
        }),
        (subscriber) =>
          Effect.suspend(() => {
            subscribers.delete(subscriber)
            return Queue.shutdown(subscriber.queue)
          })
      )

      yield* Effect.addFinalizer(() =>
        Effect.forEach(subscribers, (subscriber) => Queue.shutdown(subscriber.queue), { discard: true })
      )
      return {
        publish,
        subscribe: Effect.map(subscribe, (subscriber): Queue.Dequeue<Event> => subscriber.queue),
        stream: Stream.unwrapScoped(Effect.map(subscribe, (subscriber) => Stream.fromQueue(subscriber.queue))).pipe(
          Stream.takeUntil((event) => event._tag === "SubscriberFellBehind")
        ),
        stats: Effect.sync((): Stats => {
          let buffered = 0
          for (const subscriber of subscribers) buffered += unread(subscriber)
          return { subscribers: subscribers.size, buffered, overflowed }
        })
      }
    })
  )

/**
 * `layerWith` with its defaults.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Events> = layerWith()

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
        `${event.usage.totalTokens} tokens${event.cost > 0 ? `, $${event.cost.toFixed(6)}` : ""}, ` +
        `${event.durationMs} ms${event.retries > 0 ? `, ${event.retries} retries` : ""}`
    case "ToolCalled":
      return `  ${who} used ${event.tool} (${event.ok ? "ok" : "error"}, ${event.durationMs} ms): ${event.summary}`
    case "AgentRestarted":
      return `! ${who} restart #${event.restart} in ${event.delayMs} ms after: ${event.defect}`
    case "AgentGaveUp":
      return `✗ ${who} gave up on ${event.rpc} after ${event.restarts} restart(s): ${event.defect}`
    case "SessionStarted":
      return `◆ ${who} @${event.clock} started ${event.pattern}: ${summarize(event.task)}`
    case "TaskDecomposed":
      return `◆ ${who} @${event.clock} decomposed (${event.strategy}) into ${event.subtasks.length} subtask(s)`
    case "SubtaskAssigned":
      return `◆ ${who} @${event.clock} ${event.step} → ${event.worker} (${event.strategy}): ${summarize(event.subtask)}`
    case "MessageSent":
      return `◆ ${who} @${event.clock} ${event.step} sent ${event.rpc} to ${event.to}: ${event.summary}`
    case "ReplyReceived":
      return `◆ ${who} @${event.clock} ${event.step} ${event.outcome} from ${event.from}` +
        (event.totalTokens > 0 ? ` (${event.totalTokens} tokens)` : "") + `: ${event.summary}`
    case "VoteCast":
      return `◆ ${who} @${event.clock} ${event.step} ${event.voter} votes "${event.choice}"` +
        (event.weight === 1 ? "" : ` ×${event.weight}`) + ` (${event.how})`
    case "RoundCompleted":
      return `◆ ${who} @${event.clock} ${event.team === undefined ? "" : `${event.team} `}round ${event.round}: ` +
        `agreement ${Math.round(event.agreement * 100)}%` +
        (event.leading === undefined ? "" : ` on "${event.leading}"`) + (event.stopped ? ", stop" : "")
    case "SubtaskReassigned":
      return `◆ ${who} @${event.clock} ${event.step} moved from ${event.from} to ${event.to ?? "nobody (missing)"}: ` +
        event.reason
    case "SessionCompleted":
      return `◆ ${who} @${event.clock} completed, ${event.totalTokens} tokens` +
        (event.missing > 0 ? `, ${event.missing} part(s) missing` : "") + `: ${event.summary}`
    case "SessionFailed":
      return `✗ ${who} @${event.clock} failed: ${event.reason}`
    case "SubscriberFellBehind":
      return `✗ this subscriber fell behind: ${event.capacity} events waited unread, so it was ended after ` +
        `${event.delivered} events; subscribe again to follow on`
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
