/**
 * Deciding a master-slave run by its workers' votes: per subtask, each answer is read as a vote
 * (a choice, or a number for an average) and the aggregation rule decides.
 */
import { Events } from "@colony/runtime"
import { Effect, Option } from "effect"
import * as Aggregate from "../Aggregate.js"
import * as SessionEvents from "../SessionEvents.js"
import type { AgentRef, MasterSlave } from "./patterns.js"
import { CastVote, Missing } from "./result.js"
import type { Records, RunContext } from "./runContext.js"
import type { SubtaskOutcome } from "./subtasks.js"

interface Cast {
  readonly choice: string
  readonly weight: number
  readonly value?: number
}

/** One subtask's answers as votes; an answer with no number for an average is missing instead. */
const castVotes = (ctx: RunContext, pattern: MasterSlave, subtask: string, answered: ReadonlyArray<SubtaskOutcome>, records: Records) =>
  Effect.gen(function*() {
    const weightOf = (worker: AgentRef) => pattern.weights?.[pattern.workers.findIndex((w) => String(w) === String(worker))] ?? 1
    const cast: Array<Cast> = []
    for (const o of answered) {
      const text = o.answer!.text
      const weight = weightOf(o.worker)
      const read: Option.Option<{ choice: string; how: string; value?: number }> = pattern.aggregate === "weighted-average"
        ? Option.map(Option.fromNullable(Aggregate.readNumber(text)), (r) => ({ choice: String(r.value), how: r.how, value: r.value }))
        : Option.some(pattern.options === undefined ? { choice: text.trim(), how: "answer" } : Aggregate.readChoice(text, pattern.options))
      if (Option.isNone(read)) {
        records.missing.push(new Missing({ task: subtask, step: o.step, by: o.worker, reason: "the answer holds no number" }, true))
        continue
      }
      const vote = read.value
      cast.push({ choice: vote.choice, weight, ...(vote.value === undefined ? {} : { value: vote.value }) })
      records.votes.push(new CastVote({ voter: o.worker, choice: vote.choice, weight, how: vote.how, step: o.step }, true))
      yield* ctx.emit((m) =>
        new SessionEvents.VoteCast({ ...m, step: o.step, voter: o.worker.toString(), choice: Events.summarize(vote.choice), weight, how: vote.how }, true)
      )
    }
    return cast
  })

/** The aggregation rule's decision among `cast`, if it reaches one; a quorum not reached is recorded. */
const decide = (
  pattern: MasterSlave,
  cast: ReadonlyArray<Cast>,
  group: { readonly subtask: string; readonly step: string; readonly size: number },
  records: Records
): string | undefined => {
  switch (pattern.aggregate) {
    case "weighted-average": {
      const avg = Aggregate.weightedAverage(cast.map((c) => ({ value: c.value!, weight: c.weight })))
      return avg === undefined ? undefined : String(avg)
    }
    case "weighted-vote":
      return Aggregate.weightedVote(cast).winner
    case "quorum": {
      const outcome = Aggregate.quorum(cast.map((c) => c.choice), { total: group.size, quorum: pattern.quorum })
      if (outcome._tag === "Reached") return outcome.choice
      const best = outcome.counts.reduce((max, c) => Math.max(max, c.weight), 0)
      records.missing.push(
        new Missing({
          task: group.subtask,
          step: group.step,
          reason: `no quorum: the leading choice has ${best} of the ${outcome.quorum} votes needed; ` +
            `${outcome.missing} of ${group.size} answers are missing`
        }, true)
      )
      return undefined
    }
    default:
      return Aggregate.majorityVote(cast.map((c) => c.choice)).winner
  }
}

/** The run's answer: the decision per subtask (the decision alone when there is one subtask). */
export const decideByVotes = (ctx: RunContext, pattern: MasterSlave, outcomes: ReadonlyArray<SubtaskOutcome>, records: Records) =>
  Effect.gen(function*() {
    const groups = new Map<string, Array<SubtaskOutcome>>()
    for (const o of outcomes) groups.set(o.subtask.task, [...(groups.get(o.subtask.task) ?? []), o])
    const decisions: Array<{ task: string; decision: string }> = []
    let g = 0
    for (const [subtask, group] of groups) {
      g++
      const step = `vote/${g}`
      const cast = yield* castVotes(ctx, pattern, subtask, group.filter((o) => o.answer !== undefined), records)
      const decision = decide(pattern, cast, { subtask, step, size: group.length }, records)
      if (decision === undefined && pattern.aggregate !== "quorum") {
        records.missing.push(new Missing({ task: subtask, step, reason: "no votes to decide on" }, true))
      }
      decisions.push({ task: subtask, decision: decision ?? "(no decision)" })
    }
    return decisions.length === 1
      ? decisions[0]!.decision
      : decisions.map((d, i) => `${i + 1}. ${d.task}\n   ${d.decision}`).join("\n")
  })
