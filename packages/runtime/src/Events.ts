/**
 * The typed record of what happened inside a colony: agents starting and stopping, messages
 * received and handled, model calls, restarts. Events are values with a `Schema`, so they can be
 * streamed to callers in other processes, printed by the CLI and asserted in tests.
 *
 * This module defines the envelope every event shares and the runtime's own events. The set is
 * open: other packages and applications define theirs as `Schema.TaggedClass`es with the envelope
 * fields and a `format` method, publish them on the same bus, and compose a union of the events
 * they know where events cross a process boundary (`@colony/agents` `SessionEvents` is one).
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Metric, Option, Queue, Schema, Stream } from "effect"
import type { Scope } from "effect"
import { Usage } from "./LanguageModel.js"

/**
 * The fields every event carries: its source (an agent type and instance, or another entity such
 * as a collaboration session) and when it happened. Spread them into an event's fields.
 *
 * @since 0.1.0
 * @category envelope
 */
export const envelope = {
  /** agent type (or the type of the entity that published the event) */
  agent: Schema.String,
  /** agent instance (entity id) */
  id: Schema.String,
  /** wall-clock time in epoch milliseconds, from the Effect `Clock` */
  at: Schema.Number
}

/**
 * Any event, read as its envelope: what a consumer can rely on for an event it does not know.
 * Encoding an event with it keeps the tag and envelope and leaves the other fields out.
 *
 * @since 0.1.0
 * @category envelope
 */
export const Envelope = Schema.Struct({ _tag: Schema.String, ...envelope })

/**
 * What the bus carries: an event of any package, with its envelope and a line for a progress
 * display. Narrow it with `Schema.is` of the event class (or of a union of the events you know).
 *
 * @since 0.1.0
 * @category envelope
 */
export interface Event {
  readonly _tag: string
  readonly agent: string
  readonly id: string
  readonly at: number
  /** one line for a progress display */
  format(): string
}

const base = envelope

const who = (event: { readonly agent: string; readonly id: string }) => `${event.agent}/${event.id}`

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
}) {
  format(): string {
    return `${this.restart ? "restarted" : "started"} ${who(this)}` +
      (this.memoryMessages > 0 ? ` (memory: ${this.memoryMessages} messages)` : "")
  }
}

/**
 * An agent instance was stopped: passivated after being idle, moved, shut down or restarting.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentStopped extends Schema.TaggedClass<AgentStopped>()("AgentStopped", {
  ...base
}) {
  format(): string {
    return `stopped ${who(this)}`
  }
}

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
}) {
  format(): string {
    return `→ ${who(this)} ${this.rpc}${this.from ? ` from ${this.from}` : ""}: ${this.summary}`
  }
}

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
}) {
  format(): string {
    return `← ${who(this)} ${this.rpc} ${this.outcome} in ${this.durationMs} ms: ${this.summary}`
  }
}

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
}) {
  format(): string {
    return `  ${who(this)} called ${this.model} (${this.simulated ? "simulated" : this.modelId}), ` +
      `${this.usage.totalTokens} tokens${this.cost > 0 ? `, $${this.cost.toFixed(6)}` : ""}, ` +
      `${this.durationMs} ms${this.retries > 0 ? `, ${this.retries} retries` : ""}`
  }
}

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
}) {
  format(): string {
    return `  ${who(this)} used ${this.tool} (${this.ok ? "ok" : "error"}, ${this.durationMs} ms): ${this.summary}`
  }
}

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
}) {
  format(): string {
    return `! ${who(this)} restart #${this.restart} in ${this.delayMs} ms after: ${this.defect}`
  }
}

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
}) {
  format(): string {
    return `✗ ${who(this)} gave up on ${this.rpc} after ${this.restarts} restart(s): ${this.defect}`
  }
}

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
}) {
  format(): string {
    return `✗ this subscriber fell behind: ${this.capacity} events waited unread, so it was ended after ` +
      `${this.delivered} events; subscribe again to follow on`
  }
}

/**
 * The runtime's own events.
 *
 * @since 0.1.0
 * @category events
 */
export const RuntimeEvent = Schema.Union(
  AgentStarted,
  AgentStopped,
  MessageReceived,
  MessageHandled,
  ModelCalled,
  ToolCalled,
  AgentRestarted,
  AgentGaveUp,
  SubscriberFellBehind
)

/**
 * @since 0.1.0
 * @category events
 */
export type RuntimeEvent = typeof RuntimeEvent.Type

/**
 * Events a subscriber of the bus may leave unread before its subscription is ended, unless the
 * bus is made with another `subscriberBuffer`. At some 300 bytes an event, about 3 MB a subscriber.
 *
 * @since 0.1.0
 */
export const subscriberBuffer = 10_000

/**
 * Subscriptions to the event bus of this process ended with `SubscriberFellBehind`: what the
 * subscribers' bound dropped, for the metrics endpoint.
 *
 * @since 0.1.0
 */
export const fellBehindTotal = Metric.counter("colony_event_subscribers_fell_behind_total", {
  description: "subscriptions to this process's event bus ended for falling behind (SubscriberFellBehind)",
  incremental: true
})

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
          return Effect.zipRight(
            Metric.incrementBy(fellBehindTotal, behind.length),
            Effect.forEach(behind, (subscriber) => end(subscriber, event.at), { discard: true })
          )
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
 * One line for a progress display, for an event of any package.
 *
 * @since 0.1.0
 */
export const format = (event: Event): string => event.format()

/**
 * Shorten a text to one line for an event summary.
 *
 * @since 0.1.0
 */
export const summarize = (text: string, max = 80): string => {
  const line = text.replace(/\s+/g, " ").trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
