import { Topic } from "@colony/agents"
import { Agent, Colony, Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue, Ref } from "effect"

type Received = { readonly to: string; readonly topic: string; readonly message: string; readonly from?: string | undefined; readonly clock: number }
class Inbox extends Context.Tag("test/Inbox")<Inbox, Ref.Ref<ReadonlyArray<Received>>>() {}

const Reader = Agent.make({ name: "reader", protocol: [Topic.Message], supervision: { maxRestarts: 0 } })
const ReaderLive = Agent.toLayer(Reader, {
  TopicMessage: (message, agent) =>
    message.message === "poison"
      ? Effect.die(new Error("cannot read this"))
      : Effect.flatMap(Inbox, (inbox) => Ref.update(inbox, (all) => [...all, { ...message, to: agent.id }]))
})
const Plain = Agent.make({ name: "plain" })

const colony = Layer.mergeAll(Topic.layer, ReaderLive, Agent.toLayer(Plain)).pipe(
  Layer.provideMerge(Colony.embedded),
  Layer.provideMerge(Layer.effect(Inbox, Ref.make<ReadonlyArray<Received>>([]))),
  Layer.orDie
)

describe("Topic", () => {
  it.live("a published message reaches every subscriber, on its TopicMessage RPC or as an Ask", () =>
    Effect.gen(function*() {
      const events = yield* Effect.flatMap(Events.Events, (bus) => bus.subscribe)
      expect(yield* Topic.subscribe("news", "reader", "r1")).toBe(1)
      expect(yield* Topic.subscribe("news", "reader", "r2")).toBe(2)
      expect(yield* Topic.subscribe("news", "reader", "r2")).toBe(2)
      yield* Topic.subscribe("news", "plain", "p1", "Ask")

      const delivery = yield* Topic.publish("news", "the launch moved to Friday", { from: "lead/t1", clock: 7 })
      expect([...delivery.delivered].sort()).toEqual(["plain/p1", "reader/r1", "reader/r2"])
      expect(delivery.failed).toEqual([])
      const inbox = yield* Ref.get(yield* Inbox)
      expect(inbox.map((m) => [m.to, m.topic, m.message, m.from]).sort()).toEqual([
        ["r1", "news", "the launch moved to Friday", "lead/t1"],
        ["r2", "news", "the launch moved to Friday", "lead/t1"]
      ])
      // the topic's logical clock moved past the publisher's before forwarding
      expect(inbox.every((m) => m.clock > 7)).toBe(true)
      const asked = [...(yield* Queue.takeAll(events))].find((e) => e._tag === "MessageReceived" && e.agent === "plain")
      expect(asked).toMatchObject({ rpc: "Ask", from: "topic:news", summary: "[news] the launch moved to Friday" })

      expect(yield* Topic.unsubscribe("news", "reader", "r1")).toBe(true)
      const second = yield* Topic.publish("news", "and it is sunny")
      expect([...second.delivered].sort()).toEqual(["plain/p1", "reader/r2"])
      expect((yield* Topic.subscribers("other")).length).toBe(0)
    }).pipe(Effect.provide(colony), Effect.scoped))

  it.live("a subscriber that fails is reported, and the others still get the message; when all fail, the publish fails", () =>
    Effect.gen(function*() {
      yield* Topic.subscribe("alerts", "reader", "a1")
      yield* Topic.subscribe("alerts", "nobody", "x")
      // nobody got it: the publish says so instead of succeeding with an empty delivery
      const refused = yield* Effect.flip(Topic.publish("alerts", "poison"))
      if (refused._tag !== "NotDelivered") return expect.unreachable(refused.message)
      expect(refused.failed.map((f) => [f.subscriber, f.reason.split(":")[0]])).toEqual([
        ["reader/a1", "AgentFailed"],
        ["nobody/x", "UnknownAgent"]
      ])
      expect(refused.message).toContain("no subscriber of topic \"alerts\" got message")
      const ok = yield* Topic.publish("alerts", "all clear")
      expect(ok.delivered).toEqual(["reader/a1"])
    }).pipe(Effect.provide(colony)))

  it.live("publishing is keyed by message id: the same message published twice is delivered once", () =>
    Effect.gen(function*() {
      yield* Topic.subscribe("orders", "reader", "o1")
      const first = yield* Topic.publish("orders", "order 17 shipped", { messageId: "m-17" })
      const again = yield* Topic.publish("orders", "order 17 shipped", { messageId: "m-17" })
      expect(again).toEqual(first)
      const inbox = yield* Ref.get(yield* Inbox)
      expect(inbox.filter((m) => m.message === "order 17 shipped")).toHaveLength(1)
    }).pipe(Effect.provide(colony)))

  it.live("a publish to a topic nobody subscribed to fails with NotDelivered", () =>
    Effect.gen(function*() {
      const refused = yield* Effect.flip(Topic.publish("empty", "anyone there?", { messageId: "m-1" }))
      if (refused._tag !== "NotDelivered") return expect.unreachable(refused.message)
      expect(refused.failed).toEqual([])
      expect(refused.messageId).toBe("m-1")
      expect(refused.message).toContain("nobody is subscribed to topic \"empty\"")
    }).pipe(Effect.provide(colony)))
})
