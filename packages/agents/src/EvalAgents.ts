/**
 * The agents of `colony eval`, for runners: `colony runner --agents <this module>` hosts the
 * coordinator, `COLONY_EVAL_SOLVERS` solvers and an expert per domain of `COLONY_EVAL_DOMAINS`
 * (`Eval.agentTypes`), each asking the model of its own name from the runner's model
 * configuration (`COLONY_MODEL_URL`, `COLONY_MODELS`). A `colony eval` given `DATABASE_URL` is
 * then a client of these runners, and checks first that they host what it needs (`check`).
 *
 * @since 0.1.0
 */
import { Colony, ColonyError } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Config, Duration, Effect, Layer, Schema } from "effect"
import * as Eval from "./Eval.js"
import type * as TaskSet from "./TaskSet.js"

/**
 * The domains of the generated task sets, and `general`, a JSONL line's domain when it names none.
 *
 * @since 0.1.0
 */
export const defaultDomains: ReadonlyArray<string> = ["arithmetic", "word-problems", "multiple-choice", "decomposable", "general"]

/**
 * What the runner hosts: `COLONY_EVAL_SOLVERS` (default 9, what the default patterns need:
 * `hybrid` is 3 teams of 3) and `COLONY_EVAL_DOMAINS` (comma-separated, default `defaultDomains`).
 *
 * @since 0.1.0
 */
export const config = Config.all({
  solvers: Config.integer("COLONY_EVAL_SOLVERS").pipe(Config.withDefault(9)),
  domains: Config.array(Config.string(), "COLONY_EVAL_DOMAINS").pipe(Config.withDefault(defaultDomains))
})

/**
 * The eval's agents, hosted as `config` says.
 *
 * @since 0.1.0
 */
export const layer = Layer.unwrapEffect(
  Effect.map(config, ({ domains, solvers }) => Eval.layerAgents(Math.max(1, solvers), domains)).pipe(
    Effect.mapError((error) => new ColonyError.StartFailed({ reason: `invalid COLONY_EVAL_SOLVERS or COLONY_EVAL_DOMAINS: ${error}` }))
  )
)


// --- what the runners host ---

/**
 * What an evaluation of `patterns` on `tasks` needs of every runner: as many solvers as its largest
 * team, and, for `master-slave`, an expert for each task domain.
 *
 * @since 0.1.0
 */
export const needs = (
  patterns: ReadonlyArray<Eval.PatternSpec>,
  tasks: ReadonlyArray<TaskSet.Task>
): { readonly solvers: number; readonly domains: ReadonlyArray<string> } => ({
  solvers: Eval.solversNeeded(patterns),
  domains: patterns.some((spec) => spec._tag === "MasterSlave") ? Eval.domainsOf(tasks) : []
})

/**
 * Runners that host fewer solvers or fewer experts than the evaluation needs: which runner lacks
 * what, and the settings that would host it.
 *
 * @since 0.1.0
 * @category errors
 */
export class RunnersLackAgents extends Schema.TaggedError<RunnersLackAgents>()("RunnersLackAgents", {
  /** the pattern that needs the most solvers */
  largest: Schema.String,
  solvers: Schema.Number,
  domains: Schema.Array(Schema.String),
  runners: Schema.Array(Eval.Hosting)
}) {
  override get message() {
    const lacking = this.runners.map((runner) => {
      const missing = this.domains.filter((d) => !hostsExpert(runner, d))
      return [
        runner.solvers < this.solvers ? `${runner.solvers} solver${runner.solvers === 1 ? "" : "s"} where ${this.largest} needs ${this.solvers}` : undefined,
        missing.length > 0 ? `no expert for ${missing.join(", ")} (master-slave asks one per task domain)` : undefined
      ].filter((part) => part !== undefined).map((part) => `runner ${runner.runner} hosts ${part}`).join("; ")
    })
    const domains = [...new Set([...this.runners.flatMap((r) => r.domains), ...this.domains])]
    const settings = [
      this.runners.some((r) => r.solvers < this.solvers) ? `COLONY_EVAL_SOLVERS=${this.solvers}` : undefined,
      this.runners.some((r) => this.domains.some((d) => !hostsExpert(r, d))) ? `COLONY_EVAL_DOMAINS=${domains.join(",")}` : undefined
    ].filter((setting) => setting !== undefined)
    return `the runners do not host the agents this eval needs: ${lacking.join("; ")}. Restart the runners of the ` +
      `eval's agents module with ${settings.join(" ")}, or choose patterns and tasks that fit what they host`
  }
}

