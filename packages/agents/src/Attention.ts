/**
 * Distributed attention: the worked example of horizontal decomposition with exact aggregation.
 * softmax(QKᵀ/√d)V over keys and values split into blocks: each worker agent computes, for its
 * block and every query, the block's largest score `max`, the sum of `exp(score - max)` and the
 * un-normalised output `Σ exp(score - max)·v`; the coordinator merges the blocks with the
 * log-sum-exp identity. Nothing is approximated — the merged output equals the single-node one up
 * to floating-point rounding — and no exponent overflows, because each is taken relative to a max.
 *
 * This is the block-wise softmax of Milakov & Gimelshein, "Online normalizer calculation for
 * softmax" (2018), used by FlashAttention (Dao et al., 2022) and Ring Attention (Liu et al., 2023).
 *
 * @since 0.1.0
 */
import { Agent, Colony } from "@colony/runtime"
import * as Rpc from "@effect/rpc/Rpc"
import type { Sharding } from "@effect/cluster/Sharding"
import { Effect, Schema } from "effect"
import type { AgentError } from "@colony/runtime"
import * as Decompose from "./Decompose.js"

/**
 * Rows of numbers.
 *
 * @since 0.1.0
 * @category models
 */
export const Matrix = Schema.Array(Schema.Array(Schema.Number))

/**
 * @since 0.1.0
 * @category models
 */
export type Matrix = ReadonlyArray<ReadonlyArray<number>>

/**
 * One block's contribution, per query row: the largest score, the sum of `exp(score - max)`, and
 * the output weighted by those exponentials (not yet divided by the sum).
 *
 * @since 0.1.0
 * @category models
 */
export class Partial extends Schema.Class<Partial>("@colony/agents/AttentionPartial")({
  max: Schema.Array(Schema.Number),
  sum: Schema.Array(Schema.Number),
  output: Matrix
}) {}

const dot = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/**
 * The usual scale, 1/√d for keys of dimension d.
 *
 * @since 0.1.0
 */
export const scaleFor = (keys: Matrix): number => 1 / Math.sqrt(keys[0]?.length ?? 1)

/**
 * One block's partial result for every query. `keys` and `values` must not be empty.
 *
 * @since 0.1.0
 */
export const partial = (queries: Matrix, keys: Matrix, values: Matrix, scale: number): Partial => {
  const max: Array<number> = []
  const sum: Array<number> = []
  const output: Array<Array<number>> = []
  for (const q of queries) {
    const scores = keys.map((k) => dot(q, k) * scale)
    const m = Math.max(...scores)
    const out = new Array<number>(values[0]!.length).fill(0)
    let s = 0
    scores.forEach((score, j) => {
      const w = Math.exp(score - m)
      s += w
      const v = values[j]!
      for (let c = 0; c < out.length; c++) out[c]! += w * v[c]!
    })
    max.push(m)
    sum.push(s)
    output.push(out)
  }
  return new Partial({ max, sum, output })
}

/**
 * Merge the blocks' partials into the attention output: with M the largest block max for a
 * query, output = Σ_b output_b·e^(max_b−M) / Σ_b sum_b·e^(max_b−M).
 *
 * @since 0.1.0
 */
export const merge = (partials: ReadonlyArray<Partial>): Array<Array<number>> => {
  const rows = partials[0]?.max.length ?? 0
  const result: Array<Array<number>> = []
  for (let r = 0; r < rows; r++) {
    const M = Math.max(...partials.map((p) => p.max[r]!))
    let total = 0
    const out = new Array<number>(partials[0]!.output[r]!.length).fill(0)
    for (const p of partials) {
      const rescale = Math.exp(p.max[r]! - M)
      total += p.sum[r]! * rescale
      const o = p.output[r]!
      for (let c = 0; c < out.length; c++) out[c]! += o[c]! * rescale
    }
    result.push(out.map((x) => x / total))
  }
  return result
}

/**
 * Single-node attention, softmax(QKᵀ·scale)V: the reference the distributed result must equal.
 *
 * @since 0.1.0
 */
export const attention = (queries: Matrix, keys: Matrix, values: Matrix, scale = scaleFor(keys)): Array<Array<number>> =>
  merge([partial(queries, keys, values, scale)])

/**
 * Ask a worker for one block's partial.
 *
 * @since 0.1.0
 * @category protocol
 */
export const AttentionBlock = Rpc.make("AttentionBlock", {
  payload: {
    queries: Matrix,
    keys: Schema.NonEmptyArray(Schema.Array(Schema.Number)),
    values: Schema.NonEmptyArray(Schema.Array(Schema.Number)),
    scale: Schema.Number
  },
  success: Partial
})

/**
 * The worker agent type: computes block partials, no model involved.
 *
 * @since 0.1.0
 * @category agents
 */
export const Worker = Agent.make({
  name: "attention-worker",
  instructions: "You compute blocks of attention.",
  capabilities: ["attention"],
  protocol: [AttentionBlock]
})

/**
 * Host attention workers in this process.
 *
 * @since 0.1.0
 * @category layers
 */
export const workerLayer = Agent.toLayer(Worker, {
  AttentionBlock: ({ keys, queries, scale, values }) => Effect.sync(() => partial(queries, keys, values, scale))
})

/**
 * Attention computed by worker agents: keys and values are split into one contiguous block per
 * worker id (`Decompose.blocks`), each block goes to its worker, and the partials are merged. A
 * block whose worker fails is handed to the next worker in the list; the call fails only when
 * every worker has failed that block.
 *
 * @since 0.1.0
 */
export const distributed = (
  queries: Matrix,
  keys: Matrix,
  values: Matrix,
  workers: ReadonlyArray<string>,
  scale = scaleFor(keys)
): Effect.Effect<Array<Array<number>>, AgentError.AgentError, Colony.Services | Sharding> =>
  Effect.gen(function*() {
    if (keys.length === 0 || keys.length !== values.length || workers.length === 0) {
      return yield* Effect.dieMessage(
        `Attention.distributed: need as many values as keys (got ${keys.length} and ${values.length}), at least one, and a worker`
      )
    }
    const client = yield* Colony.client(Worker)
    const ranges = Decompose.blocks(keys.map((_, i) => i), workers.length)
    const partials = yield* Effect.forEach(ranges, (range, b) => {
      const payload = {
        queries,
        keys: range.map((i) => keys[i]!) as unknown as readonly [ReadonlyArray<number>, ...Array<ReadonlyArray<number>>],
        values: range.map((i) => values[i]!) as unknown as readonly [ReadonlyArray<number>, ...Array<ReadonlyArray<number>>],
        scale
      }
      const order = workers.map((_, k) => workers[(b + k) % workers.length]!)
      return Effect.firstSuccessOf(order.map((id) => client(id).AttentionBlock(payload)))
    }, { concurrency: "unbounded" })
    return merge(partials)
  })
