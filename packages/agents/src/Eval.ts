/**
 * Does collaboration pay? An evaluation runs task sets with checkable answers (`TaskSet`) through
 * collaboration patterns and measures, per pattern, accuracy with its 95 % interval, model calls,
 * tokens, cost, latency and the answers that could not be read.
 *
 * The agents an evaluation asks (`agents`) are solvers, one expert per task domain and a
 * coordinator, each with a model of its own name; a task goes to fresh instances, so no agent
 * remembers another task. A final answer is read as structured output (`Aggregate.readAnswer`);
 * one that cannot be read is an abstention, reported, and wrong.
 *
 * @since 0.1.0
 */
import { Agent, Colony, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Rpc } from "@effect/rpc"
import { Clock, Effect, Either, Layer, Option, Schema } from "effect"
import * as Aggregate from "./Aggregate.js"
import { AgentRef, Hybrid, MasterSlave, Peer, type Result, run as runCollaboration, Team } from "./Collaboration.js"
import * as TaskSet from "./TaskSet.js"

/**
 * The Wilson score interval for a proportion: `successes` of `trials`, at 95 % by default
 * (z = 1.96). Unlike the normal approximation it stays inside [0, 1] and is sound for small
 * samples and proportions near 0 or 1 (Wilson, 1927).
 *
 * @since 0.1.0
 */
