/**
 * The deadline of an agent call: the caller's, else `COLONY_CALL_TIMEOUT`.
 */
import { Clock, Duration, Effect, Fiber, FiberRef, Option } from "effect"
import { dual } from "effect/Function"
import type { Settings } from "./config.js"

/**
 * A deadline the caller set for the calls inside an effect, in place of `COLONY_CALL_TIMEOUT`.
 */
const callTimeout = FiberRef.unsafeMake<Option.Option<Duration.Duration>>(Option.none())

export const deadline = (explicit: Duration.DurationInput | undefined, settings: Settings) =>
  explicit !== undefined
    ? Effect.succeed(Duration.decode(explicit))
    : Effect.map(FiberRef.get(callTimeout), Option.getOrElse(() => settings.callTimeout))

/**
 * Give every agent call made inside `self` (by this fiber and the fibers it forks) a deadline
 * other than `COLONY_CALL_TIMEOUT`: a call with no reply by then fails with `AgentCallTimeout`.
 * Calls that agents make while handling them keep their own deadlines.
 *
 * <!-- snippet: declare const support: (id: string) => Colony.AgentClient<Agent.BaseRpcs>, prompt: string -->
 * ```ts
 * yield* support("customer-42").Ask({ prompt }).pipe(Colony.withCallTimeout("30 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category clients
 */
export const withCallTimeout: {
  (timeout: Duration.DurationInput): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, timeout: Duration.DurationInput): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, timeout: Duration.DurationInput): Effect.Effect<A, E, R> =>
    Effect.locally(self, callTimeout, Option.some(Duration.decode(timeout)))
)

// The clock a program runs on unless it provides another (a TestClock, say).
const LiveClock = Clock.make().constructor as new(...args: ReadonlyArray<never>) => Clock.Clock

// What one timer of the platform can wait; a longer deadline takes Effect's own timeout.
const maxTimerMillis = 2_147_483_647

/**
 * `self` failing with `onTimeout()` when it has not ended within `duration`, and interrupted then.
 * Every agent call has a deadline, so its cost is on every hop: `Effect.timeoutFail` races `self`
 * against a sleeping fiber and merges the winner's fiber refs back, about a seventh of an
 * embedded `Ask`'s CPU (bench/README.md, "Deadlines"). On the live clock this runs `self` in one
 * fiber with a platform timer instead; on any other clock it is `Effect.timeoutFail`, so tests
 * that move a TestClock see the same deadlines. Like a forked fiber, `self` does not hand its
 * fiber refs back to the caller.
 */
export const withDeadline = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  duration: Duration.Duration,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) => {
    const millis = Duration.toMillis(duration)
    if (!Number.isFinite(millis)) return self
    if (!(clock instanceof LiveClock) || millis > maxTimerMillis) {
      return Effect.timeoutFail(self, { duration, onTimeout })
    }
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(self)), (fiber) =>
        Effect.onInterrupt(
          restore(Effect.async<A, E | E2>((resume) => {
            let settled = false
            const timer = setTimeout(() => {
              if (settled) return
              settled = true
              fiber.unsafeInterruptAsFork(fiber.id())
              resume(Effect.fail(onTimeout()))
            }, millis)
            fiber.addObserver((exit) => {
              clearTimeout(timer)
              if (settled) return
              settled = true
              resume(exit)
            })
            return Effect.sync(() => clearTimeout(timer))
          })),
          () => Fiber.interrupt(fiber)
        ))
    )
  })
