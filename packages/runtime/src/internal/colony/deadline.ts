/**
 * The deadline of an agent call: the caller's, else `COLONY_CALL_TIMEOUT`.
 */
import { Duration, Effect, FiberRef, Option } from "effect"
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
