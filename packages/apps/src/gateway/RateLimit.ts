/**
 * The gateway's rate limits, on `@effect/experimental`'s `RateLimiter`: a token bucket per caller,
 * `perMinute` requests a minute with bursts of up to a minute's worth.
 *
 * The buckets live in a `RateLimiter.RateLimiterStore`. By default it is this process's memory
 * (`layerStoreMemory`): a gateway limits what it serves itself (run N gateways, allow N×). Gateways
 * given one store — the library's Redis store (`@effect/experimental/RateLimiter/Redis`, with
 * `ioredis` installed), or one store value shared in a process — share one budget per caller.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { Duration, Effect, Layer } from "effect"

/**
 * What taking one request of a caller's limit decided.
 *
 * @since 0.1.0
 * @category models
 */
export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number }

/**
 * @since 0.1.0
 * @category models
 */
export interface Limiter {
  /** take one request of `caller`'s limit */
  readonly take: (caller: string) => Effect.Effect<Decision>
}

const allowed: Decision = { allowed: true }

/**
 * The key of a caller's bucket in the store; the prefix keeps it apart from other users of a
 * shared store.
 *
 * @since 0.1.0
 */
export const keyOf = (caller: string): string => `colony:gateway:${caller}`

/**
 * A limiter of `perMinute` requests a minute per caller (`0` or less: no limit) on the
 * `RateLimiter` in context.
 *
 * A store that fails (an unreachable Redis) lets the request through with a warning: the limit
 * protects the colony from a noisy caller, and a store outage should not turn into a gateway
 * outage.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (perMinute: number): Effect.Effect<Limiter, never, RateLimiter.RateLimiter> =>
  Effect.map(RateLimiter.RateLimiter, (limiter) => ({
    take: (caller) =>
      perMinute <= 0 ? Effect.succeed(allowed) : limiter.consume({
        algorithm: "token-bucket",
        onExceeded: "fail",
        window: Duration.minutes(1),
        limit: perMinute,
        key: keyOf(caller)
      }).pipe(
        Effect.as(allowed),
        Effect.catchAll((error): Effect.Effect<Decision> =>
          error.reason === "Exceeded"
            ? Effect.succeed({ allowed: false, retryAfterMs: Duration.toMillis(error.retryAfter) })
            : Effect.as(Effect.logWarning("the rate limiter's store failed; the request is let through", error), allowed)
        )
      )
  }))

// --- the in-memory store ---

/** A bucket or window is worth keeping until `idleAt`: from then on it is the same as none. */
interface Bucket {
  tokens: number
  lastRefill: number
  idleAt: number
}

interface Window {
  count: number
  expiresAt: number
}

/**
 * A `RateLimiterStore` in this process's memory, with how many keys it holds.
 *
 * It keeps the arithmetic of the library's `layerStoreMemory`, and forgets what no longer matters:
 * a bucket that has refilled, or a window that has expired, is the same as none, and is dropped (at
 * most once a minute) — the library's store keeps every key it has seen, so callers that never
 * return (addresses, expired tokens) would grow the gateway's memory for ever.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreMemory: Effect.Effect<{
  readonly store: RateLimiter.RateLimiterStore["Type"]
  /** how many keys hold a bucket or a window */
  readonly size: () => number
}> = Effect.sync(() => {
  const buckets = new Map<string, Bucket>()
  const windows = new Map<string, Window>()
  let sweptAt: number | undefined
  const sweep = (now: number) => {
    if (sweptAt !== undefined && now - sweptAt < 60_000) return
    sweptAt = now
    for (const [key, bucket] of buckets) if (bucket.idleAt <= now) buckets.delete(key)
    for (const [key, window] of windows) if (window.expiresAt <= now) windows.delete(key)
  }

  const store = RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const now = clock.unsafeCurrentTimeMillis()
          sweep(now)
          let window = windows.get(options.key)
          if (window === undefined || window.expiresAt <= now) {
            window = { count: 0, expiresAt: now }
            windows.set(options.key, window)
          }
          if (options.limit !== undefined && window.count + options.tokens > options.limit) {
            return [window.count + options.tokens, window.expiresAt - now] as const
          }
          window.count += options.tokens
          window.expiresAt += Duration.toMillis(options.refillRate) * options.tokens
          return [window.count, window.expiresAt - now] as const
        })
      ),
    tokenBucket: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const refillMillis = Duration.toMillis(options.refillRate)
          const now = clock.unsafeCurrentTimeMillis()
          sweep(now)
          let bucket = buckets.get(options.key)
          if (bucket === undefined) {
            bucket = { tokens: options.limit, lastRefill: now, idleAt: now }
            buckets.set(options.key, bucket)
          } else {
            const refills = Math.floor((now - bucket.lastRefill) / refillMillis)
            if (refills > 0) {
              bucket.tokens = Math.min(options.limit, bucket.tokens + refills)
              bucket.lastRefill += refills * refillMillis
            }
          }
          const left = bucket.tokens - options.tokens
          if (options.allowOverflow || left >= 0) bucket.tokens = left
          bucket.idleAt = bucket.lastRefill + (options.limit - bucket.tokens) * refillMillis
          return left
        })
      )
  })
  return { store, size: () => buckets.size + windows.size }
})

/**
 * The default store: buckets in this process's memory.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<RateLimiter.RateLimiterStore> = Layer.effect(
  RateLimiter.RateLimiterStore,
  Effect.map(makeStoreMemory, ({ store }) => store)
)
