/**
 * Who a model call is spent on: the agent and collaboration names carried by the fiber, so the
 * code that calls a model need not pass them along.
 */
import { Effect, FiberRef } from "effect"
import { dual } from "effect/Function"
import { globalValue } from "effect/GlobalValue"

/**
 * Who a call is spent on. Set with `withAttribution` around an agent's handler or a
 * collaboration; every call inside is summed under those names.
 *
 * @since 0.1.0
 */
export interface Attribution {
  readonly agent?: string | undefined
  readonly collaboration?: string | undefined
}

export const currentAttribution = globalValue(
  Symbol.for("@colony/runtime/LanguageModel/currentAttribution"),
  () => FiberRef.unsafeMake<Attribution>({})
)

/**
 * Attribute every model call made by `effect` to an agent and/or a collaboration. Nested uses
 * combine: an inner `{ agent }` keeps the outer `{ collaboration }`.
 *
 * @since 0.1.0
 */
export const withAttribution: {
  (attribution: Attribution): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, attribution: Attribution): Effect.Effect<A, E, R>
} = dual(2, <A, E, R>(effect: Effect.Effect<A, E, R>, attribution: Attribution) =>
  Effect.locallyWith(effect, currentAttribution, (outer) => ({
    ...outer,
    ...(attribution.agent === undefined ? {} : { agent: attribution.agent }),
    ...(attribution.collaboration === undefined ? {} : { collaboration: attribution.collaboration })
  })))
