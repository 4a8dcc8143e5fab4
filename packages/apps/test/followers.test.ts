/**
 * Followers with bounded buffers: the broadcast itself and the support desk's activity feed (the
 * session entity's callers and watchers, which the gateway streams as they are, are pinned in the
 * agents' `Session.test.ts`). A follower that stops reading is ended with a typed failure saying
 * where it stopped, while the publisher goes on and a follower that keeps up receives everything.
 *
 * No timing: the publisher waits, every few items, until the fast follower has read what it was
 * sent, so the fast one never holds more than a batch whatever the scheduler does, and the stalled
 * one fills up deterministically.
 */
import { Broadcast } from "@colony/agents"
import { Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Ref, Stream, SubscriptionRef } from "effect"
import * as Activity from "../src/support/web/Activity.js"

const capacity = 10
const batch = 5
const published = 100

const atLeast = (counter: SubscriptionRef.SubscriptionRef<number>, n: number) =>
  counter.changes.pipe(Stream.takeUntil((seen) => seen >= n), Stream.runDrain)

const until = (stats: Effect.Effect<Broadcast.Stats>, followers: number) =>
  Effect.repeat(stats, { until: (now) => now.followers === followers })

describe("Broadcast", () => {
  it.effect("a stalled follower is ended with what it received, and the publisher and a fast follower go on", () =>
    Effect.gen(function*() {
      const hub = yield* Broadcast.make<number>({ capacity })
      const fastSeen = yield* SubscriptionRef.make(0)
      const release = yield* Deferred.make<void>()
      const stalledSeen = yield* Ref.make<ReadonlyArray<number>>([])

      const fast = yield* Effect.scoped(Effect.flatMap(hub.follow({ resume: "start over" }), (items) =>
        Stream.runForEach(items, () => SubscriptionRef.update(fastSeen, (n) => n + 1))
      )).pipe(Effect.fork)
      const stalled = yield* Effect.scoped(Effect.flatMap(hub.follow({ resume: "start over" }), (items) =>
        Stream.runForEach(items, (n) => Effect.zipRight(Deferred.await(release), Ref.update(stalledSeen, (all) => [...all, n])))
      )).pipe(Effect.fork)
      yield* until(hub.stats, 2)

      let peak = 0
      for (let n = 1; n <= published; n++) {
        if (n % batch === 1) {
          yield* atLeast(fastSeen, n - 1)
          peak = Math.max(peak, (yield* hub.stats).buffered)
        }
        yield* hub.publish(n)
      }
      yield* atLeast(fastSeen, published)

      const stats = yield* hub.stats
      expect(stats.overflowed).toBe(1)
      expect(stats.followers).toBe(1)
      expect(peak).toBeLessThanOrEqual(capacity + batch)

      yield* Deferred.succeed(release, undefined)
      const exit = yield* Fiber.await(stalled)
      const seen = yield* Ref.get(stalledSeen)
      expect(exit).toStrictEqual(Exit.fail(new Broadcast.FollowerOverflow({ capacity, delivered: seen.length, resume: "start over" })))
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1))
      expect(seen.length).toBeLessThanOrEqual(capacity + 1)
      yield* Fiber.interrupt(fast)
    }))
})

const stopped = (id: string, at: number) => new Events.AgentStopped({ agent: "triage", id, at })

describe("Activity", () => {
  it.scoped("a reader that stops reading a conversation's feed is ended with the last event it was sent", () =>
    Effect.gen(function*() {
      const bus = yield* Events.Events
      const activity = yield* Activity.make({ eventsPerConversation: 300, conversations: 10, followerBuffer: capacity })
      const fastSeen = yield* SubscriptionRef.make(0)
      const fastSeqs = yield* Ref.make<ReadonlyArray<number>>([])
      const release = yield* Deferred.make<void>()
      const stalledSeqs = yield* Ref.make<ReadonlyArray<number>>([])

      const fast = yield* Stream.runForEach(activity.follow("c1"), (entry) =>
        Effect.zipRight(
          Ref.update(fastSeqs, (all) => [...all, entry.seq]),
          SubscriptionRef.update(fastSeen, (n) => n + 1)
        )).pipe(Effect.fork)
      const stalled = yield* Stream.runForEach(activity.follow("c1"), (entry) =>
        Effect.zipRight(Deferred.await(release), Ref.update(stalledSeqs, (all) => [...all, entry.seq]))).pipe(Effect.fork)
      yield* until(activity.followers, 2)

      let peak = 0
      for (let n = 1; n <= published; n++) {
        if (n % batch === 1) {
          peak = Math.max(peak, (yield* activity.followers).buffered)
          yield* atLeast(fastSeen, n - 1)
        }
        // another conversation's events never take room in c1's followers' buffers
        yield* bus.publish(stopped("c2.session", n))
        yield* bus.publish(stopped("c1", n))
      }
      yield* atLeast(fastSeen, published)

      const c1 = Array.from({ length: published }, (_, i) => 2 * (i + 1))
      expect(yield* Ref.get(fastSeqs)).toEqual(c1)
      const stats = yield* activity.followers
      expect(stats).toEqual({ followers: 1, buffered: 0, overflowed: 1 })
      expect(peak).toBeLessThanOrEqual(capacity + batch)

      yield* Deferred.succeed(release, undefined)
      const exit = yield* Fiber.await(stalled)
      const seqs = yield* Ref.get(stalledSeqs)
      expect(seqs).toEqual(c1.slice(0, seqs.length))
      const lastSeq = seqs[seqs.length - 1]!
      expect(exit).toStrictEqual(Exit.fail(new Activity.FellBehind({ conversation: "c1", lastSeq, capacity })))

      // what the page reads last, and where its reconnection resumes
      const behind = new Activity.FellBehind({ conversation: "c1", lastSeq, capacity })
      const frame = Activity.overflowFrame(behind)
      expect(frame.startsWith(`event: overflow\nid: ${lastSeq}\ndata: `)).toBe(true)
      expect(frame.endsWith("\n\n")).toBe(true)
      expect(JSON.parse(frame.split("data: ")[1]!)).toEqual({ conversation: "c1", lastSeq, message: behind.message })
      expect(behind.message).toContain(`Last-Event-ID: ${lastSeq}`)

      // following again after the last event sent replays what is still remembered
      const resumed = yield* activity.follow("c1", lastSeq).pipe(Stream.take(3), Stream.runCollect)
      expect([...resumed].map((entry) => entry.seq)).toEqual(c1.slice(seqs.length, seqs.length + 3))
      yield* Fiber.interrupt(fast)
    }).pipe(Effect.provide(Events.layer)))
})
