import { Broadcast, Collaboration, Session } from "@colony/agents"
import { Agent, Colony, LanguageModel } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Layer, Metric, Option, Queue, Stream, TestClock } from "effect"
import { colony, ref } from "./fixtures.js"

const sessions = Session.layer.pipe(Layer.provideMerge(colony))

describe("Session", () => {
  it.live("a session streams its Lamport-stamped events as they happen and ends with the result", () =>
    Effect.gen(function*() {
      const pattern = Collaboration.MasterSlave.make({ coordinator: ref("lead/ss"), workers: [ref("helper/ss1"), ref("helper/ss2")] })
      const items = Chunk.toReadonlyArray(yield* Stream.runCollect(Session.run("s-stream", pattern, "Trip: book flights, and book a hotel")))
      const last = items.at(-1)!
      expect(last).toBeInstanceOf(Session.Finished)
      const result = (last as Session.Finished).result
      expect(result.session).toBe("s-stream")
      expect(result.contributions.map((c) => `${c.by}`)).toEqual(["helper/ss1", "helper/ss2", "lead/ss"])
      const events = items.slice(0, -1) as ReadonlyArray<Collaboration.Stamped>
      expect(events[0]!.event).toMatchObject({ _tag: "SessionStarted", agent: Session.entityType, id: "s-stream" })
      expect(events.at(-1)!.event._tag).toBe("SessionCompleted")
      expect(events.map((e) => e.stamp.time)).toEqual(events.map((_, i) => i + 1))
      expect(events.some((e) => e.event._tag === "ModelCalled")).toBe(true)

      const status = yield* Session.status("s-stream")
      expect(status.state).toBe("completed")
      expect(status.events).toBe(events.length)
      expect(status.result?.answer).toBe(result.answer)
    }).pipe(Effect.provide(sessions)))

  it.live("Status and Cancel reach a running session, which refuses a second run and ends cancelled", () =>
    Effect.gen(function*() {
      const pattern = Collaboration.Peer.make({ peers: [ref("sleeper/z1"), ref("helper/z2")] })
      const seen = yield* Queue.unbounded<Session.Progress>()
      const run = yield* Effect.fork(Stream.runForEach(Session.run("s-cancel", pattern, "Anyone there?"), (p) => Queue.offer(seen, p)))
      // the awaited signal: both peers have been sent their question
      for (let sent = 0; sent < 2;) {
        const p = yield* Queue.take(seen)
        if (p instanceof Collaboration.Stamped && p.event._tag === "MessageSent") sent++
      }
      const status = yield* Session.status("s-cancel")
      expect(status.state).toBe("running")
      expect(status.clock).toBeGreaterThanOrEqual(3)
      const busy = yield* Session.run("s-cancel", pattern, "again").pipe(Stream.runCollect, Effect.flip)
      expect(busy._tag).toBe("SessionBusy")
      expect(status.pattern).toBe("Peer")
      expect(yield* Session.cancel("s-cancel")).toBe(true)
      const error = yield* Fiber.join(run).pipe(Effect.flip)
      expect(error._tag).toBe("SessionCancelled")
      const after = yield* Session.status("s-cancel")
      expect(after.state).toBe("cancelled")
      expect(yield* Session.cancel("s-cancel")).toBe(false)
      expect(after.result).toBeUndefined()
    }).pipe(Effect.provide(sessions)))

  it.live("Session.result gives the same result a direct run gives", () =>
    Effect.gen(function*() {
      const pattern = Collaboration.Peer.make({ peers: [ref("red/sr1"), ref("blue/sr2"), ref("red/sr3")], options: ["red", "blue"] })
      const result = yield* Session.result("s-result", pattern, "Which colour?")
      expect(result.answer).toBe("red")
      expect(result.pattern).toBe("Peer")
    }).pipe(Effect.provide(sessions)))

  it.live("a watcher joining mid-run gets the events so far, then the rest live, ending with the result", () =>
    Effect.gen(function*() {
      // the sleeper never answers: each round waits out the step timeout, so the run is still going
      const pattern = Collaboration.Peer.make({
        peers: [ref("sleeper/w1"), ref("helper/w2")],
        rounds: 2,
        stop: "fixed-rounds",
        stepTimeoutMs: 300
      })
      const seen = yield* Queue.unbounded<Session.Progress>()
      const run = yield* Effect.fork(
        Stream.runForEach(Session.run("s-watch", pattern, "Anyone there?"), (p) => Queue.offer(seen, p))
      )
      // join once the first question is out and the run is waiting on the sleeper
      while (true) {
        const p = yield* Queue.take(seen)
        if (p instanceof Collaboration.Stamped && p.event._tag === "MessageSent") break
      }
      expect((yield* Session.status("s-watch")).state).toBe("running")
      const watched = Chunk.toReadonlyArray(yield* Stream.runCollect(Session.watch("s-watch")))
      yield* Fiber.join(run)
      expect(watched.at(-1)).toBeInstanceOf(Session.Finished)
      // every event once, in order: the stamps run 1, 2, 3, … without a gap or a repeat
      const stamps = watched.filter((p): p is Collaboration.Stamped => p instanceof Collaboration.Stamped).map((p) => p.stamp.time)
      expect(stamps).toEqual(stamps.map((_, i) => i + 1))
      // after the run, a new watcher gets the same record, replayed
      const replay = Chunk.toReadonlyArray(yield* Stream.runCollect(Session.watch("s-watch")))
      expect(replay.length).toBe(watched.length)
      expect((replay.at(-1) as Session.Finished).result.answer).toBe((watched.at(-1) as Session.Finished).result.answer)
      // a session that never ran streams nothing
      expect(Chunk.size(yield* Stream.runCollect(Session.watch("s-never")))).toBe(0)
    }).pipe(Effect.provide(sessions)))
})

