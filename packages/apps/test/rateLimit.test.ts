import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import * as RateLimit from "../src/gateway/RateLimit.js"
import { start } from "./gatewaySupport.js"

// a limiter of `perMinute` on a fresh in-memory store, with the store's size
const limiterWith = (perMinute: number) =>
  Effect.gen(function*() {
    const { size, store } = yield* RateLimit.makeStoreMemory
    const limiter = yield* RateLimit.make(perMinute).pipe(
      Effect.provide(RateLimiter.layer.pipe(Layer.provide(Layer.succeed(RateLimiter.RateLimiterStore, store))))
    )
    return { take: limiter.take, size }
  })

describe("rate limit buckets", () => {
  it.effect("callers that went away a minute ago hold no memory; a caller's limit still holds", () =>
    Effect.gen(function*() {
      const limiter = yield* limiterWith(2)
      for (let i = 0; i < 1000; i++) yield* limiter.take(`address:10.0.${i >> 8}.${i & 255}`)
      expect(limiter.size()).toBe(1000)
      yield* limiter.take("key:a")
      yield* limiter.take("key:a")
      expect((yield* limiter.take("key:a")).allowed).toBe(false)
      yield* TestClock.adjust("61 seconds")
      yield* limiter.take("key:b")
      // everyone idle for a minute is gone; their buckets would have been full again
      expect(limiter.size()).toBe(1)
      expect((yield* limiter.take("key:a")).allowed).toBe(true)
    }))

  it.effect("a caller over its limit is told when its next request is allowed, and is allowed then", () =>
    Effect.gen(function*() {
      const limiter = yield* limiterWith(2)
      expect((yield* limiter.take("key:a")).allowed).toBe(true)
      expect((yield* limiter.take("key:a")).allowed).toBe(true)
      const refused = yield* limiter.take("key:a")
      expect(refused).toEqual({ allowed: false, retryAfterMs: 30_000 })
      // another caller has a budget of its own
      expect((yield* limiter.take("key:b")).allowed).toBe(true)
      yield* TestClock.adjust("29 seconds")
      expect((yield* limiter.take("key:a")).allowed).toBe(false)
      yield* TestClock.adjust("1 second")
      expect((yield* limiter.take("key:a")).allowed).toBe(true)
      expect((yield* limiter.take("key:a")).allowed).toBe(false)
    }))

  it.effect("a limit of 0 never refuses and keeps nothing", () =>
    Effect.gen(function*() {
      const limiter = yield* limiterWith(0)
      for (let i = 0; i < 100; i++) expect((yield* limiter.take("key:a")).allowed).toBe(true)
      expect(limiter.size()).toBe(0)
    }))
})

describe("rate limits shared by gateways", () => {
  it("two gateways given one store share one budget per caller", async () => {
    const { store } = await Effect.runPromise(RateLimit.makeStoreMemory)
    const shared = Layer.succeed(RateLimiter.RateLimiterStore, store)
    const gateway = () =>
      start(Gateway.layerEmbedded({
        settings: { port: 0, keys: [Redacted.make("k")], rateLimit: 3 },
        applications: [Demo.application],
        rateLimiterStore: shared
      }))
    const [a, b] = [await gateway(), await gateway()]
    try {
      const list = (url: string) => fetch(`${url}/v1/models`, { headers: { authorization: "Bearer k" } })
      expect((await list(a.url)).status).toBe(200)
      expect((await list(a.url)).status).toBe(200)
      expect((await list(b.url)).status).toBe(200)
      // three requests a minute in all, whichever gateway serves them
      const refused = await list(b.url)
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
      expect((await list(a.url)).status).toBe(429)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
