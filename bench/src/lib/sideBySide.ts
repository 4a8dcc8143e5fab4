/**
 * Measure several contenders doing the same operation, side by side in one process: a warm-up
 * each, then rounds in which every contender runs a batch of sequential operations, in an order
 * shuffled per round, so drift in the machine's load falls on all of them alike.
 */
import { microsSince, seeded, shuffled } from "./stats.js"

export interface Participant {
  readonly id: string
  /** one operation; `n` counts operations, for contenders that need a fresh name per run */
  readonly operation: (n: number) => Promise<unknown>
}

export interface Plan {
  readonly warmup: number
  readonly rounds: number
  readonly batch: number
}

export interface Measurement {
  /** wall time per operation, µs */
  readonly samples: Array<number>
  /** CPU time of this process per operation, µs (user + system, all threads) */
  cpuMicrosPerOp: number
}

export const measure = async (
  participants: ReadonlyArray<Participant>,
  plan: Plan,
  options: { readonly log: (line: string) => void; readonly between?: () => Promise<void> }
): Promise<Map<string, Measurement>> => {
  const counters = new Map(participants.map((p) => [p.id, 0]))
  const next = (p: Participant) => {
    const n = counters.get(p.id)!
    counters.set(p.id, n + 1)
    return n
  }
  for (const p of participants) {
    for (let i = 0; i < plan.warmup; i++) await p.operation(next(p))
  }
  await options.between?.()
  const results = new Map(participants.map((p) => [p.id, { samples: [] as Array<number>, cpu: 0 }]))
  const random = seeded(42)
  for (let round = 0; round < plan.rounds; round++) {
    for (const p of shuffled(participants, random)) {
      const result = results.get(p.id)!
      const cpu = process.cpuUsage()
      for (let i = 0; i < plan.batch; i++) {
        const n = next(p)
        const start = process.hrtime.bigint()
        await p.operation(n)
        result.samples.push(microsSince(start))
      }
      const used = process.cpuUsage(cpu)
      result.cpu += used.user + used.system
    }
    options.log(`round ${round + 1}/${plan.rounds}`)
    await options.between?.()
  }
  return new Map(
    [...results].map(([id, r]) => [id, { samples: r.samples, cpuMicrosPerOp: r.samples.length === 0 ? Number.NaN : r.cpu / r.samples.length }])
  )
}
