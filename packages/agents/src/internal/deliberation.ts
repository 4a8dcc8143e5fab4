/**
 * Deliberation, the peer pattern and every team of a hybrid: peers answer, see each other's
 * previous answers and answer again until the stopping rule holds; then the voting rule (a
 * majority, weights, or a judge) decides among the last answers.
 */
import { Events } from "@colony/runtime"
import { Effect, Either } from "effect"
import * as Aggregate from "../Aggregate.js"
import * as SessionEvents from "../SessionEvents.js"
import { answerOf, call } from "./calls.js"
import type { Peer } from "./patterns.js"
import { CastVote, Missing } from "./result.js"
import { emptyRecords, type PatternOutcome, type Records, type RunContext, type RunServices } from "./runContext.js"
import { abstain, readVote, unreadable } from "./voting.js"

type Deliberation = Pick<Peer, "peers" | "rounds" | "stop" | "vote" | "options" | "quorum">

/** How a deliberation ended: its answer, and the decision when it reached one. */
export interface Deliberated extends PatternOutcome {
  readonly decision: string | undefined
}

const peerPrompt = (
  task: string,
  options: ReadonlyArray<string> | undefined,
  round: number,
  others: ReadonlyArray<{ readonly peer: string; readonly text: string }>,
  own: string | undefined
): string => {
  const debate = round === 1 ? "" : `\n\nThis is round ${round} of a debate. The other peers answered:\n` +
    others.map((o) => `- ${o.peer}: ${o.text}`).join("\n") +
    (own === undefined ? "" : `\nYour previous answer: ${own}`) +
    `\nWeigh their arguments and answer again.`
  return task + debate + (options === undefined ? "" : `\n\n${Aggregate.choiceInstruction(options)}`)
}

interface Answered {
  readonly i: number
  readonly text: string
  /** undefined when the peer abstained: its answer names no option */
  readonly choice: string | undefined
  readonly how: string
  readonly step: string
}

type Voted = Answered & { readonly choice: string }
const voted = (answers: ReadonlyArray<Answered>): ReadonlyArray<Voted> => answers.filter((a): a is Voted => a.choice !== undefined)

/** One deliberation in progress: its settings, where its steps are named, and its records. */
interface Debate {
  readonly ctx: RunContext
  readonly cfg: Deliberation
  readonly task: string
  /** the prefix of its step keys */
  readonly prefix: string
  readonly team: string | undefined
  /** the prefix of its records' task names */
  readonly label: string
  readonly from: string
  readonly records: Records
}

const weightOf = (cfg: Deliberation) => (i: number) =>
  typeof cfg.vote === "object" && cfg.vote._tag === "Weighted" ? cfg.vote.weights[i] ?? 1 : 1

/** Ask the active peers for round `round`; those that answered, with their choices read. */
const askRound = (d: Debate, round: number, active: ReadonlyArray<number>, previous: ReadonlyMap<number, Answered>) =>
  Effect.gen(function*() {
    const { cfg, records } = d
    const replies = yield* Effect.forEach(active, (i) => {
      const peer = cfg.peers[i]!
      const step = `${d.prefix}round-${round}/${peer}`
      const others = [...previous.values()].filter((a) => a.i !== i).map((a) => ({ peer: String(cfg.peers[a.i]), text: a.text }))
      const prompt = peerPrompt(d.task, cfg.options, round, others, previous.get(i)?.text)
      const format = cfg.options === undefined ? undefined : Aggregate.answerFormat(cfg.options)
      return Effect.map(call(d.ctx, step, peer, prompt, d.from, format), (reply) => ({ i, step, reply }))
    }, { concurrency: "unbounded" })
    const answered: Array<Answered> = []
    for (const { i, reply, step } of replies) {
      const peer = cfg.peers[i]!
      if (Either.isLeft(reply)) {
        records.missing.push(new Missing({ task: `${d.label}round ${round}`, step, by: peer, reason: reply.left }, true))
        continue
      }
      records.contributions.push(answerOf("peer", peer, `${d.label}round ${round}`, step, reply.right))
      const read = readVote(reply.right.text, cfg.options)
      if (read === undefined) yield* abstain(d.ctx, records, peer, step, unreadable(cfg.options!))
      answered.push({ i, text: reply.right.text, step, choice: read?.choice, how: read?.how ?? "abstained" })
    }
    return answered
  })

/** The rounds of debate: the last round's answers and how many rounds it took. */
const debate = (d: Debate) =>
  Effect.gen(function*() {
    const { cfg, ctx } = d
    let active = cfg.peers.map((_, i) => i)
    let previous = new Map<number, Answered>()
    let last: ReadonlyArray<Answered> = []
    let rounds = 0
    for (let round = 1; round <= cfg.rounds && active.length > 0; round++) {
      rounds = round
      const answered = yield* askRound(d, round, active, previous)
      for (const a of voted(answered)) {
        yield* ctx.emit((m) =>
          new SessionEvents.VoteCast({
            ...m,
            step: a.step,
            voter: String(cfg.peers[a.i]),
            choice: Events.summarize(a.choice),
            weight: weightOf(cfg)(a.i),
            how: a.how
          }, true)
        )
      }
      const choices = voted(answered).map((a) => a.choice)
      const agreement = Aggregate.agreement(choices)
      const unchanged = round > 1 && answered.every((a) => previous.get(a.i)?.choice === a.choice)
      const stop = round === cfg.rounds || answered.length === 0 ||
        (cfg.stop === "no-change" && unchanged) ||
        (typeof cfg.stop === "object" && agreement >= cfg.stop.threshold)
      const leading = Aggregate.majorityVote(choices).winner
      yield* ctx.emit((m) =>
        new SessionEvents.RoundCompleted({
          ...m,
          ...(d.team === undefined ? {} : { team: d.team }),
          round,
          agreement,
          ...(leading === undefined ? {} : { leading: Events.summarize(leading, 40) }),
          stopped: stop
        }, true)
      )
      previous = new Map(answered.map((a) => [a.i, a]))
      last = answered
      active = answered.map((a) => a.i)
      if (stop) break
    }
    return { last, rounds }
  })