describe("Session watchers", () => {
  const followerBuffer = 16
  // the items a watcher's RPC client holds for its reader (`@effect/rpc`'s default stream buffer)
  const rpcBuffer = 16
  const bounded = Session.layerWith({ followerBuffer }).pipe(Layer.provideMerge(colony))

  it.scopedLive("a watcher that stops reading is ended with FollowerOverflow, while one that keeps up gets the whole run", () =>
    Effect.gen(function*() {
      const pattern = Collaboration.Peer.make({
        peers: [ref("sleeper/b1"), ...[2, 3, 4, 5, 6].map((n) => ref(`helper/b${n}`))],
        rounds: 3,
        stop: "fixed-rounds",
        stepTimeoutMs: 300
      })
      const seen = yield* Queue.unbounded<Session.Progress>()
      const run = yield* Effect.fork(
        Stream.runForEach(Session.run("s-bounded", pattern, "Anyone there?"), (p) => Queue.offer(seen, p))
      )
      while (true) {
        const p = yield* Queue.take(seen)
        if (p instanceof Collaboration.Stamped && p.event._tag === "MessageSent") break
      }
      // the stalled watcher takes what was recorded so far, then reads nothing until the run is over
      const stalled = yield* Stream.toPull(Session.watch("s-bounded"))
      const before = Chunk.size(yield* stalled)
      const fast = yield* Effect.fork(Stream.runCollect(Session.watch("s-bounded")))
      yield* Fiber.join(run)

      const watched = Chunk.toReadonlyArray(yield* Fiber.join(fast))
      expect(watched.at(-1)).toBeInstanceOf(Session.Finished)
      const stamps = watched.filter((p): p is Collaboration.Stamped => p instanceof Collaboration.Stamped).map((p) => p.stamp.time)
      expect(stamps).toEqual(stamps.map((_, i) => i + 1))
      expect(watched.length - before).toBeGreaterThan(followerBuffer + rpcBuffer)

      // what was in flight reaches it, then the failure (a pull fails with None at the end of a stream)
      let after = 0
      let ended: Option.Option<unknown> = Option.none()
      while (true) {
        const next = yield* Effect.either(stalled)
        if (Either.isLeft(next)) {
          ended = next.left
          break
        }
        after += Chunk.size(next.right)
      }
      expect(Option.getOrUndefined(ended)).toBeInstanceOf(Broadcast.FollowerOverflow)
      // its own buffer was dropped: it got what its RPC client held and one chunk on the way
      expect(after).toBeLessThanOrEqual(rpcBuffer + followerBuffer)
      expect(after).toBeLessThan(watched.length - before)
    }).pipe(Effect.provide(bounded)))
})

