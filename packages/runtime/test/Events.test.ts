import { Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Metric, Queue, Schema, Stream } from "effect"

const handled = (n: number) =>
  new Events.MessageHandled({ agent: "faq", id: `c${n}`, at: n, rpc: "Ask", outcome: "success", durationMs: 1, summary: `#${n}` })

// what another package or an application adds, without the runtime knowing it
class Paged extends Schema.TaggedClass<Paged>()("Paged", { ...Events.envelope, pager: Schema.String }) {
  format(): string {
    return `paged ${this.pager} for ${this.agent}/${this.id}`
  }
}

describe("Events", () => {
  it.scoped("an event defined outside the runtime travels the bus with the runtime's own and formats itself", () =>
    Effect.gen(function*() {
      const bus = yield* Events.Events
      const queue = yield* bus.subscribe
      yield* bus.publish(handled(1))
      yield* bus.publish(new Paged({ agent: "oncall", id: "night", at: 2, pager: "ops" }))
      const [first, second] = [...yield* Queue.takeAll(queue)]
      expect(first).toBeInstanceOf(Events.MessageHandled)
      expect(second).toBeInstanceOf(Paged)
      expect([first, second].map(Events.format)).toEqual(["← faq/c1 Ask success in 1 ms: #1", "paged ops for oncall/night"])
      // the runtime's union does not claim it; a consumer that does not know it still reads the envelope
      expect(Schema.is(Events.RuntimeEvent)(second)).toBe(false)
      expect(Schema.encodeSync(Events.Envelope)(second!)).toEqual({ _tag: "Paged", agent: "oncall", id: "night", at: 2 })
      const both = Schema.Union(Events.RuntimeEvent, Paged)
      expect(Schema.decodeUnknownSync(both)(Schema.encodeSync(both)(second as Paged))).toEqual(second)
    }).pipe(Effect.provide(Events.layer)))
})

describe("Events.layer", () => {
  it.scoped("a stalled subscriber is ended with SubscriberFellBehind and holds at most its buffer, while a fast one gets every event", () =>
    Effect.gen(function*() {
      const bus = yield* Events.Events
      const counted = (yield* Metric.value(Events.fellBehindTotal)).count
      const fast = yield* bus.subscribe
      const stalled = yield* bus.subscribe
      // it reads the first two, then stops
      for (let n = 1; n <= 2; n++) yield* bus.publish(handled(n))
      expect((yield* Queue.takeAll(stalled)).pipe(Chunk.size)).toBe(2)

      const got: Array<Events.Event> = [...yield* Queue.takeAll(fast)]
      let peak = 0
      for (let n = 3; n <= 1000; n++) {
        yield* bus.publish(handled(n))
        peak = Math.max(peak, yield* Queue.size(stalled))
        // the fast one holds the event just published; the stalled one at most its buffer
        expect((yield* bus.stats).buffered).toBeLessThanOrEqual(5 + 1)
        got.push(...(yield* Queue.takeAll(fast)))
      }

      expect(got.map((e) => (e as Events.MessageHandled).summary)).toEqual(got.map((_, i) => `#${i + 1}`))
      expect(got).toHaveLength(1000)
      expect(peak).toBeLessThanOrEqual(5)
      const last = [...yield* Queue.takeAll(stalled)]
      expect(last).toHaveLength(1)
      expect(last[0]).toMatchObject({ _tag: "SubscriberFellBehind", capacity: 5, delivered: 2 })
      expect(yield* bus.stats).toEqual({ subscribers: 1, buffered: 0, overflowed: 1 })
      expect((yield* Metric.value(Events.fellBehindTotal)).count - counted).toBe(1)
      // nothing more reaches it
      yield* bus.publish(handled(1001))
      expect(yield* Queue.size(stalled)).toBe(0)
    }).pipe(Effect.provide(Events.layerWith({ subscriberBuffer: 5 }))))

  it.scoped("a stream that falls behind ends with SubscriberFellBehind", () =>
    Effect.gen(function*() {
      const bus = yield* Events.Events
      const pull = yield* Stream.toPull(bus.stream)
      // the stream subscribes when first pulled
      const first = yield* Effect.fork(pull)
      yield* Effect.yieldNow()
      for (let n = 1; n <= 10; n++) yield* bus.publish(handled(n))
      const read: Array<Events.Event> = [...(yield* first.await.pipe(Effect.flatten))]
      while (true) {
        const chunk = yield* Effect.option(pull)
        if (chunk._tag === "None") break
        read.push(...chunk.value)
      }
      expect(read.at(-1)).toMatchObject({ _tag: "SubscriberFellBehind", capacity: 3 })
      expect(read.length).toBeLessThanOrEqual(4)
    }).pipe(Effect.provide(Events.layerWith({ subscriberBuffer: 3 }))))
})