/** The judge's pick among the last answers (or the options); the majority's when it cannot answer. */
const askJudge = (d: Debate, last: ReadonlyArray<Voted>, judge: Peer["peers"][number], majority: () => string) =>
  Effect.gen(function*() {
    const { cfg, ctx, records } = d
    const candidates = cfg.options === undefined
      ? Aggregate.candidateLabels(last.length).map((label, k) => ({ label, text: last[k]!.text, choice: last[k]!.choice }))
      : cfg.options.map((option) => ({ label: option, text: option, choice: option }))
    const step = `${d.prefix}judge`
    const labels = candidates.map((c) => c.label)
    const reply = yield* call(ctx, step, judge, Aggregate.judgePrompt(d.task, candidates), d.from, Aggregate.answerFormat(labels))
    if (Either.isLeft(reply)) {
      records.missing.push(new Missing({ task: `${d.label}judgement`, step, by: judge, reason: `${reply.left}; the majority decided instead` }, true))
      return majority()
    }
    records.contributions.push(answerOf("judge", judge, `${d.label}judgement`, step, reply.right))
    const read = Aggregate.readChoice(reply.right.text, labels)
    if (read === undefined) {
      yield* abstain(ctx, records, judge, step, `${unreadable(labels)}; the majority decided instead`)
      return majority()
    }
    const picked = candidates.find((c) => c.label === read.choice)!
    records.votes.push(new CastVote({ voter: judge, choice: picked.choice, weight: 1, how: read.how, step }, true))
    yield* ctx.emit((m) =>
      new SessionEvents.VoteCast({ ...m, step, voter: judge.toString(), choice: Events.summarize(picked.choice), weight: 1, how: `judge, ${read.how}` }, true)
    )
    return picked.choice
  })

/** The decision among the last answers, when enough peers gave one. */
const decide = (d: Debate, answered: ReadonlyArray<Answered>) =>
  Effect.gen(function*() {
    const { cfg, records } = d
    const weight = weightOf(cfg)
    const last = voted(answered)
    for (const a of last) {
      records.votes.push(new CastVote({ voter: cfg.peers[a.i]!, choice: a.choice, weight: weight(a.i), how: a.how, step: a.step }, true))
    }
    const needed = cfg.quorum ?? Aggregate.majorityQuorum(cfg.peers.length)
    if (last.length < needed) {
      const abstained = answered.length - last.length
      const reason = abstained === 0
        ? `only ${last.length} of ${cfg.peers.length} peers answered the last round; a decision needs ${needed}`
        : `only ${last.length} of ${cfg.peers.length} peers answered the last round with a readable choice ` +
          `(${abstained} abstained); a decision needs ${needed}`
      records.missing.push(new Missing({ task: `${d.label}decision`, step: `${d.prefix}decision`, reason }, true))
      return { decision: undefined, answer: `(no decision: ${reason})` }
    }
    const majority = () =>
      typeof cfg.vote === "object" && cfg.vote._tag === "Weighted"
        ? Aggregate.weightedVote(last.map((a) => ({ choice: a.choice, weight: weight(a.i) }))).winner!
        : Aggregate.majorityVote(last.map((a) => a.choice)).winner!
    const decision = typeof cfg.vote === "object" && cfg.vote._tag === "Judge"
      ? yield* askJudge(d, last, cfg.vote.judge, majority)
      : majority()
    return { decision, answer: decision }
  })

/** Deliberate on `task`: as a team of a hybrid when `team` is given, its steps under `prefix`. */
export const deliberate = (
  ctx: RunContext,
  cfg: Deliberation,
  task: string,
  prefix: string,
  team: string | undefined,
  from: string
): Effect.Effect<Deliberated, never, RunServices> =>
  Effect.gen(function*() {
    const records = emptyRecords()
    const d: Debate = { ctx, cfg, task, prefix, team, label: team === undefined ? "" : `${team}: `, from, records }
    const { last, rounds } = yield* debate(d)
    const { answer, decision } = yield* decide(d, last)
    return { decision, answer, records, rounds }
  })

/** Run the peer pattern on `task`. */
export const peer = (ctx: RunContext, pattern: Peer, task: string): Effect.Effect<PatternOutcome, never, RunServices> =>
  Effect.map(deliberate(ctx, pattern, task, "", undefined, "caller"), (d) => ({ answer: d.answer, records: d.records, rounds: d.rounds }))
