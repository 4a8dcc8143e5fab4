/**
 * The event bus of one colony process, with a bounded buffer per subscriber.
 */
import { Context, Effect, Layer, Metric, Option, Queue, type Scope, Stream } from "effect"
import type { Event } from "./envelope.js"
import { SubscriberFellBehind } from "./runtimeEvents.js"

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