/**
 * No runner answered as the evaluation's coordinator: none runs the eval's agents module (or none
 * is up).
 *
 * @since 0.1.0
 * @category errors
 */
export class NoEvalRunners extends Schema.TaggedError<NoEvalRunners>()("NoEvalRunners", {
  reason: Schema.String
}) {
  override get message() {
    return `no runner answered as the eval's coordinator (${this.reason}): start runners with ` +
      `\`colony runner --agents\` and the @colony/agents module EvalAgents (dist/EvalAgents.js) on the same ` +
      `DATABASE_URL and COLONY_RUNNER_SECRET, or pass --embedded to run the eval in this process`
  }
}

const hostsExpert = (hosting: Eval.Hosting, domain: string) => hosting.domains.some((d) => Eval.expertName(d) === Eval.expertName(domain))

/**
 * Before an evaluation on runners: ask what the runners host, and fail with `RunnersLackAgents`
 * when one of them lacks a solver or an expert the evaluation needs (`needs`), or `NoEvalRunners`
 * when no eval coordinator answers within `timeout` (default: 30 seconds, or the colony's call
 * deadline, `COLONY_CALL_TIMEOUT`, when shorter). Without it a task sent
 * to an agent type no runner hosts waits for one until its call times out, task after task.
 *
 * The coordinator at a task's instance id answers for the runner the task's agents live on (they
 * share the id, so the shard); one id per shard the run's ids fall in is asked, so every runner
 * the run reaches answers.
 *
 * @since 0.1.0
 */
export const check = (
  patterns: ReadonlyArray<Eval.PatternSpec>,
  tasks: ReadonlyArray<TaskSet.Task>,
  options: { readonly timeout?: Duration.DurationInput | undefined } = {}
): Effect.Effect<ReadonlyArray<Eval.Hosting>, RunnersLackAgents | NoEvalRunners, Colony.Services | Sharding> =>
  Effect.gen(function*() {
    const need = needs(patterns, tasks)
    const byShard = new Map<string, string>()
    for (const spec of patterns) {
      for (let i = 0; i < tasks.length; i++) {
        const id = Eval.instanceId(spec, i)
        const shard = yield* Colony.shardOf(id)
        if (!byShard.has(`${shard.group}/${shard.id}`)) byShard.set(`${shard.group}/${shard.id}`, id)
      }
    }
    // the colony's call deadline (COLONY_CALL_TIMEOUT) when shorter: it is sized for model calls, this for none
    const { callTimeout } = yield* Colony.ColonyConfig
    const timeout = options.timeout ?? Duration.min(callTimeout, Duration.seconds(30))
    const coordinator = yield* Colony.client(Eval.coordinator, { timeout })
    const answers = yield* Effect.forEach(byShard.values(), (id) => coordinator(id).ReportHosting(), { concurrency: 16 }).pipe(
      Effect.mapError((error) => new NoEvalRunners({ reason: error.message }))
    )
    const runners = [...new Map(answers.map((hosting) => [hosting.runner, hosting])).values()]
    const lacking = runners.filter((r) => r.solvers < need.solvers || need.domains.some((d) => !hostsExpert(r, d)))
    if (lacking.length > 0) {
      return yield* new RunnersLackAgents({
        largest: Eval.patternName(patterns.find((spec) => Eval.solversNeeded([spec]) === need.solvers)!),
        solvers: need.solvers,
        domains: need.domains,
        runners: lacking
      })
    }
    return runners
  })

export default layer
