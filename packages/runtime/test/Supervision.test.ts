import { AgentError, AgentMemory, Events, Supervision } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Option, Queue, Ref, Schedule, TestClock } from "effect"

const policy = Supervision.policy({ maxRestarts: 2, initialBackoff: "1 second", factor: 2, window: "1 minute" })

const services = Layer.merge(Supervision.layer, Events.layer)

type Built = { readonly refused: unknown } | "built"

/**
 * An instance build as `Agent.toLayer` makes it: it waits out the supervisor's backoff, then runs
 * `body`; the times at which the body ran are kept.
 */
const instance = (body: Effect.Effect<Built, AgentMemory.MemoryUnreadable>) =>
  Effect.gen(function*() {
    const supervisor = yield* Supervision.Supervisor
    const builds = yield* Ref.make<ReadonlyArray<number>>([])
    const build = Effect.gen(function*() {
      yield* supervisor.onStart("keeper/k1", policy)
      const now = yield* Clock.currentTimeMillis
      yield* Ref.update(builds, (at) => [...at, now])
      return yield* body
    })
    const supervised = Supervision.superviseBuild(build, {
      agent: "keeper",
      id: "k1",
      policy,
      refuse: (failure): Built => ({ refused: failure })
    })
    // the cluster rebuilds an entity whose build died at once, for as long as it dies
    const asTheClusterRuns = supervised.pipe(Effect.sandbox, Effect.retry(Schedule.forever), Effect.unsandbox)
    return { builds, run: asTheClusterRuns }
  })

/** Advance the test clock a second at a time until the fiber is done (at most a minute). */
const settle = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 60 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
      yield* TestClock.adjust("1 second")
    }
    return yield* Fiber.join(fiber)
  })

describe("Supervision.superviseBuild", () => {
  it.scoped("a build that dies is retried after the policy's backoff, and past the limit the instance refuses with AgentFailed", () =>
    Effect.gen(function*() {
      const events = yield* Effect.flatMap(Events.Events, (bus) => bus.subscribe)
      const { builds, run } = yield* instance(Effect.die(new Error("the memory store is down")))
      const result = yield* settle(yield* Effect.fork(run))

      // built at once, then after 1 s and 2 s more: the cluster's zero-delay retry never spins
      expect(yield* Ref.get(builds)).toEqual([0, 1000, 3000])
      expect(result).not.toBe("built")
      const refusal = (result as { refused: unknown }).refused
      expect(refusal).toBeInstanceOf(AgentError.AgentFailed)
      expect(refusal).toMatchObject({ agent: "keeper", id: "k1", rpc: "(start)", restarts: 2 })
      expect((refusal as AgentError.AgentFailed).message).toContain("the memory store is down")
      const gaveUp = [...(yield* Queue.takeAll(events))].filter((e) => e._tag === "AgentGaveUp")
      expect(gaveUp).toMatchObject([{ agent: "keeper", id: "k1", rpc: "(start)", restarts: 2 }])
    }).pipe(Effect.provide(services)))

  it.scoped("a build that fails with a typed error (unreadable memory) refuses at once, with no rebuild", () =>
    Effect.gen(function*() {
      const unreadable = new AgentMemory.MemoryUnreadable({
        agent: "keeper",
        id: "k1",
        key: "keeper/k1",
        quarantineId: 7,
        reason: "Expected string, actual undefined"
      })
      const { builds, run } = yield* instance(Effect.fail(unreadable))
      const exit = yield* Effect.exit(run)
      expect(exit).toEqual(Exit.succeed({ refused: unreadable }))
      expect(yield* Ref.get(builds)).toEqual([0])
    }).pipe(Effect.provide(services)))

  it.scoped("a build that dies once is rebuilt after the first backoff and becomes the instance", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const body = Effect.flatMap(Ref.updateAndGet(attempts, (n) => n + 1), (n) =>
        n === 1 ? Effect.die(new Error("flaky start")) : Effect.succeed<Built>("built"))
      const { builds, run } = yield* instance(body)
      expect(yield* settle(yield* Effect.fork(run))).toBe("built")
      expect(yield* Ref.get(builds)).toEqual([0, 1000])
    }).pipe(Effect.provide(services)))
})

describe("Supervision.layer", () => {
  it.effect("an instance with no defect for longer than its policy's window is forgotten; one that failed recently is kept", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervision.Supervisor
      for (let i = 0; i < 100; i++) yield* supervisor.onDefect(`keeper/old-${i}`, policy, new Error("boom"))
      expect(yield* supervisor.tracked).toBe(100)

      yield* TestClock.adjust("50 seconds")
      yield* supervisor.onDefect("keeper/recent", policy, new Error("boom"))
      expect(yield* supervisor.tracked).toBe(101)

      // past the old ones' window, and a sweep interval later
      yield* TestClock.adjust("20 seconds")
      yield* supervisor.onStart("keeper/other", policy)
      expect(yield* supervisor.tracked).toBe(1)
      // the one kept still counts its restart
      expect(yield* supervisor.onDefect("keeper/recent", policy, new Error("boom"))).toEqual({ _tag: "Restart", restart: 2 })
    }).pipe(Effect.provide(Supervision.layer)))
})
