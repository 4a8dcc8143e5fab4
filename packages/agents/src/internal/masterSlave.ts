/**
 * The master-slave pattern: a coordinator decomposes the task, the subtasks are assigned to
 * workers (a failed worker's subtask to another where allowed), and the answers are aggregated.
 */
import { Effect, Either, Ref } from "effect"
import * as Aggregate from "../Aggregate.js"
import * as Assign from "../Assign.js"
import * as SessionEvents from "../SessionEvents.js"
import { answerOf, call } from "./calls.js"
import type { AgentRef, MasterSlave } from "./patterns.js"
import { Missing } from "./result.js"
import { emptyRecords, type PatternOutcome, type Records, type RunContext, type RunServices } from "./runContext.js"
import { assign, decompose, type Indexed, type SubtaskOutcome } from "./subtasks.js"
import { decideByVotes } from "./voting.js"

// A worker that failed is failed for the whole run: it is not offered another subtask.
// Replicas are never reassigned: a worker answering twice would vote twice.
const subtaskRunner = (ctx: RunContext, pattern: MasterSlave) =>
  Effect.map(Ref.make<ReadonlyArray<AgentRef>>([]), (failed) => {
    const from = pattern.coordinator.toString()
    const reassign = pattern.reassignOnFailure && pattern.decompose !== "replicate"
    return (subtask: Indexed, first: AgentRef): Effect.Effect<SubtaskOutcome, never, RunServices> =>
      Effect.gen(function*() {
        let worker = first
        for (let attempt = 1;; attempt++) {
          const step = `subtask-${subtask.index + 1}/attempt-${attempt}`
          const reply = yield* call(ctx, step, worker, subtask.task, from)
          if (Either.isRight(reply)) return { subtask, worker, answer: reply.right, step, reason: undefined }
          const down = yield* Ref.updateAndGet(failed, (fs) => fs.some((f) => String(f) === String(worker)) ? fs : [...fs, worker])
          const load = yield* ctx.load.load(pattern.workers.map(String))
          const next = reassign ? Assign.reassign(pattern.workers, down, load, (a, b) => String(a) === String(b)) : undefined
          if (reassign) {
            yield* ctx.emit((m) =>
              new SessionEvents.SubtaskReassigned({
                ...m,
                step,
                subtask: subtask.task,
                from: worker.toString(),
                ...(next === undefined ? {} : { to: next.toString() }),
                reason: reply.left
              }, true)
            )
          }
          if (next === undefined) return { subtask, worker, answer: undefined, step, reason: reply.left }
          worker = next
        }
      })
  })

const aggregate = (
  ctx: RunContext,
  pattern: MasterSlave,
  task: string,
  outcomes: ReadonlyArray<SubtaskOutcome>,
  records: Records
) =>
  Effect.gen(function*() {
    const parts = outcomes.map((o) => ({
      subtask: o.subtask.task,
      text: o.answer?.text ?? `(missing: ${o.reason ?? "no answer"})`
    }))
    switch (pattern.aggregate) {
      case "concatenation":
        return Aggregate.concatenate(parts)
      case "synthesis": {
        if (outcomes.every((o) => o.answer === undefined)) return "(no answer: every part is missing)"
        const step = "synthesis"
        const reply = yield* call(ctx, step, pattern.coordinator, Aggregate.synthesisPrompt(task, parts), "caller")
        if (Either.isRight(reply)) {
          records.contributions.push(answerOf("coordinator", pattern.coordinator, "synthesis", step, reply.right))
          return reply.right.text
        }
        records.missing.push(
          new Missing({ task: "synthesis", step, by: pattern.coordinator, reason: `${reply.left}; the parts are concatenated instead` }, true)
        )
        return Aggregate.concatenate(parts)
      }
      default:
        return yield* decideByVotes(ctx, pattern, outcomes, records)
    }
  })

/** Run `pattern` on `task`. */
export const masterSlave = (ctx: RunContext, pattern: MasterSlave, task: string): Effect.Effect<PatternOutcome, never, RunServices> =>
  Effect.gen(function*() {
    const records = emptyRecords()
    const decomposed = yield* decompose(ctx, pattern, task, records)
    const subtasks: Array<Indexed> = decomposed.subtasks.map((s, index) => ({
      ...s,
      priority: pattern.priorities?.[index] ?? s.priority,
      index
    }))
    yield* ctx.emit((m) => new SessionEvents.TaskDecomposed({ ...m, strategy: decomposed.strategy, subtasks: subtasks.map((s) => s.task) }, true))

    const assignments = yield* assign(ctx, pattern, subtasks, records)
    const strategy = pattern.decompose === "replicate" ? "replicate" : pattern.assign
    for (const a of assignments) {
      yield* ctx.emit((m) =>
        new SessionEvents.SubtaskAssigned({
          ...m,
          step: `subtask-${a.subtask.index + 1}`,
          subtask: a.subtask.task,
          worker: a.worker.toString(),
          strategy
        }, true)
      )
    }

    const runSubtask = yield* subtaskRunner(ctx, pattern)
    const outcomes = yield* Effect.forEach(
      assignments,
      (a) => runSubtask(a.subtask, a.worker),
      { concurrency: pattern.assign === "priority" && pattern.decompose !== "replicate" ? pattern.workers.length : "unbounded" }
    )
    const ordered = [...outcomes].sort((a, b) => a.subtask.index - b.subtask.index)
    for (const o of ordered) {
      if (o.answer !== undefined) records.contributions.push(answerOf("worker", o.worker, o.subtask.task, o.step, o.answer))
      else records.missing.push(new Missing({ task: o.subtask.task, step: o.step, by: o.worker, reason: o.reason ?? "no answer" }, true))
    }

    const answer = yield* aggregate(ctx, pattern, task, ordered, records)
    return { answer, records, rounds: 0 }
  })
