/**
 * The accounting records of model calls: one `ModelCall` per call, totals over many, and the
 * report a `LanguageModel` gives of everything spent through it.
 */
import { Schema } from "effect"
import type * as ModelRegistry from "../../ModelRegistry.js"
import { Usage } from "./messages.js"

/**
 * The record of one model call, successful or not: which model, tokens, cost, latency (including
 * retries and backoff) and how many retries it took. Published on `calls` for the runtime's
 * event log; it never contains a prompt, an answer or a key.
 *
 * @since 0.1.0
 */
export class ModelCall extends Schema.Class<ModelCall>("@colony/runtime/ModelCall")({
  model: Schema.String,
  modelId: Schema.String,
  provider: Schema.Literal("openai", "simulated", "effect-ai"),
  simulated: Schema.Boolean,
  streamed: Schema.Boolean,
  outcome: Schema.Literal("success", "failure"),
  error: Schema.optional(Schema.String),
  usage: Usage,
  cost: Schema.NonNegative,
  latencyMs: Schema.NonNegative,
  retries: Schema.NonNegativeInt,
  agent: Schema.optional(Schema.String),
  collaboration: Schema.optional(Schema.String),
  startedAt: Schema.Number
}) {}

/**
 * Calls, failures, retries, tokens and cost summed over a set of calls.
 *
 * @since 0.1.0
 */
export class UsageTotals extends Schema.Class<UsageTotals>("@colony/runtime/UsageTotals")({
  calls: Schema.NonNegativeInt,
  failures: Schema.NonNegativeInt,
  retries: Schema.NonNegativeInt,
  usage: Usage,
  cost: Schema.NonNegative
}) {
  static readonly zero = new UsageTotals({ calls: 0, failures: 0, retries: 0, usage: Usage.zero, cost: 0 })
  static readonly add = (totals: UsageTotals, call: ModelCall): UsageTotals =>
    // sums of validated values: no need to validate them again on every call
    new UsageTotals({
      calls: totals.calls + 1,
      failures: totals.failures + (call.outcome === "failure" ? 1 : 0),
      retries: totals.retries + call.retries,
      usage: Usage.add(totals.usage, call.usage),
      cost: totals.cost + call.cost
    }, true)
  static readonly sum = (a: UsageTotals, b: UsageTotals): UsageTotals =>
    new UsageTotals({
      calls: a.calls + b.calls,
      failures: a.failures + b.failures,
      retries: a.retries + b.retries,
      usage: Usage.add(a.usage, b.usage),
      cost: a.cost + b.cost
    }, true)
}

/**
 * Everything spent through one `LanguageModel` since it was built, in total and per model name,
 * agent and collaboration (calls without an attribution count only in `total` and `byModel`).
 * `byAgent` lists the agent instances (`type/id`) that called a model most recently, one row each;
 * the spend of older instances is summed per type under `otherInstances(type)`, so per-type sums
 * stay whole. `byCollaboration` likewise lists the most recent collaborations and sums the older
 * ones under `otherCollaborations`; `foldedCollaborations` says how many were summed there.
 *
 * @since 0.1.0
 */
export class UsageReport extends Schema.Class<UsageReport>("@colony/runtime/UsageReport")({
  total: UsageTotals,
  byModel: Schema.Record({ key: Schema.String, value: UsageTotals }),
  byAgent: Schema.Record({ key: Schema.String, value: UsageTotals }),
  byCollaboration: Schema.Record({ key: Schema.String, value: UsageTotals }),
  foldedCollaborations: Schema.optionalWith(Schema.NonNegativeInt, { default: () => 0 })
}) {
  static readonly empty = new UsageReport({ total: UsageTotals.zero, byModel: {}, byAgent: {}, byCollaboration: {} })
  static readonly add = (report: UsageReport, call: ModelCall): UsageReport => {
    const bump = (group: Readonly<Record<string, UsageTotals>>, key: string | undefined) =>
      key === undefined ? group : { ...group, [key]: UsageTotals.add(group[key] ?? UsageTotals.zero, call) }
    return new UsageReport({
      total: UsageTotals.add(report.total, call),
      byModel: bump(report.byModel, call.model),
      byAgent: bump(report.byAgent, call.agent),
      byCollaboration: bump(report.byCollaboration, call.collaboration),
      foldedCollaborations: report.foldedCollaborations
    })
  }
}

/**
 * The `byAgent` row of a usage report that sums the spend of the instances of agent type `type`
 * no longer listed one by one (`"orders/*"`). An attribution without a `/` is its own type.
 *
 * @since 0.1.0
 */
export const otherInstances = (type: string): string => `${type}/*`

/**
 * The `byCollaboration` row of a usage report that sums the spend of the collaborations no longer
 * listed one by one.
 *
 * @since 0.1.0
 */
export const otherCollaborations = "*"

/**
 * How many agent instances a usage report lists one by one, unless `make` is told otherwise.
 *
 * @since 0.1.0
 */
export const defaultAgentRows = 10_000

/**
 * How many collaborations a usage report lists one by one, unless `make` is told otherwise.
 *
 * @since 0.1.0
 */
export const defaultCollaborationRows = 10_000

/**
 * The cost in US dollars of `usage` at `prices` (per million tokens).
 *
 * @since 0.1.0
 */
export const costOf = (usage: Usage, prices: ModelRegistry.Prices | undefined): number =>
  prices === undefined
    ? 0
    : (usage.promptTokens * prices.input + usage.completionTokens * prices.output) / 1_000_000