export const wilson = (successes: number, trials: number, z = 1.959964): { readonly low: number; readonly high: number } => {
  if (trials === 0) return { low: 0, high: 1 }
  const p = successes / trials
  const z2 = z * z
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
  const half = (z / (1 + z2 / trials)) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

/**
 * The `q` quantile (0..1) of `values` by the nearest-rank method; 0 for no values.
 *
 * @since 0.1.0
 */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

// --- patterns ---

/**
 * A pattern to evaluate, as `colony eval --patterns` names it: `single` (one agent), `peer:NxR`
 * (N peers debating R rounds, majority), `master-slave[:N]` (a coordinator sends each task to
 * the expert for its domain, by capability), `hybrid:TxP[xR]` (T teams of P peers, majority of
 * the teams' decisions).
 *
 * @since 0.1.0
 * @category models
 */
export type PatternSpec =
  | { readonly _tag: "Single" }
  | { readonly _tag: "Peer"; readonly peers: number; readonly rounds: number }
  | { readonly _tag: "MasterSlave" }
  | { readonly _tag: "Hybrid"; readonly teams: number; readonly peers: number; readonly rounds: number }

/**
 * A `--patterns` list that names an unknown pattern or sizes out of bounds.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPatterns extends Schema.TaggedError<InvalidPatterns>()("InvalidPatterns", {
  spec: Schema.String
}) {
  override get message() {
    return `"${this.spec}" is not a pattern to evaluate; write a comma-separated list of single, peer:NxR (e.g. peer:5x2), ` +
      `master-slave, hybrid:TxP or hybrid:TxPxR (e.g. hybrid:3x3x1), with at most 9 agents per team and 5 rounds`
  }
}

/**
 * The name `colony eval` prints for a pattern.
 *
 * @since 0.1.0
 */
export const patternName = (spec: PatternSpec): string => {
  switch (spec._tag) {
    case "Single":
      return "single"
    case "Peer":
      return `peer:${spec.peers}x${spec.rounds}`
    case "MasterSlave":
      return "master-slave"
    case "Hybrid":
      return `hybrid:${spec.teams}x${spec.peers}x${spec.rounds}`
  }
}

const parseOne = (text: string): PatternSpec | undefined => {
  const [name, size] = text.trim().split(":") as [string, string | undefined]
  const dims = size === undefined ? [] : size.split("x").map(Number)
  if (!dims.every((d) => Number.isInteger(d) && d >= 1 && d <= 9)) return undefined
  switch (name) {
    case "single":
      return size === undefined ? { _tag: "Single" } : undefined
    case "master-slave":
      return size === undefined ? { _tag: "MasterSlave" } : undefined
    case "peer": {
      const [peers = 3, rounds = 2] = dims
      return dims.length <= 2 && rounds <= 5 ? { _tag: "Peer", peers, rounds } : undefined
    }
    case "hybrid": {
      const [teams = 3, peers = 3, rounds = 1] = dims
      return dims.length <= 3 && rounds <= 5 ? { _tag: "Hybrid", teams, peers, rounds } : undefined
    }
    default:
      return undefined
  }
}

/**
 * The patterns of a `--patterns` list (`single,peer:5x2,master-slave,hybrid`).
 *
 * @since 0.1.0
 */
export const parsePatterns = (spec: string): Either.Either<ReadonlyArray<PatternSpec>, InvalidPatterns> => {
  const parts = spec.split(",").filter((p) => p.trim() !== "")
  const parsed = parts.map(parseOne)
  const bad = parts.find((_, i) => parsed[i] === undefined)
  if (parts.length === 0 || bad !== undefined) return Either.left(new InvalidPatterns({ spec: bad ?? spec }))
  return Either.right(parsed as ReadonlyArray<PatternSpec>)
}

// --- the agents ---

const slug = (domain: string) => domain.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "general"

/**
 * The agent type of the expert for `domain`: `expert-<domain>`.
 *
 * @since 0.1.0
 */
export const expertName = (domain: string): string => `expert-${slug(domain)}`

/**
 * The agent type of solver `i` (from 1): `solver-<i>`.
 *
 * @since 0.1.0
 */
export const solverName = (i: number): string => `solver-${i}`

/**
 * How many solvers `patterns` need: as many as the largest team.
 *
 * @since 0.1.0
 */
export const solversNeeded = (patterns: ReadonlyArray<PatternSpec>): number =>
  Math.max(1, ...patterns.map((spec) => spec._tag === "Peer" ? spec.peers : spec._tag === "Hybrid" ? spec.teams * spec.peers : 1))

/**
 * What a process hosts of an evaluation's agents: how many solvers, the domains it has an expert
 * for, and the runner it is ("embedded" in a colony of one process). A client of runners asks
 * before it starts (`EvalAgents.check`), since a message to an agent type no runner hosts waits
 * for one instead of failing.
 *
 * @since 0.1.0
 * @category models
 */
export class Hosting extends Schema.Class<Hosting>("@colony/agents/Eval/Hosting")({
  solvers: Schema.NonNegativeInt,
  domains: Schema.Array(Schema.String),
  runner: Schema.String
}) {}

/**
 * The coordinator's RPC that reports what its process hosts (`Hosting`). Every agent of one task
 * has the task's instance id, so they share a shard and a runner: the coordinator at a task's id
 * speaks for the solvers and experts that task will reach.
 *
 * @since 0.1.0
 * @category protocol
 */
export const ReportHosting = Rpc.make("ReportHosting", { success: Hosting })

/**
 * The evaluation's coordinator: it splits a task among experts in `master-slave` and `hybrid`,
 * and reports what its process hosts (`ReportHosting`).
 *
 * @since 0.1.0
 */
export const coordinator = Agent.make({
  name: "coordinator",
  model: "coordinator",
  instructions: "You coordinate a team of experts.",
  protocol: [ReportHosting]
})

/** The solvers and the experts, without the coordinator. */
const answering = (solvers: number, domains: ReadonlyArray<string>): ReadonlyArray<Agent.Agent<string>> => {
  const instructions = "You answer tasks that have one exact answer. Work it out briefly, then give the final answer " +
    "as the task asks."
  return [
    ...Array.from({ length: solvers }, (_, i) => Agent.make({ name: solverName(i + 1), model: solverName(i + 1), instructions })),
    ...[...new Set(domains)].map((domain) =>
      Agent.make({
        name: expertName(domain),
        model: expertName(domain),
        capabilities: [domain],
        instructions: `You are an expert in ${domain}. ${instructions}`
      })
    )
  ]
}

/**
 * The agent types an evaluation asks: `solvers` solvers, one expert per domain in `domains`, and a
 * coordinator. Each uses a model of its own name, so a model registry (or the skill model) can give
 * each agent its own model. A client-only process declares them (`Colony.declare`); runners host them.
 *
 * @since 0.1.0
 */
export const agentTypes = (solvers: number, domains: ReadonlyArray<string>): ReadonlyArray<Agent.Any | Agent.Agent<any, any>> =>
  [coordinator, ...answering(solvers, domains)]

/**
 * The domains of `tasks`, one each.
 *
 * @since 0.1.0
 */
export const domainsOf = (tasks: ReadonlyArray<TaskSet.Task>): ReadonlyArray<string> => [...new Set(tasks.map((t) => t.domain))]

/**
 * Host `agentTypes(solvers, domains)`: what a runner given the eval's agents module hosts.
 *
 * @since 0.1.0
 */
export const layerAgents = (solvers: number, domains: ReadonlyArray<string>): Layer.Layer<never, never, Agent.Requirements> => {
  const hosting = (runner: string) => new Hosting({ solvers, domains: [...new Set(domains)], runner })
  const reporting = Agent.toLayer(coordinator, {
    ReportHosting: () =>
      Effect.map(Effect.serviceOption(Colony.Placement), (placement) => hosting(Option.match(placement, {
        onNone: () => "embedded",
        onSome: (p) => p.address
      })))
  })
  return Layer.mergeAll(reporting, ...answering(solvers, domains).map((type) => Agent.toLayer(type)))
}

/**
 * The agents an evaluation of `patterns` on `tasks` asks, hosted: as many solvers as the largest
 * team needs, one expert per task domain, and a coordinator.
 *
 * @since 0.1.0
 */
export const agents = (
  patterns: ReadonlyArray<PatternSpec>,
  tasks: ReadonlyArray<TaskSet.Task>
): Layer.Layer<never, never, Agent.Requirements> => layerAgents(solversNeeded(patterns), domainsOf(tasks))

// --- running ---

/**
 * What one pattern did over the task set. `accuracy` is the share of tasks whose final answer was
 * right, with its 95 % Wilson `interval`; `calls`, `tokens` and `cost` are the model's own
 * accounting; `latencyMs` is per task; `failures` are tasks that errored or lost a part;
 * `abstentions` are answers and votes that could not be read (a task with no readable final answer
 * counts as one and as wrong). `rounds` is the accuracy of the majority after each debate round.
 *
 * @since 0.1.0
 * @category models
 */
export class PatternReport extends Schema.Class<PatternReport>("@colony/agents/Eval/PatternReport")({
  pattern: Schema.String,
  tasks: Schema.NonNegativeInt,
  correct: Schema.NonNegativeInt,
  accuracy: Schema.Number,
  interval: Schema.Struct({ low: Schema.Number, high: Schema.Number }),
  calls: Schema.NonNegativeInt,
  tokens: Schema.NonNegativeInt,
  cost: Schema.Number,
  latencyMs: Schema.Struct({ p50: Schema.Number, p95: Schema.Number }),
  failures: Schema.NonNegativeInt,
  abstentions: Schema.NonNegativeInt,
  rounds: Schema.optional(Schema.Array(Schema.Number)),
  /** some answer came from a simulated model (what a client of runners learns of their models) */
  simulated: Schema.optional(Schema.Boolean)
}) {}

/**
 * An evaluation: which model answered (and whether it was simulated), on which tasks, and a
 * report per pattern. This is what `colony eval --json` prints and writes.
 *
 * @since 0.1.0
 * @category models
 */
export class Report extends Schema.Class<Report>("@colony/agents/Eval/Report")({
  model: Schema.String,
  simulated: Schema.Boolean,
  tasks: Schema.String,
  patterns: Schema.Array(PatternReport)
}) {}

/** One task's outcome under one pattern. */
interface Outcome {
  readonly correct: boolean
  readonly failed: boolean
  readonly abstentions: number
  readonly latencyMs: number
  readonly rounds: ReadonlyArray<boolean>
  /** the model usage the answers report: what a client-only process counts, its agents' models being elsewhere */
  readonly answered: Answered
}

interface Answered {
  readonly calls: number
  readonly tokens: number
  readonly cost: number
  readonly simulated: boolean
}

const noAnswers: Answered = { calls: 0, tokens: 0, cost: 0, simulated: false }

/** The final answer a text states (one of the options when there are options), if it is readable. */
const finalOf = (text: string, options: ReadonlyArray<string> | undefined): string | undefined =>
  options === undefined ? Aggregate.readAnswer(text)?.answer : Aggregate.readChoice(text, options)?.choice

/** Whether the majority of each debate round's readable answers was right, round by round. */
const roundsOf = (task: TaskSet.Task, result: Result): ReadonlyArray<boolean> => {
  const byRound = new Map<number, Array<string>>()
  for (const c of result.contributions) {
    const round = /^round (\d+)$/.exec(c.task)
    if (c.role !== "peer" || round === null) continue
    const answer = finalOf(c.text, task.options)
    if (answer !== undefined) byRound.set(Number(round[1]), [...(byRound.get(Number(round[1])) ?? []), answer])
  }
  return [...byRound.keys()].sort((a, b) => a - b).map((r) => {
    const winner = Aggregate.majorityVote(byRound.get(r)!).winner
    return winner !== undefined && TaskSet.isCorrect(task, winner)
  })
}

/**
 * The answers of a run that state no readable final answer. With options the run itself counts
 * them (`Result.abstentions`); without, a vote is the answer's text, so they are counted here.
 */
const unreadableAnswers = (task: TaskSet.Task, result: Result): number =>
  task.options !== undefined
    ? result.abstentions.length
    : result.contributions.filter((c) => (c.role === "peer" || c.role === "worker") && Aggregate.readAnswer(c.text) === undefined).length

const collaborationFor = (spec: Exclude<PatternSpec, { _tag: "Single" }>, task: TaskSet.Task, id: string, domains: ReadonlyArray<string>) => {
  const at = (agent: string) => new AgentRef({ agent, id })
  const options = task.options === undefined ? {} : { options: task.options as readonly [string, ...Array<string>] }
  const solvers = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => at(solverName(from + i))) as unknown as readonly [AgentRef, ...Array<AgentRef>]
  switch (spec._tag) {
    case "Peer":
      return Peer.make({ peers: solvers(1, spec.peers), rounds: spec.rounds, stop: "fixed-rounds", ...options })
    case "MasterSlave":
      return MasterSlave.make({
        coordinator: at("coordinator"),
        workers: domains.map((d) => at(expertName(d))) as unknown as readonly [AgentRef, ...Array<AgentRef>],
        decompose: { _tag: "Vertical", functions: [task.domain] },
        assign: "capability",
        aggregate: "majority",
        ...options
      })
    case "Hybrid":
      return Hybrid.make({
        coordinator: at("coordinator"),
        teams: Array.from({ length: spec.teams }, (_, t) =>
          new Team({ name: `team-${t + 1}`, peers: solvers(1 + t * spec.peers, spec.peers), rounds: spec.rounds, stop: "fixed-rounds", ...options })) as unknown as readonly [Team, ...Array<Team>],
        decompose: "replicate",
        aggregate: "majority"
      })
  }
}