describe("Session callers", () => {
  const followerBuffer = 16
  // the items the caller's RPC client holds for its reader (`@effect/rpc`'s default stream buffer)
  const rpcBuffer = 16
  const bounded = Session.layerWith({ followerBuffer }).pipe(Layer.provideMerge(colony))
  const overflowed = Metric.tagged(Broadcast.overflowedTotal, "broadcast", "session")

  it.scopedLive("a caller that stops reading its run is ended with FollowerOverflow, counted, and the run completes", () =>
    Effect.gen(function*() {
      const pattern = Collaboration.Peer.make({
        peers: [ref("sleeper/c1"), ...[2, 3, 4, 5, 6].map((n) => ref(`helper/c${n}`))],
        rounds: 3,
        stop: "fixed-rounds",
        stepTimeoutMs: 300
      })
      const countedBefore = (yield* Metric.value(overflowed)).count
      // the caller takes the first items, then reads nothing until the run is over
      const stalled = yield* Stream.toPull(Session.run("s-caller", pattern, "Anyone there?"))
      const first = Chunk.size(yield* stalled)
      const watched = Chunk.toReadonlyArray(yield* Stream.runCollect(Session.watch("s-caller")))
      expect(watched.at(-1)).toBeInstanceOf(Session.Finished)
      expect(watched.length - first).toBeGreaterThan(followerBuffer + rpcBuffer)
      expect((yield* Session.status("s-caller")).state).toBe("completed")

      let after = 0
      let ended: Option.Option<unknown> = Option.none()
      while (true) {
        const next = yield* Effect.either(stalled)
        if (Either.isLeft(next)) {
          ended = next.left
          break
        }
        after += Chunk.size(next.right)
      }
      const overflow = Option.getOrUndefined(ended)
      expect(overflow).toBeInstanceOf(Broadcast.FollowerOverflow)
      expect((overflow as Broadcast.FollowerOverflow).capacity).toBe(followerBuffer)
      expect(after).toBeLessThanOrEqual(rpcBuffer + followerBuffer)
      expect((yield* Metric.value(overflowed)).count - countedBefore).toBe(1)
    }).pipe(Effect.provide(bounded)))
})

// Every model call takes 4 minutes of the test clock: three rounds outlast the session's 10
// minutes of idle time, while no single call reaches the 5-minute step deadline.
const slowModel = Layer.effect(
  LanguageModel.LanguageModel,
  Effect.map(LanguageModel.LanguageModel, (model) => ({
    ...model,
    chat: (request: LanguageModel.ChatRequest) => Effect.delay(model.chat(request), "4 minutes")
  }))
).pipe(Layer.provide(LanguageModel.layerSimulated))

const slowSessions = Session.layer.pipe(
  Layer.provideMerge(Agent.toLayer(Agent.make({ name: "ponderer" }))),
  Layer.provideMerge(Colony.layerEmbedded({ languageModel: slowModel })),
  Layer.orDie
)

/** Move the test clock on, a little at a time, so the cluster's and the run's fibers keep up. */
const advance = (duration: Duration.DurationInput) =>
  Effect.gen(function*() {
    const steps = Math.ceil(Duration.toMillis(duration) / 5_000)
    for (let i = 0; i < steps; i++) {
      yield* TestClock.adjust("5 seconds")
      yield* Effect.yieldNow()
    }
  })

const settle = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow()
    }
    return yield* Fiber.join(fiber)
  })

describe("Session passivation", () => {
  it.scoped("a detached run outlives the session's idle time and completes", () =>
    Effect.gen(function*() {
      const pattern = Collaboration.Peer.make({
        peers: [ref("ponderer/d1"), ref("ponderer/d2")],
        rounds: 3,
        stop: "fixed-rounds"
      })
      // the caller reads the first event and goes away; the run goes on in the session
      const first = yield* settle(yield* Effect.fork(Session.run("s-detached", pattern, "Think it over").pipe(Stream.take(1), Stream.runCollect)))
      expect(Chunk.size(first)).toBe(1)

      yield* advance("11 minutes")
      const midway = yield* settle(yield* Effect.fork(Session.status("s-detached")))
      expect(midway.state).toBe("running")

      yield* advance("2 minutes")
      const done = yield* settle(yield* Effect.fork(Session.status("s-detached")))
      expect(done.state).toBe("completed")
      expect(done.result?.rounds).toBe(3)
      expect(done.result?.contributions).toHaveLength(6)

      // its result stays readable for the idle time after the run, then the session is passivated
      yield* advance("9 minutes")
      expect((yield* settle(yield* Effect.fork(Session.status("s-detached")))).state).toBe("completed")
      yield* advance("12 minutes")
      expect((yield* settle(yield* Effect.fork(Session.status("s-detached")))).state).toBe("idle")
    }).pipe(Effect.provide(slowSessions)), 60_000)
})
