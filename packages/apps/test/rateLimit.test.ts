import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as RateLimit from "../src/gateway/RateLimit.js"

describe("rate limit buckets", () => {
  it.effect("callers that went away a minute ago hold no memory; a caller's limit still holds", () =>
    Effect.gen(function*() {
      const limiter = RateLimit.make(2)
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
})
