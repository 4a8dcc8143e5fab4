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
 * The subscriber list and the topic's Lamport clock live in `CoordinationStorage` (the colony's
 * database on runners), not in the entity: the entity is rebuilt empty on whichever runner takes
 * its shard over, after a crash or a graceful rebalance, and a topic that forgot its subscribers
 * would go on accepting messages for no one. A publish that reaches no subscriber fails with
 * `NotDelivered` instead of succeeding with an empty delivery.
 *
 * @since 0.1.0
 */
import * as ClusterError from "@effect/cluster/ClusterError"
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as Entity from "@effect/cluster/Entity"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { AgentError, Colony, Events } from "@colony/runtime"
import { Effect, Either, Layer, PrimaryKey, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as CoordinationStorage from "./CoordinationStorage.js"

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
 * A published message reached no subscriber: the topic has none, or every one of them failed.
 * Its reply is stored under the message id like any other, so publish again with a new id.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotDelivered extends Schema.TaggedError<NotDelivered>()("NotDelivered", {
  topic: Schema.String,
  messageId: Schema.String,
  failed: Schema.Array(Schema.Struct({ subscriber: Schema.String, reason: Schema.String })),
  /** the topic's Lamport time after the attempt */
  clock: Schema.Number
}) {
  override get message() {
    return this.failed.length === 0
      ? `nobody is subscribed to topic "${this.topic}", so message ${this.messageId} reached no one. ` +
        `Subscribe the receivers first (Topic.subscribe), then publish again with a new message id.`
      : `no subscriber of topic "${this.topic}" got message ${this.messageId}: ` +
        `${this.failed.map((f) => `${f.subscriber} (${f.reason})`).join("; ")}. ` +
        `Fix or unsubscribe them, then publish again with a new message id.`
  }
}

/**
 * @since 0.1.0
 * @category protocol
 */
export const Subscribe = Rpc.make("Subscribe", {
  payload: { subscriber: Subscriber },
  success: Schema.Number,
  error: CoordinationStorage.StorageError
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Unsubscribe = Rpc.make("Unsubscribe", {
  payload: { agent: Schema.String, id: Schema.String },
  success: Schema.Boolean,
  error: CoordinationStorage.StorageError
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Publish = Rpc.make("Publish", {
  payload: Publication,
  success: Delivery,
  error: Schema.Union(NotDelivered, CoordinationStorage.StorageError)
}).annotate(ClusterSchema.Persisted, true)

/**
 * @since 0.1.0
 * @category protocol
 */
export const Subscribers = Rpc.make("Subscribers", {
  success: Schema.Array(Subscriber),
  error: CoordinationStorage.StorageError
})

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
 * Host topics in this process, their subscribers and clocks in `CoordinationStorage.layer`.
 * Topics forward through the colony, so the process needs its services.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Colony.Services | Sharding> = Topic.toLayer(
  Effect.gen(function*() {
    const topic = (yield* Entity.CurrentAddress).entityId as string
    const context = yield* Effect.context<Colony.Services | Sharding>()
    const storage = yield* CoordinationStorage.CoordinationStorage
    const node = `topic/${topic}`

    const forward = (to: Subscriber, publication: Publication, at: number) => {
      const sent = to.via === "Ask"
        ? Colony.ask(to.agent, to.id, `[${topic}] ${publication.message}`, { from: `topic:${topic}` })
        : Colony.send(to.agent, to.id, "TopicMessage", {
          topic,
          message: publication.message,
          from: publication.from ?? `topic:${topic}`,
          messageId: publication.messageId,
          clock: at
        })
      return Effect.either(sent).pipe(Effect.provide(context))
    }

    return Topic.of({
      Subscribe: ({ payload }) => storage.subscribe(topic, payload.subscriber),
      Unsubscribe: ({ payload }) => storage.unsubscribe(topic, payload.agent, payload.id),
      Subscribers: () => Effect.map(storage.subscribers(topic), (rows) => rows.map((row) => new Subscriber(row))),
      Publish: ({ payload }) =>
        Effect.gen(function*() {
          const targets = (yield* storage.subscribers(topic)).map((row) => new Subscriber(row))
          // one receipt, then one tick per forward: the clock ends at `clock`, forward i is sent
          // at clock − n + 1 + i
          const clock = yield* storage.advanceClock(node, payload.clock, 1 + targets.length)
          const outcomes = yield* Effect.forEach(
            targets,
            (to, i) => forward(to, payload, clock - targets.length + 1 + i),
            { concurrency: "unbounded" }
          )
          yield* Effect.logDebug(`topic ${topic}: ${Events.summarize(payload.message)} to ${targets.length} subscriber(s)`)
          const delivered = targets.filter((_, i) => Either.isRight(outcomes[i]!)).map(String)
          const failed = targets.flatMap((to, i) => {
            const outcome = outcomes[i]!
            return Either.isLeft(outcome) ? [{ subscriber: String(to), reason: describeError(outcome.left) }] : []
          })
          if (delivered.length === 0) {
            return yield* new NotDelivered({ topic, messageId: payload.messageId, failed, clock })
          }
          return new Delivery({ topic, messageId: payload.messageId, delivered, failed, clock })
        })
    })
  }),
  { concurrency: "unbounded" }
).pipe(Layer.provide(CoordinationStorage.layer))

// --- clients ---

type Delivery_ = ClusterError.MailboxFull | ClusterError.AlreadyProcessingMessage | ClusterError.PersistenceError

const unavailable = (topic: string) => <E>(error: E | Delivery_): E | AgentError.AgentUnavailable =>
  error instanceof ClusterError.MailboxFull || error instanceof ClusterError.AlreadyProcessingMessage ||
    error instanceof ClusterError.PersistenceError
    ? new AgentError.AgentUnavailable({ agent: "colony-topic", id: topic, reason: (error as Delivery_)._tag })
    : error as E

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
 * Publish a message to every subscriber of a topic; says who got it and who did not, and fails
 * with `NotDelivered` when nobody got it.
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
