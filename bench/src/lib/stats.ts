/**
 * Small statistics over samples: percentiles (nearest rank), means, and formatting helpers the
 * tables share.
 */
import { FakeOpenAI } from "@colony/runtime/testing"

/** The p-th percentile (0..100) of the samples, nearest-rank; NaN when there are none. */
export const percentile = (samples: ReadonlyArray<number>, p: number): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export const median = (samples: ReadonlyArray<number>): number => percentile(samples, 50)

export const mean = (samples: ReadonlyArray<number>): number =>
  samples.length === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / samples.length

export interface Summary {
  readonly n: number
  readonly p50: number
  readonly p99: number
  readonly mean: number
  readonly min: number
  readonly max: number
}

export const summarize = (samples: ReadonlyArray<number>): Summary => ({
  n: samples.length,
  p50: percentile(samples, 50),
  p99: percentile(samples, 99),
  mean: mean(samples),
  min: samples.length === 0 ? Number.NaN : Math.min(...samples),
  max: samples.length === 0 ? Number.NaN : Math.max(...samples)
})

/** Microseconds since an `hrtime.bigint()` mark. */
export const microsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1_000

/** A number with thousands separators and a fixed number of decimals. */
export const num = (value: number, decimals = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
    : "–"

export const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "–")

export const percent = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : "–")

export const bytes = (value: number): string => {
  if (!Number.isFinite(value)) return "–"
  const abs = Math.abs(value)
  if (abs >= 1024 * 1024 * 1024) return `${(value / 1024 / 1024 / 1024).toFixed(2)} GiB`
  if (abs >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`
  if (abs >= 1024) return `${(value / 1024).toFixed(2)} KiB`
  return `${Math.round(value)} B`
}

/** Shuffle in place with a seeded generator, so runs interleave contenders the same way. */
export const shuffled = <A>(items: ReadonlyArray<A>, random: () => number): Array<A> => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** A seeded generator: the fake server's, so both share one implementation. */
export const seeded = FakeOpenAI.seeded

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
