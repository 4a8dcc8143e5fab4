import { Attention } from "@colony/agents"
import { Colony, Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Queue, Runtime } from "effect"
import fc from "fast-check"

const maxDifference = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<ReadonlyArray<number>>) => {
  expect(a.length).toBe(b.length)
  let worst = 0
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]!.length)
    row.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b[i]![j]!))))
  })
  return worst
}

/** Random Q (n×d), K (m×d), V (m×dv); `spread` scales the entries, so scores reach ±spread²·d. */
const problem = (spread: number) =>
  fc.record({ n: fc.integer({ min: 1, max: 4 }), m: fc.integer({ min: 1, max: 24 }), d: fc.integer({ min: 1, max: 8 }), dv: fc.integer({ min: 1, max: 5 }) })
    .chain(({ d, dv, m, n }) => {
      const matrix = (rows: number, cols: number) =>
        fc.array(fc.array(fc.double({ min: -spread, max: spread, noNaN: true }), { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows })
      return fc.record({ q: matrix(n, d), k: matrix(m, d), v: matrix(m, dv), blocks: fc.integer({ min: 1, max: 6 }) })
    })

/** Naive softmax(QKᵀ/√d)V, written independently of the module, for the reference. */
const naive = (q: ReadonlyArray<ReadonlyArray<number>>, k: ReadonlyArray<ReadonlyArray<number>>, v: ReadonlyArray<ReadonlyArray<number>>) =>
  q.map((qi) => {
    const scores = k.map((kj) => kj.reduce((s, x, c) => s + x * qi[c]!, 0) / Math.sqrt(qi.length))
    const m = Math.max(...scores)
    const w = scores.map((s) => Math.exp(s - m))
    const z = w.reduce((a, b) => a + b, 0)
    return v[0]!.map((_, c) => w.reduce((s, wj, j) => s + wj * v[j]![c]!, 0) / z)
  })

const split = (k: ReadonlyArray<ReadonlyArray<number>>, blocks: number) => {
  const size = Math.ceil(k.length / blocks)
  return Array.from({ length: Math.ceil(k.length / size) }, (_, b) => [b * size, Math.min(k.length, (b + 1) * size)] as const)
}

describe("Attention (pure)", () => {
  it("merging block partials with log-sum-exp equals single-node softmax attention within 1e-9", () => {
    fc.assert(
      fc.property(problem(3), ({ blocks, k, q, v }) => {
        const scale = Attention.scaleFor(k)
        const partials = split(k, blocks).map(([a, b]) => Attention.partial(q, k.slice(a, b), v.slice(a, b), scale))
        expect(maxDifference(Attention.merge(partials), naive(q, k, v))).toBeLessThan(1e-9)
      }),
      { numRuns: 300 }
    )
  })
  it("stays exact where a naive exp would overflow (scores in the thousands)", () => {
    const q = [[40, -40]]
    const k = [[50, 0], [49, 0], [-50, 0]]
    const v = [[1], [2], [3]]
    expect(Math.exp(40 * 50 / Math.SQRT2)).toBe(Number.POSITIVE_INFINITY)
    const scale = Attention.scaleFor(k)
    const merged = Attention.merge([Attention.partial(q, k.slice(0, 1), v.slice(0, 1), scale), Attention.partial(q, k.slice(1), v.slice(1), scale)])
    expect(maxDifference(merged, naive(q, k, v))).toBeLessThan(1e-9)
    expect(Number.isFinite(merged[0]![0]!)).toBe(true)
  })
})

const colony = Attention.workerLayer.pipe(Layer.provideMerge(Colony.embedded), Layer.orDie)

describe("Attention (distributed over worker agents)", () => {
  it.live("worker agents each return their block's max, sum and partial output; the merge equals single-node attention within 1e-9", () =>
    Effect.gen(function*() {
      const random = (rows: number, cols: number, seed: number) =>
        Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => Math.sin(seed * 7.3 + i * 1.7 + j * 0.31) * 2))
      const q = random(4, 8, 1)
      const k = random(17, 8, 2)
      const v = random(17, 5, 3)
      const received = yield* Effect.flatMap(Events.Events, (bus) => bus.subscribe)
      const out = yield* Attention.distributed(q, k, v, ["w1", "w2", "w3"])
      expect(maxDifference(out, naive(q, k, v))).toBeLessThan(1e-9)
      const blocks = [...(yield* Queue.takeAll(received))].filter((e) => e instanceof Events.MessageReceived && e.rpc === "AttentionBlock")
      expect(blocks.map((e) => e.id).sort()).toEqual(["w1", "w2", "w3"])

      const runtime = yield* Effect.runtime<Colony.Services | import("@effect/cluster/Sharding").Sharding>()
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(problem(3), ({ blocks, k, q, v }) =>
            Runtime.runPromise(runtime)(
              Effect.map(Attention.distributed(q, k, v, Array.from({ length: blocks }, (_, i) => `p${i}`)), (out) => {
                expect(maxDifference(out, naive(q, k, v))).toBeLessThan(1e-9)
              })
            )),
          { numRuns: 25 }
        )
      )
    }).pipe(Effect.provide(colony), Effect.scoped))
})
