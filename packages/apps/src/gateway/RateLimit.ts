/**
 * A per-caller token bucket: `perMinute` requests a minute, with bursts of up to a minute's worth.
 * Pure over the clock value given, so it is tested as a function and driven by the Effect `Clock`.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface Bucket {
  readonly tokens: number
  readonly updatedAt: number
}

/**
 * @since 0.1.0
 * @category models
 */
export type Decision =
  | { readonly allowed: true; readonly bucket: Bucket }
  | { readonly allowed: false; readonly bucket: Bucket; readonly retryAfterMs: number }

/**
 * Take one token from `bucket` (a fresh caller starts full) at time `now` (ms).
 *
 * @since 0.1.0
 */
export const take = (bucket: Bucket | undefined, now: number, perMinute: number): Decision => {
  const perMs = perMinute / 60_000
  const current = bucket === undefined
    ? perMinute
    : Math.min(perMinute, bucket.tokens + Math.max(0, now - bucket.updatedAt) * perMs)
  if (current >= 1) return { allowed: true, bucket: { tokens: current - 1, updatedAt: now } }
  return { allowed: false, bucket: { tokens: current, updatedAt: now }, retryAfterMs: Math.ceil((1 - current) / perMs) }
}

/**
 * Buckets by caller, in memory: a gateway limits what it serves itself (run N gateways, allow N×).
 * A bucket left alone for a minute is full again, the same as no bucket: such buckets are dropped
 * as callers come and go, so callers that never return (addresses, expired tokens) cost nothing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (perMinute: number) => {
  const buckets = new Map<string, Bucket>()
  let sweptAt = 0
  const sweep = (now: number) => {
    if (now - sweptAt < 60_000) return
    sweptAt = now
    for (const [caller, bucket] of buckets) if (now - bucket.updatedAt >= 60_000) buckets.delete(caller)
  }
  return {
    take: (caller: string): Effect.Effect<Decision> =>
      perMinute <= 0
        ? Effect.succeed({ allowed: true, bucket: { tokens: Infinity, updatedAt: 0 } })
        : Effect.map(Clock.currentTimeMillis, (now) => {
          sweep(now)
          const decision = take(buckets.get(caller), now, perMinute)
          buckets.set(caller, decision.bucket)
          return decision
        }),
    /** how many callers have a bucket */
    size: (): number => buckets.size
  }
}
