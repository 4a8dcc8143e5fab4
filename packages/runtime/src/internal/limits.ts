/**
 * The per-model limits: a concurrency limit and optional requests per minute, one set per
 * registry entry, shared by every call that resolves to it.
 */
import { Effect, RateLimiter, type Scope } from "effect"
import type * as ModelRegistry from "../ModelRegistry.js"

/** The limits of one registry entry. */
export interface Limits {
  readonly semaphore: Effect.Semaphore
  readonly rate: RateLimiter.RateLimiter | undefined
}

/** The limits for a registry entry's settings; the rate limiter lives as long as the scope. */
export const makeLimits = (settings: ModelRegistry.ModelSettings): Effect.Effect<Limits, never, Scope.Scope> =>
  Effect.gen(function*() {
    const rate = settings.requestsPerMinute === undefined
      ? undefined
      : yield* RateLimiter.make({ limit: settings.requestsPerMinute, interval: "1 minute" })
    return { semaphore: yield* Effect.makeSemaphore(settings.maxConcurrency), rate }
  })

/** Each attempt waits for the rate limit, then for a permit; the timeout starts after both. */
export const limited = <A, E, R>(limits: Limits, attempt: Effect.Effect<A, E, R>) => {
  const permitted = limits.semaphore.withPermits(1)(attempt)
  return limits.rate === undefined ? permitted : limits.rate(permitted)
}

/**
 * Takes a permit until the scope closes, then spends a rate-limit token. A stream keeps its
 * permit (and the rate-limit token it spent) from the first attempt to its last event: it
 * occupies the endpoint for all of that time.
 */
export const holdForStream = (limits: Limits): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    // Waiting for the permit stays interruptible (acquireRelease would make it uninterruptible).
    yield* Effect.uninterruptibleMask((restore) =>
      restore(limits.semaphore.take(1)).pipe(
        Effect.zipRight(Effect.addFinalizer(() => limits.semaphore.release(1)))
      )
    )
    if (limits.rate !== undefined) yield* limits.rate(Effect.void)
  })
