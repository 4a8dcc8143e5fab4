/**
 * How a master-slave run gets its subtasks and places them: the decomposition (by the task's
 * clauses, by function, by data, or planned by the coordinator's model) and the assignment of
 * each subtask to a worker (including the contract net's bids).
 */
import type { Agent } from "@colony/runtime"
import { Effect, Either } from "effect"
import * as Assign from "../Assign.js"
import * as Decompose from "../Decompose.js"
import { answerOf, call, describe } from "./calls.js"
import type { AgentRef, MasterSlave } from "./patterns.js"
import { Missing } from "./result.js"
import type { Records, RunContext } from "./runContext.js"

/** A subtask with its place in the decomposition. */
export interface Indexed extends Decompose.Subtask {
  readonly index: number
}

/** How one subtask ended: the worker last asked and its answer, or why there is none. */
export interface SubtaskOutcome {
  readonly subtask: Indexed
  readonly worker: AgentRef
  readonly answer: Agent.Answer | undefined
  readonly step: string
  readonly reason: string | undefined
}

export const decompose = (ctx: RunContext, pattern: MasterSlave, task: string, records: Records) =>
  Effect.gen(function*() {
    const d = pattern.decompose
    const n = pattern.workers.length
    if (d === "clauses") return { strategy: "clauses", subtasks: Decompose.byClauses(task).map((t) => Decompose.subtask(t)) }
    if (d === "replicate") return { strategy: "replicate", subtasks: pattern.workers.map(() => Decompose.subtask(task)) }
    if (d === "planned") {
      const step = "plan"
      const reply = yield* call(ctx, step, pattern.coordinator, Decompose.planPrompt(task, n), "caller")
      if (Either.isLeft(reply)) {
        records.missing.push(
          new Missing({ task: "plan", step, by: pattern.coordinator, reason: `${reply.left}; the task's clauses were used instead` }, true)
        )
        return { strategy: "planned (fell back to clauses)", subtasks: Decompose.byClauses(task).map((t) => Decompose.subtask(t)) }
      }
      records.contributions.push(answerOf("planner", pattern.coordinator, "plan", step, reply.right))
      const plan = Decompose.planned(task, reply.right.text)
      return { strategy: plan.fromPlan ? "planned" : "planned (no usable plan; clauses)", subtasks: plan.subtasks }
    }
    switch (d._tag) {
      case "Vertical":
        return { strategy: `vertical by ${d.functions.join(", ")}`, subtasks: Decompose.vertical(task, d.functions) }
      case "Horizontal":
        return { strategy: "horizontal by data", subtasks: Decompose.horizontal(task, d.items, d.blocks ?? n) }
      case "Hybrid":
        return { strategy: `hybrid: clauses × ${d.functions.join(", ")}`, subtasks: Decompose.hybrid(task, d.functions) }
    }
  })

export const assign = (ctx: RunContext, pattern: MasterSlave, subtasks: ReadonlyArray<Indexed>, records: Records) =>
  Effect.gen(function*() {
    const workers = pattern.workers
    const load = yield* ctx.load.load(workers.map(String))
    if (pattern.decompose === "replicate") return Assign.roundRobin(subtasks, workers)
    switch (pattern.assign) {
      case "round-robin":
        return Assign.roundRobin(subtasks, workers)
      case "least-loaded":
        return Assign.leastLoaded(subtasks, workers, load)
      case "priority":
        return Assign.byPriority(subtasks, workers, load)
      case "capability": {
        const capabilities = yield* Effect.forEach(workers, (w) => describe(ctx, `describe/${w}`, w), {
          concurrency: "unbounded"
        })
        return Assign.byCapability(subtasks, workers.map((worker, i) => ({ worker, capabilities: capabilities[i]! })), load)
      }
      case "contract-net": {
        const capabilities = yield* Effect.forEach(workers, (w) => describe(ctx, `describe/${w}`, w), {
          concurrency: "unbounded"
        })
        const bids = yield* Effect.forEach(subtasks, (s) =>
          Effect.forEach(workers, (w, wi) =>
            Effect.gen(function*() {
              const step = `bid/subtask-${s.index + 1}/${w}`
              const reply = yield* call(ctx, step, w, Assign.bidPrompt(s.task), pattern.coordinator.toString())
              if (Either.isLeft(reply)) return { bid: undefined, contribution: undefined }
              const bid = Assign.readBid(reply.right.text, {
                capabilities: capabilities[wi]!,
                capability: s.capability,
                load: load[wi]!
              })
              return { bid: bid.cost, contribution: answerOf("bidder", w, `bid: ${s.task}`, step, reply.right) }
            }), { concurrency: "unbounded" }), { concurrency: "unbounded" })
        for (const row of bids) for (const b of row) if (b.contribution) records.contributions.push(b.contribution)
        const { awarded, unawarded } = Assign.contractNet(subtasks, workers, bids.map((row) => row.map((b) => b.bid)))
        for (const s of unawarded) {
          records.missing.push(new Missing({ task: s.task, step: `subtask-${s.index + 1}`, reason: "no worker bid for it" }, true))
        }
        return awarded
      }
    }
  })
