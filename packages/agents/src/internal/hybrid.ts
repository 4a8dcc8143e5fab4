/**
 * The hybrid pattern: a coordinator over teams, each deliberating on its part (the whole task, or
 * the task's clauses dealt round-robin), then aggregating the teams' decisions.
 */
import { Events } from "@colony/runtime"
import { Effect, Either } from "effect"
import * as Aggregate from "../Aggregate.js"
import * as Assign from "../Assign.js"
import * as Decompose from "../Decompose.js"
import * as SessionEvents from "../SessionEvents.js"
import { answerOf, call } from "./calls.js"
import { deliberate } from "./deliberation.js"
import type { Hybrid, Team } from "./patterns.js"
import { Missing } from "./result.js"
import { append, emptyRecords, type PatternOutcome, type RunContext, type RunServices } from "./runContext.js"

/** Run `pattern` on `task`. */
export const hybrid = (ctx: RunContext, pattern: Hybrid, task: string): Effect.Effect<PatternOutcome, never, RunServices> =>
  Effect.gen(function*() {
    const records = emptyRecords()
    const from = pattern.coordinator.toString()
    const parts: ReadonlyArray<{ readonly subtask: string; readonly worker: Team }> = pattern.decompose === "replicate"
      ? pattern.teams.map((team) => ({ subtask: task, worker: team }))
      : Assign.roundRobin(Decompose.byClauses(task), pattern.teams)
    yield* ctx.emit((m) => new SessionEvents.TaskDecomposed({ ...m, strategy: pattern.decompose, subtasks: parts.map((p) => p.subtask) }, true))
    for (const [i, p] of parts.entries()) {
      yield* ctx.emit((m) =>
        new SessionEvents.SubtaskAssigned({ ...m, step: `part-${i + 1}`, subtask: p.subtask, worker: `team ${p.worker.name}`, strategy: "round-robin" }, true)
      )
    }
    const many = parts.length > pattern.teams.length
    const outcomes = yield* Effect.forEach(parts, (p, i) =>
      deliberate(ctx, p.worker, p.subtask, `team-${p.worker.name}/${many ? `part-${i + 1}/` : ""}`, p.worker.name, from), {
      concurrency: "unbounded"
    })
    for (const o of outcomes) append(records, o.records)
    const rounds = outcomes.reduce((max, o) => Math.max(max, o.rounds), 0)
    const teamParts = parts.map((p, i) => ({ subtask: `${p.worker.name}: ${p.subtask}`, text: outcomes[i]!.answer }))
    switch (pattern.aggregate) {
      case "concatenation":
        return { answer: Aggregate.concatenate(teamParts), records, rounds }
      case "majority": {
        const decided = outcomes.flatMap((o, i) => o.decision === undefined ? [] : [{ team: parts[i]!.worker.name, choice: o.decision }])
        for (const d of decided) {
          yield* ctx.emit((m) =>
            new SessionEvents.VoteCast({ ...m, step: "teams", voter: `team ${d.team}`, choice: Events.summarize(d.choice), weight: 1, how: "team decision" }, true)
          )
        }
        const winner = Aggregate.majorityVote(decided.map((d) => d.choice)).winner
        if (winner === undefined) records.missing.push(new Missing({ task: "decision", step: "teams", reason: "no team reached a decision" }, true))
        return { answer: winner ?? "(no decision: no team reached one)", records, rounds }
      }
      case "synthesis": {
        if (outcomes.every((o) => o.decision === undefined)) return { answer: "(no answer: no team reached a decision)", records, rounds }
        const step = "synthesis"
        const reply = yield* call(ctx, step, pattern.coordinator, Aggregate.synthesisPrompt(task, teamParts), "caller")
        if (Either.isRight(reply)) {
          records.contributions.push(answerOf("coordinator", pattern.coordinator, "synthesis", step, reply.right))
          return { answer: reply.right.text, records, rounds }
        }
        records.missing.push(
          new Missing({ task: "synthesis", step, by: pattern.coordinator, reason: `${reply.left}; the team answers are concatenated instead` }, true)
        )
        return { answer: Aggregate.concatenate(teamParts), records, rounds }
      }
    }
  })
