/**
 * Deciding a master-slave run by its workers' votes: per subtask, each answer is read as a vote
 * (a choice, or a number for an average) and the aggregation rule decides.
 */
import { Events } from "@colony/runtime"
import { Effect } from "effect"
import * as Aggregate from "../Aggregate.js"
import * as SessionEvents from "../SessionEvents.js"
import type { AgentRef, MasterSlave } from "./patterns.js"
import { Abstention, CastVote, Missing } from "./result.js"
import type { Records, RunContext } from "./runContext.js"
import type { SubtaskOutcome } from "./subtasks.js"

/**
 * A voter's choice read from its answer: one of `options` when there are options (`undefined` —
 * an abstention — when it names none or several); without options, the final answer it states,
 * or else its whole text.
 */
export const readVote = (
  text: string,
  options: ReadonlyArray<string> | undefined
): { readonly choice: string; readonly how: string } | undefined => {
  if (options !== undefined) return Aggregate.readChoice(text, options)
  const stated = Aggregate.readAnswer(text)
  return stated === undefined ? { choice: text.trim(), how: "answer" } : { choice: stated.answer, how: stated.how }
}

/** Why a voter's answer is not a vote. */
export const unreadable = (options: ReadonlyArray<string>) =>
  `abstained: the answer names none of the options (${options.join(", ")}) or several`

/** Record that `voter` abstained at `step`, in the result and as an event. */
export const abstain = (ctx: RunContext, records: Records, voter: AgentRef, step: string, reason: string) =>
  Effect.gen(function*() {
    records.abstentions.push(new Abstention({ voter, step, reason }, true))
    yield* ctx.emit((m) => new SessionEvents.VoteAbstained({ ...m, step, voter: voter.toString(), reason }, true))
  })

interface Cast {
  readonly choice: string
  readonly weight: number
  readonly value?: number
}

/**
 * One subtask's answers as votes; an answer with no number for an average is missing instead, and
 * one naming no option is an abstention.
 */
const castVotes = (ctx: RunContext, pattern: MasterSlave, subtask: string, answered: ReadonlyArray<SubtaskOutcome>, records: Records) =>
  Effect.gen(function*() {
    const weightOf = (worker: AgentRef) => pattern.weights?.[pattern.workers.findIndex((w) => String(w) === String(worker))] ?? 1
    const cast: Array<Cast> = []
    for (const o of answered) {
      const text = o.answer!.text
      const weight = weightOf(o.worker)
      const number = pattern.aggregate === "weighted-average" ? Aggregate.readNumber(text) : undefined
      if (pattern.aggregate === "weighted-average" && number === undefined) {
        records.missing.push(new Missing({ task: subtask, step: o.step, by: o.worker, reason: "the answer holds no number" }, true))
        continue
      }
      const vote = number === undefined ? readVote(text, pattern.options) : { choice: String(number.value), how: number.how, value: number.value }
      if (vote === undefined) {
        yield* abstain(ctx, records, o.worker, o.step, unreadable(pattern.options!))
        continue
      }
      cast.push({ choice: vote.choice, weight, ...("value" in vote ? { value: vote.value } : {}) })
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
