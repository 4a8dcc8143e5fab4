/**
 * The load of agent instances as this process sees it: how many requests it has in flight to
 * each one. It is what `assign: "least-loaded"` balances on.
 *
 * It counts only requests sent from this process (by sessions and `Collaboration.run` sharing the
 * layer): the cluster does not expose an entity's mailbox depth, and asking an agent for its load
 * would queue behind the very requests it should count. Requests from other processes are not
 * seen; with several runners, each balances its own share.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"

/**
 * @since 0.1.0
 * @category tags
 */
export class LoadTracker extends Context.Tag("@colony/agents/LoadTracker")<LoadTracker, {
  /** count a request to `address` (`type/id`) as in flight while `effect` runs */
  readonly track: <A, E, R>(address: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** requests in flight to each address */
  readonly load: (addresses: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<number>>
}>() {}

/**
 * A tracker over a plain map of counters.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): LoadTracker["Type"] => {
  const inFlight = new Map<string, number>()
  const add = (address: string, delta: number) => {
    const next = (inFlight.get(address) ?? 0) + delta
    if (next === 0) inFlight.delete(address)
    else inFlight.set(address, next)
  }
  return {
    track: (address, effect) =>
      Effect.acquireUseRelease(
        Effect.sync(() => add(address, 1)),
        () => effect,
        () => Effect.sync(() => add(address, -1))
      ),
    load: (addresses) => Effect.sync(() => addresses.map((address) => inFlight.get(address) ?? 0))
  }
}

/**
 * One tracker for the process: every session and direct run that has it counts into it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<LoadTracker> = Layer.sync(LoadTracker, make)