const failedOutcome = (latencyMs: number): Outcome => ({ correct: false, failed: true, abstentions: 0, latencyMs, rounds: [], answered: noAnswers })

/** One agent answers: its final answer is read from its reply. */
const runSingle = (task: TaskSet.Task, id: string, prompt: string, elapsed: Effect.Effect<number>) =>
  Effect.gen(function*() {
    const answer = yield* Effect.either(Colony.ask(solverName(1), id, prompt))
    const latencyMs = yield* elapsed
    if (Either.isLeft(answer)) return failedOutcome(latencyMs)
    const final = finalOf(answer.right.text, task.options)
    return {
      correct: final !== undefined && TaskSet.isCorrect(task, final),
      failed: false,
      abstentions: final === undefined ? 1 : 0,
      latencyMs,
      rounds: [],
      answered: { calls: 1, tokens: answer.right.usage.totalTokens, cost: answer.right.cost, simulated: answer.right.simulated }
    } satisfies Outcome
  })

/** A collaboration answers: its decision is the final answer, unless it reached none. */
const runPattern = (
  spec: Exclude<PatternSpec, { _tag: "Single" }>,
  task: TaskSet.Task,
  id: string,
  prompt: string,
  domains: ReadonlyArray<string>,
  elapsed: Effect.Effect<number>
) =>
  Effect.gen(function*() {
    const result = yield* Effect.either(runCollaboration(collaborationFor(spec, task, id, domains), prompt))
    const latencyMs = yield* elapsed
    if (Either.isLeft(result)) return failedOutcome(latencyMs)
    const r = result.right
    const final = /^\(no (decision|answer)/.test(r.answer) ? undefined : r.answer.trim()
    return {
      correct: final !== undefined && TaskSet.isCorrect(task, final),
      // a part is missing because an agent failed (it names the agent), not for want of a decision
      failed: r.missing.some((m) => m.by !== undefined),
      abstentions: unreadableAnswers(task, r) + (final === undefined ? 1 : 0),
      latencyMs,
      rounds: spec._tag === "Peer" ? roundsOf(task, r) : [],
      // every contribution is one agent's answer; the eval's agents have no tools, so one model call each
      answered: {
        calls: r.contributions.length,
        tokens: r.contributions.reduce((sum, c) => sum + c.totalTokens, 0),
        cost: r.contributions.reduce((sum, c) => sum + c.cost, 0),
        simulated: r.contributions.some((c) => c.simulated)
      }
    } satisfies Outcome
  })

/**
 * The instance id the agents of task `index` (from 0) get under `spec`: a fresh one per task and
 * pattern, so no agent remembers another task.
 *
 * @since 0.1.0
 */
export const instanceId = (spec: PatternSpec, index: number): string => `${patternName(spec).replace(/:/g, "-")}-t${index + 1}`

const runTask = (spec: PatternSpec, task: TaskSet.Task, index: number, domains: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const id = instanceId(spec, index)
    // peers and teams given options append the instruction themselves
    const debates = spec._tag === "Peer" || spec._tag === "Hybrid"
    const prompt = debates && task.options !== undefined ? task.task : `${task.task}\n\n${Aggregate.answerInstruction(task.options)}`
    const started = yield* Clock.currentTimeMillis
    const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - started)
    return yield* spec._tag === "Single"
      ? runSingle(task, id, prompt, elapsed)
      : runPattern(spec, task, id, prompt, domains, elapsed)
  })

