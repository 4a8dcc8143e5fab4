/**
 * The Prometheus text exposition format (0.0.4) of every Effect `Metric` in the process: the
 * gateway's own and the cluster's (`effect_cluster_*`). Rendered from `Metric.snapshot`, so a
 * metric needs no registration beyond being used.
 *
 * @since 0.1.0
 */
import { Effect, Metric } from "effect"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"

const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([^a-zA-Z_:])/, "_$1")

const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")

const labels = (tags: ReadonlyArray<readonly [string, string]>) =>
  tags.length === 0 ? "" : `{${tags.map(([k, v]) => `${sanitize(k)}="${escape(v)}"`).join(",")}}`

const num = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN")

const render = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, { type: string; help: string | undefined; lines: Array<string> }>()
  const family = (name: string, type: string, help: string | undefined) => {
    let f = families.get(name)
    if (f === undefined) {
      f = { type, help, lines: [] }
      families.set(name, f)
    }
    return f
  }
  const key = (pair: MetricPair.MetricPair.Untyped) =>
    `${pair.metricKey.name}${labels(pair.metricKey.tags.map((t) => [t.key, t.value] as const))}`
  for (const { metricKey, metricState } of [...pairs].sort((a, b) => key(a).localeCompare(key(b)))) {
    const name = sanitize(metricKey.name)
    const help = metricKey.description._tag === "Some" ? metricKey.description.value : undefined
    const tags = metricKey.tags.map((t) => [t.key, t.value] as const)
    if (MetricState.isCounterState(metricState)) {
      family(name, "counter", help).lines.push(`${name}${labels(tags)} ${num(Number(metricState.count))}`)
    } else if (MetricState.isGaugeState(metricState)) {
      family(name, "gauge", help).lines.push(`${name}${labels(tags)} ${num(Number(metricState.value))}`)
    } else if (MetricState.isHistogramState(metricState)) {
      const f = family(name, "histogram", help)
      // Effect's histogram buckets are already cumulative (values <= boundary).
      for (const [boundary, count] of metricState.buckets) {
        f.lines.push(`${name}_bucket${labels([...tags, ["le", num(boundary)]])} ${count}`)
      }
      if (!metricState.buckets.some(([b]) => b === Infinity)) {
        f.lines.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${metricState.count}`)
      }
      f.lines.push(`${name}_sum${labels(tags)} ${num(metricState.sum)}`)
      f.lines.push(`${name}_count${labels(tags)} ${metricState.count}`)
    } else if (MetricState.isFrequencyState(metricState)) {
      const f = family(name, "counter", help)
      for (const [key, count] of metricState.occurrences) {
        f.lines.push(`${name}${labels([...tags, ["key", key]])} ${count}`)
      }
    } else if (MetricState.isSummaryState(metricState)) {
      const f = family(name, "summary", help)
      for (const [quantile, value] of metricState.quantiles) {
        if (value._tag === "Some") f.lines.push(`${name}${labels([...tags, ["quantile", String(quantile)]])} ${num(value.value)}`)
      }
      f.lines.push(`${name}_sum${labels(tags)} ${num(metricState.sum)}`)
      f.lines.push(`${name}_count${labels(tags)} ${metricState.count}`)
    }
  }
  const out: Array<string> = []
  for (const [name, f] of [...families.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (f.help !== undefined) out.push(`# HELP ${name} ${f.help.replace(/\n/g, " ")}`)
    out.push(`# TYPE ${name} ${f.type}`)
    out.push(...f.lines)
  }
  return out.join("\n") + "\n"
}

/**
 * Every metric of the process in the Prometheus text format.
 *
 * @since 0.1.0
 */
export const text: Effect.Effect<string> = Effect.map(Metric.snapshot, render)

/**
 * The content type of `text`.
 *
 * @since 0.1.0
 */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"
