import { Lock } from "@colony/agents"
import { Colony } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import fc from "fast-check"

/** Advance the test clock until the fiber is done; the cluster needs a few turns per step. */
const settle = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.DurationInput = "100 millis") =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust(step)
      yield* Effect.yieldNow()
    }
    return yield* Fiber.join(fiber)
  })

/** The cluster acquires its shards on a timer: one settled call makes the colony ready. */
const warmUp = Layer.effectDiscard(Effect.flatMap(Effect.fork(Lock.current("warm-up")), (f) => settle(f)))

const colony = warmUp.pipe(Layer.provideMerge(Lock.layer), Layer.provideMerge(Colony.embedded), Layer.orDie)

describe("Lock (pure rules)", () => {
  it("tokens grow with every new grant, and at most one owner holds a valid lease at any time", () => {
    const op = fc.record({
      owner: fc.constantFrom("a", "b", "c"),
      kind: fc.constantFrom("acquire", "renew", "release"),
      advance: fc.nat({ max: 30 })
    })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let state = Lock.empty
        let now = 1000
        let lastToken = 0
        const held: Record<string, Lock.Lease | undefined> = {}
        for (const { advance, kind, owner } of ops) {
          now += advance
          if (kind === "acquire") {
            const out = Lock.acquire(state, "l", owner, now, 20)
            state = out.state
            if ("granted" in out) {
              if (held[owner]?.token !== out.granted.token) expect(out.granted.token).toBeGreaterThan(lastToken)
              lastToken = Math.max(lastToken, out.granted.token)
              held[owner] = out.granted
            } else expect(out.heldBy.owner).not.toBe(owner)
          } else if (held[owner] !== undefined) {
            const next = kind === "renew"
              ? Lock.renew(state, owner, held[owner]!.token, now, 20)
              : Lock.release(state, owner, held[owner]!.token, now)
            if (next !== undefined) state = next
          }
          const valid = Lock.holder(state, now)
          if (valid !== undefined) expect(valid.expiresAt).toBeGreaterThan(now)
        }
      })
    )
  })
})

describe("Lock", () => {
  it.scoped("a lease excludes other owners until it expires on the clock; then the next owner gets a larger fencing token", () =>
    Effect.gen(function*() {
      const first = yield* Lock.tryAcquire("ledger", "agent-a", "10 seconds")
      const refused = yield* Effect.flip(Lock.tryAcquire("ledger", "agent-b", "10 seconds"))
      expect(refused._tag).toBe("LockHeld")
      expect(refused.message).toContain("held by agent-a")

      const renewed = yield* Lock.extend(first, "10 seconds")
      expect(renewed.token).toBe(first.token)
      yield* TestClock.adjust("9 seconds")
      expect((yield* Effect.flip(Lock.tryAcquire("ledger", "agent-b", "10 seconds")))._tag).toBe("LockHeld")

      yield* TestClock.adjust("2 seconds")
      const second = yield* Lock.tryAcquire("ledger", "agent-b", "10 seconds")
      expect(second.owner).toBe("agent-b")
      expect(second.token).toBeGreaterThan(first.token)
      expect((yield* Effect.flip(Lock.extend(first, "10 seconds")))._tag).toBe("LeaseLost")
      expect(yield* Lock.giveUp(first)).toBe(false)
      expect((yield* Lock.current("ledger"))?.owner).toBe("agent-b")
      expect(yield* Lock.giveUp(second)).toBe(true)
      expect(yield* Lock.current("ledger")).toBeNull()
    }).pipe(Effect.provide(colony)))

  it.scoped("withLock releases the lock when its effect ends, and refuses leases longer than the maximum", () =>
    Effect.gen(function*() {
      const token = yield* Lock.withLock("deploy", "agent-a", "1 minute", (lease) => Effect.succeed(lease.token))
      expect(token).toBeGreaterThan(0)
      expect(yield* Lock.current("deploy")).toBeNull()
      const tooLong = yield* Effect.flip(Lock.tryAcquire("deploy", "agent-a", "2 hours"))
      expect(tooLong._tag).toBe("LeaseTooLong")
    }).pipe(Effect.provide(colony)))
})