/**
 * Run every pattern over every task, one pattern after the other (so each pattern's model usage
 * is its own), up to `concurrency` tasks at a time (default 4), and report per pattern.
 * `onProgress` hears after each task. Calls, tokens and cost are this process's model usage; in a
 * client-only process, whose agents' models run on the runners, they are summed from the answers.
 *
 * @since 0.1.0
 */
export const run = (options: {
  readonly tasks: ReadonlyArray<TaskSet.Task>
  readonly patterns: ReadonlyArray<PatternSpec>
  readonly concurrency?: number | undefined
  readonly onProgress?: ((progress: { readonly pattern: string; readonly done: number; readonly total: number }) => Effect.Effect<void>) | undefined
}): Effect.Effect<ReadonlyArray<PatternReport>, never, Colony.Services | Sharding | LanguageModel.LanguageModel> =>
  Effect.forEach(options.patterns, (spec) =>
    Effect.gen(function*() {
      const domains = domainsOf(options.tasks)
      const { clientOnly } = yield* Colony.Placement
      const before = (yield* LanguageModel.usage).total
      let done = 0
      const outcomes = yield* Effect.forEach(options.tasks, (task, i) =>
        runTask(spec, task, i, domains).pipe(
          Effect.tap(() => options.onProgress?.({ pattern: patternName(spec), done: ++done, total: options.tasks.length }) ?? Effect.void)
        ), { concurrency: options.concurrency ?? 4 })
      const after = (yield* LanguageModel.usage).total
      const answered = outcomes.reduce((sum, o) => ({
        calls: sum.calls + o.answered.calls,
        tokens: sum.tokens + o.answered.tokens,
        cost: sum.cost + o.answered.cost,
        simulated: sum.simulated || o.answered.simulated
      }), noAnswers)
      const correct = outcomes.filter((o) => o.correct).length
      const latencies = outcomes.map((o) => o.latencyMs)
      const roundCount = Math.max(0, ...outcomes.map((o) => o.rounds.length))
      return new PatternReport({
        pattern: patternName(spec),
        tasks: outcomes.length,
        correct,
        accuracy: outcomes.length === 0 ? 0 : correct / outcomes.length,
        interval: wilson(correct, outcomes.length),
        calls: clientOnly ? answered.calls : after.calls - before.calls,
        tokens: clientOnly ? answered.tokens : after.usage.totalTokens - before.usage.totalTokens,
        cost: clientOnly ? answered.cost : after.cost - before.cost,
        latencyMs: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95) },
        failures: outcomes.filter((o) => o.failed).length,
        ...(answered.simulated ? { simulated: true } : {}),
        abstentions: outcomes.reduce((sum, o) => sum + o.abstentions, 0),
        ...(roundCount === 0 ? {} : {
          rounds: Array.from({ length: roundCount }, (_, r) => outcomes.filter((o) => o.rounds[r] === true).length / outcomes.length)
        })
      })
    }))

// --- the table ---

const percent = (x: number) => `${(x * 100).toFixed(1)}%`

/**
 * The report as a table a person reads: one row per pattern, then the accuracy per debate round.
 *
 * @since 0.1.0
 */
export const formatTable = (report: Report): string => {
  const header = ["pattern", "accuracy", "95% interval", "calls", "tokens", "cost $", "p50 ms", "p95 ms", "failures", "abstentions"]
  const rows = report.patterns.map((p) => [
    p.pattern,
    percent(p.accuracy),
    `${percent(p.interval.low)}–${percent(p.interval.high)}`,
    String(p.calls),
    String(p.tokens),
    p.cost.toFixed(4),
    String(Math.round(p.latencyMs.p50)),
    String(Math.round(p.latencyMs.p95)),
    String(p.failures),
    String(p.abstentions)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  const debates = report.patterns.filter((p) => p.rounds !== undefined && p.rounds.length > 0)
  return [
    `${report.tasks}, ${report.model}${report.simulated ? " — SIMULATED, not a model's answers" : ""}`,
    line(header),
    ...rows.map(line),
    ...debates.map((p) => `${p.pattern} majority after each round: ${p.rounds!.map(percent).join(" → ")}`)
  ].join("\n")
}
