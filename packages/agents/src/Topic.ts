/**
 * Cluster-wide publish-subscribe. A topic is an entity (`colony-topic`, id = topic name) that
 * holds its subscribers' addresses and forwards each published message to every one of them, so
 * publishers and subscribers on any runner meet at the same place and never learn where the
 * others live. Subscribers are agents: either they answer `Message` (put it in their protocol), or
 * they are plain agents and get the message as an `Ask`.
 *
 * Delivery is at-least-once where the cluster stores messages: `Publish` is a persisted RPC keyed
 * by its `messageId`, and `Message` is keyed by topic and message id, so a durable subscriber
 * agent (`Agent.make({ durable: true })`) on SQL storage gets a queue that survives crashes and
 * drops duplicates. On the embedded colony the storage is in memory.
 *
 * The subscriber list lives in the topic entity, which is never passivated; it is lost if the
 * runner hosting the topic dies (subscribers must subscribe again) until it is kept in storage.
 *
 * @since 0.1.0
 */
import * as ClusterError from "@effect/cluster/ClusterError"
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as Entity from "@effect/cluster/Entity"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { AgentError, Colony, Events } from "@colony/runtime"
import { Duration, Effect, Either, Layer, PrimaryKey, Ref, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as LogicalClock from "./LogicalClock.js"

/**
 * What a subscriber receives.
 *
 * @since 0.1.0
 * @category models
 */
export class Delivered extends Schema.Class<Delivered>("@colony/agents/TopicMessage")({
  topic: Schema.String,
  message: Schema.String,
  from: Schema.optional(Schema.String),
  messageId: Schema.String,
  /** the topic's Lamport time when it forwarded the message */
  clock: Schema.Number
}) {
  [PrimaryKey.symbol]() {
    return `${this.topic}/${this.messageId}`
  }
}

/**
 * The RPC a subscriber agent answers to receive messages; add it to the agent's `protocol`.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Message = Rpc.make("TopicMessage", { payload: Delivered })

/**
 * A subscriber: an agent instance, and whether it gets `Message` or an `Ask`.
 *
 * @since 0.1.0
 * @category models
 */
export class Subscriber extends Schema.Class<Subscriber>("@colony/agents/Subscriber")({
  agent: Schema.String,
  id: Schema.String,
  via: Schema.optionalWith(Schema.Literal("TopicMessage", "Ask"), { default: () => "TopicMessage" as const })
}) {
  override toString() {
    return `${this.agent}/${this.id}`
  }
}

/**
 * A message to publish.
 *
 * @since 0.1.0
 * @category models
 */
export class Publication extends Schema.Class<Publication>("@colony/agents/Publication")({
  message: Schema.String,
  from: Schema.optional(Schema.String),
  /** the publisher's Lamport time (0 if it keeps none) */
  clock: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  messageId: Schema.optionalWith(Schema.String, { default: () => randomUUID() })
}) {
  [PrimaryKey.symbol]() {
    return this.messageId
  }
}

/**
 * Where a published message went.
 *
 * @since 0.1.0
 * @category models
 */
export class Delivery extends Schema.Class<Delivery>("@colony/agents/Delivery")({
  topic: Schema.String,
  messageId: Schema.String,
  delivered: Schema.Array(Schema.String),
  failed: Schema.Array(Schema.Struct({ subscriber: Schema.String, reason: Schema.String })),
  /** the topic's Lamport time after forwarding */
  clock: Schema.Number
}) {}

/**
 * @since 0.1.0
 * @category protocol
 */
export const Subscribe = Rpc.make("Subscribe", { payload: { subscriber: Subscriber }, success: Schema.Number })

/**
 * @since 0.1.0
 * @category protocol
 */
export const Unsubscribe = Rpc.make("Unsubscribe", { payload: { agent: Schema.String, id: Schema.String }, success: Schema.Boolean })

/**
 * @since 0.1.0
 * @category protocol
 */
export const Publish = Rpc.make("Publish", { payload: Publication, success: Delivery }).annotate(ClusterSchema.Persisted, true)

/**
 * @since 0.1.0
 * @category protocol
 */
export const Subscribers = Rpc.make("Subscribers", { success: Schema.Array(Subscriber) })

/**
 * The topic entity: one per topic name.
 *
 * @since 0.1.0
 * @category entities
 */
export const Topic = Entity.make("colony-topic", [Subscribe, Unsubscribe, Publish, Subscribers])

const describeError = (error: unknown) =>
  typeof error === "object" && error !== null && "message" in error
    ? `${(error as { _tag?: string })._tag ?? "Error"}: ${(error as { message: string }).message}`
    : String(error)

/**
 * Host topics in this process. Topics forward through the colony, so the process needs its
 * services.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Colony.Services | Sharding> = Topic.toLayer(
  Effect.gen(function*() {
    const topic = (yield* Entity.CurrentAddress).entityId as string
    const context = yield* Effect.context<Colony.Services | Sharding>()
    const subscribers = yield* Ref.make<ReadonlyArray<Subscriber>>([])
    const clock = yield* Ref.make(LogicalClock.make(`topic/${topic}`))
    const same = (a: { agent: string; id: string }, b: { agent: string; id: string }) => a.agent === b.agent && a.id === b.id

    const forward = (to: Subscriber, publication: Publication) =>
      Effect.gen(function*() {
        const at = (yield* Ref.updateAndGet(clock, LogicalClock.tick)).time
        const from = publication.from ?? `topic:${topic}`
        const sent = to.via === "Ask"
          ? Colony.ask(to.agent, to.id, `[${topic}] ${publication.message}`, { from: `topic:${topic}` })
          : Colony.send(to.agent, to.id, "TopicMessage", {
            topic,
            message: publication.message,
            from,
            messageId: publication.messageId,
            clock: at
          })
        return yield* Effect.either(sent)
      }).pipe(Effect.provide(context))

    return Topic.of({
      Subscribe: ({ payload }) =>
        Effect.map(
          Ref.updateAndGet(subscribers, (all) => all.some((s) => same(s, payload.subscriber)) ? all : [...all, payload.subscriber]),
          (all) => all.length
        ),
      Unsubscribe: ({ payload }) =>
        Ref.modify(subscribers, (all) => {
          const rest = all.filter((s) => !same(s, payload))
          return [rest.length < all.length, rest]
        }),
      Subscribers: () => Ref.get(subscribers),
      Publish: ({ payload }) =>
        Effect.gen(function*() {
          yield* Ref.update(clock, (c) => LogicalClock.receive(c, payload.clock))
          const targets = yield* Ref.get(subscribers)
          const outcomes = yield* Effect.forEach(targets, (to) => forward(to, payload), { concurrency: "unbounded" })
          yield* Effect.logDebug(`topic ${topic}: ${Events.summarize(payload.message)} to ${targets.length} subscriber(s)`)
          return new Delivery({
            topic,
            messageId: payload.messageId,
            delivered: targets.filter((_, i) => Either.isRight(outcomes[i]!)).map(String),
            failed: targets.flatMap((to, i) => {
              const outcome = outcomes[i]!
              return Either.isLeft(outcome) ? [{ subscriber: String(to), reason: describeError(outcome.left) }] : []
            }),
            clock: (yield* Ref.get(clock)).time
          })
        })
    })
  }),
  // The subscriber list is the entity's state: a passivated topic would forget it.
  { maxIdleTime: Duration.infinity, concurrency: "unbounded" }
)

// --- clients ---

type Delivery_ = ClusterError.MailboxFull | ClusterError.AlreadyProcessingMessage | ClusterError.PersistenceError

const unavailable = (topic: string) => (error: Delivery_) =>
  new AgentError.AgentUnavailable({ agent: "colony-topic", id: topic, reason: error._tag })

/**
 * Subscribe an agent instance to a topic; gives the number of subscribers.
 *
 * @since 0.1.0
 */
export const subscribe = (topic: string, agent: string, id: string, via: "TopicMessage" | "Ask" = "TopicMessage") =>
  Effect.flatMap(Topic.client, (client) =>
    Effect.mapError(client(topic).Subscribe({ subscriber: new Subscriber({ agent, id, via }) }), unavailable(topic)))

/**
 * Remove an agent instance from a topic; `false` if it was not subscribed.
 *
 * @since 0.1.0
 */
export const unsubscribe = (topic: string, agent: string, id: string) =>
  Effect.flatMap(Topic.client, (client) => Effect.mapError(client(topic).Unsubscribe({ agent, id }), unavailable(topic)))

/**
 * Publish a message to every subscriber of a topic; says who got it and who did not.
 *
 * @since 0.1.0
 */
export const publish = (
  topic: string,
  message: string,
  options: { readonly from?: string | undefined; readonly clock?: number | undefined; readonly messageId?: string | undefined } = {}
) =>
  Effect.flatMap(Topic.client, (client) =>
    Effect.mapError(
      client(topic).Publish(
        new Publication({
          message,
          ...(options.from === undefined ? {} : { from: options.from }),
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          ...(options.messageId === undefined ? {} : { messageId: options.messageId })
        })
      ),
      unavailable(topic)
    ))

/**
 * The subscribers of a topic.
 *
 * @since 0.1.0
 */
export const subscribers = (topic: string) =>
  Effect.flatMap(Topic.client, (client) => Effect.mapError(client(topic).Subscribers(), unavailable(topic)))
