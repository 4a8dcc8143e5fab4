/**
 * How agents work together on one request, as a value the caller picks per request. The same
 * agents run a different pattern when the caller passes a different `Collaboration`: switching
 * pattern is changing data, not code.
 *
 * @since 0.1.0
 */
import { type AgentError, Colony, type LanguageModel } from "@colony/runtime"
import { Effect, Schema } from "effect"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Aggregate from "./Aggregate.js"
import * as Assign from "./Assign.js"
import * as Decompose from "./Decompose.js"

/**
 * An agent instance: its type and its id.
 *
 * @since 0.1.0
 * @category models
 */
export class AgentRef extends Schema.Class<AgentRef>("@colony/agents/AgentRef")({
  agent: Schema.String,
  id: Schema.String
}) {
  override toString() {
    return `${this.agent}/${this.id}`
  }
}

/**
 * A coordinator decomposes the task, assigns the subtasks to workers, and aggregates their
 * answers.
 *
 * @since 0.1.0
 * @category models
 */
export class MasterSlave extends Schema.TaggedClass<MasterSlave>()("MasterSlave", {
  coordinator: AgentRef,
  workers: Schema.NonEmptyArray(AgentRef),
  decompose: Schema.optionalWith(Schema.Literal("clauses"), { default: () => "clauses" as const }),
  assign: Schema.optionalWith(Schema.Literal("round-robin"), { default: () => "round-robin" as const }),
  aggregate: Schema.optionalWith(Schema.Literal("synthesis", "concatenation"), {
    default: () => "synthesis" as const
  })
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export const Collaboration = Schema.Union(MasterSlave)

/**
 * @since 0.1.0
 * @category models
 */
export type Collaboration = typeof Collaboration.Type

/**
 * What one agent contributed to a result.
 *
 * @since 0.1.0
 * @category models
 */
export class Contribution extends Schema.Class<Contribution>("@colony/agents/Contribution")({
  by: AgentRef,
  role: Schema.Literal("worker", "coordinator"),
  task: Schema.String,
  text: Schema.String,
  model: Schema.String,
  simulated: Schema.Boolean,
  totalTokens: Schema.Number
}) {}

/**
 * The answer of a collaboration with its provenance: who contributed what.
 *
 * @since 0.1.0
 * @category models
 */
export class Result extends Schema.Class<Result>("@colony/agents/Result")({
  pattern: Schema.String,
  answer: Schema.String,
  simulated: Schema.Boolean,
  contributions: Schema.Array(Contribution),
  totalTokens: Schema.Number
}) {}

const contribution = (role: "worker" | "coordinator", by: AgentRef, task: string) => (answer: {
  readonly text: string
  readonly model: string
  readonly simulated: boolean
  readonly usage: { readonly totalTokens: number }
}) =>
  new Contribution({
    by,
    role,
    task,
    text: answer.text,
    model: answer.model,
    simulated: answer.simulated,
    totalTokens: answer.usage.totalTokens
  })

const runMasterSlave = (pattern: MasterSlave, task: string) =>
  Effect.gen(function*() {
    const subtasks = Decompose.byClauses(task)
    const assignments = Assign.roundRobin(subtasks, pattern.workers)
    const from = pattern.coordinator.toString()
    const parts = yield* Effect.forEach(
      assignments,
      ({ subtask, worker }) =>
        Colony.ask(worker.agent, worker.id, subtask, { from }).pipe(
          Effect.map(contribution("worker", worker, subtask))
        ),
      { concurrency: "unbounded" }
    )
    const combined = parts.map((part) => ({ subtask: part.task, text: part.text }))
    const final = pattern.aggregate === "concatenation"
      ? undefined
      : yield* Colony.ask(
        pattern.coordinator.agent,
        pattern.coordinator.id,
        Aggregate.synthesisPrompt(task, combined),
        { from: "caller" }
      ).pipe(Effect.map(contribution("coordinator", pattern.coordinator, "synthesis")))
    const contributions = final === undefined ? parts : [...parts, final]
    return new Result({
      pattern: pattern._tag,
      answer: final === undefined ? Aggregate.concatenate(combined) : final.text,
      simulated: contributions.some((c) => c.simulated),
      contributions,
      totalTokens: contributions.reduce((sum, c) => sum + c.totalTokens, 0)
    })
  })

/**
 * Run a collaboration on a task in the current colony.
 *
 * @since 0.1.0
 */
export const run = (
  collaboration: Collaboration,
  task: string
): Effect.Effect<
  Result,
  AgentError.AgentError | LanguageModel.ModelError,
  Colony.Services | Sharding
> => {
  switch (collaboration._tag) {
    case "MasterSlave":
      return runMasterSlave(collaboration, task)
  }
}
