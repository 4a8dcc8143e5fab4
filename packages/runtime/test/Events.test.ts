import { Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Queue, Stream } from "effect"

const handled = (n: number) =>
  new Events.MessageHandled({ agent: "faq", id: `c${n}`, at: n, rpc: "Ask", outcome: "success", durationMs: 1, summary: `#${n}` })

describe("Events.layer", () => {
  it.scoped("a stalled subscriber is ended with SubscriberFellBehind and holds at most its buffer, while a fast one gets every event", () =>
    Effect.gen(function*() {
      const bus = yield* Events.Events
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
