/**
 * The machinery that executes a `Collaboration`: the caller's fiber (`Collaboration.run`) and the
 * session entity (`Session`) both call `execute`. Every agent call goes through `call`, which
 * names it with a step key, stamps the send and the reply with the session's Lamport clock and
 * turns agent failures into values, so a pattern decides what a failure means (reassign, count
 * against a quorum, report missing) instead of the first failure ending the run.
 */
import { type Agent, AgentError, Colony, Events } from "@colony/runtime"
import { Cause, Clock, Duration, Effect, Either, Exit, Option, Queue, Ref, Scope } from "effect"
import { randomUUID } from "node:crypto"
import * as Aggregate from "../Aggregate.js"
import * as Assign from "../Assign.js"
import {
  AgentRef,
  CastVote,
  type Collaboration,
  Contribution,
  type Hybrid,
  type MasterSlave,
  Missing,
  participants,
  type Peer,
  Result,
  type RunOptions,
  Stamped,
  type Team
} from "../Collaboration.js"
import * as Decompose from "../Decompose.js"
import * as LogicalClock from "../LogicalClock.js"
import { LoadTracker, make as makeLoadTracker } from "../LoadTracker.js"

/** The entity type sessions run under; session events carry it as their `agent`. */
export const SESSION_TYPE = "colony-session"

/**
 * Wraps one agent call. The default runs it; a durable engine can make each step an activity
 * keyed by `key`, so a replay after a crash does not call the agent again.
 */
export type StepRunner = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

export type ExecuteOptions = RunOptions

interface Records {
  readonly contributions: Array<Contribution>
  readonly votes: Array<CastVote>
  readonly missing: Array<Missing>
}

const emptyRecords = (): Records => ({ contributions: [], votes: [], missing: [] })

const append = (into: Records, from: Records) => {
  into.contributions.push(...from.contributions)
  into.votes.push(...from.votes)
  into.missing.push(...from.missing)
}

interface Ctx {
  readonly session: string
  readonly emit: (make: (meta: SessionMeta) => Events.Event) => Effect.Effect<void>
  readonly drain: Effect.Effect<void>
  readonly step: StepRunner
  readonly stableMessageIds: boolean
  readonly load: LoadTracker["Type"]
  readonly timeout: Duration.Duration
}

interface SessionMeta {
  readonly agent: string
  readonly id: string
  readonly at: number
  readonly clock: number
}

const forwarded = new Set(["ModelCalled", "AgentRestarted", "AgentGaveUp"])

// --- the agent events a run forwards ---
//
// A run forwards its participants' model calls and restarts, which agents publish on the
// process's event bus before they reply. Runs in progress share one subscription to the bus (per
// bus), opened by the first and closed by the last: with a subscription per run, every event of
// the process was queued once per run in progress and looked at by each of them. Whichever run
// drains takes what the bus queued and hands each forwarded event to the runs whose participant
// published it, so a run still sees, after each reply, the events its call caused.

interface Inbox {
  readonly pending: Array<Events.Event>
}

interface Feed {
  readonly bus: Events.Events["Type"]
  queue: Queue.Dequeue<Events.Event>
  readonly scope: Scope.CloseableScope
  /** the runs in progress, by the address (`type/id`) of each of their participants */
  readonly byAddress: Map<string, Set<Inbox>>
  runs: number
}

const feeds = new WeakMap<Events.Events["Type"], Feed>()

const pump = (feed: Feed): Effect.Effect<void> =>
  Effect.flatMap(Queue.takeAll(feed.queue), (events) => {
    let behind = false
    for (const e of events) {
      if (e._tag === "SubscriberFellBehind") behind = true
      if (!forwarded.has(e._tag)) continue
      const inboxes = feed.byAddress.get(`${e.agent}/${e.id}`)
      if (inboxes !== undefined) for (const inbox of inboxes) inbox.pending.push(e)
    }
    // The bus ended the subscription of a feed that fell behind (a busy process, a long agent
    // call): the events it dropped are lost to the runs in progress, later ones must not be.
    return behind
      ? Effect.map(Scope.extend(feed.bus.subscribe, feed.scope), (queue) => {
        feed.queue = queue
      })
      : Effect.void
  })

/** The bus's feed, opened if no run holds it; counts the caller as one more run holding it. */
const joinFeed = (bus: Events.Events["Type"]): Effect.Effect<Feed> =>
  Effect.suspend(() => {
    const open = feeds.get(bus)
    if (open !== undefined) {
      open.runs++
      return Effect.succeed(open)
    }
    return Effect.gen(function*() {
      const scope = yield* Scope.make()
      const queue = yield* Scope.extend(bus.subscribe, scope)
      // another run may have opened one while this one subscribed
      const raced = feeds.get(bus)
      if (raced !== undefined) {
        raced.runs++
        yield* Scope.close(scope, Exit.void)
        return raced
      }
      const feed: Feed = { bus, queue, scope, byAddress: new Map(), runs: 1 }
      feeds.set(bus, feed)
      return feed
    })
  })

/** Joins the run to its bus's feed for as long as the scope lives; the result drains its inbox. */
const follow = (
  bus: Events.Events["Type"],
  who: ReadonlySet<string>
): Effect.Effect<Effect.Effect<ReadonlyArray<Events.Event>>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const feed = yield* joinFeed(bus)
      // what was published before the run joined is not the run's
      yield* pump(feed)
      const inbox: Inbox = { pending: [] }
      for (const address of who) {
        const inboxes = feed.byAddress.get(address)
        if (inboxes === undefined) feed.byAddress.set(address, new Set([inbox]))
        else inboxes.add(inbox)
      }
      return { feed, inbox }
    }),
    ({ feed, inbox }) =>
      Effect.suspend(() => {
        for (const address of who) {
          const inboxes = feed.byAddress.get(address)
          inboxes?.delete(inbox)
          if (inboxes?.size === 0) feed.byAddress.delete(address)
        }
        if (--feed.runs > 0) return Effect.void
        feeds.delete(bus)
        return Scope.close(feed.scope, Exit.void)
      })
  ).pipe(Effect.map(({ feed, inbox }) =>
    Effect.map(pump(feed), () => inbox.pending.splice(0, inbox.pending.length))
  ))


const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error ? String((error as { _tag: unknown })._tag) : "Error"
    const message = "message" in error ? String((error as { message: unknown }).message) : String(error)
    return `${tag}: ${message}`
  }
  return String(error)
}

const answerOf = (role: Contribution["role"], by: AgentRef, task: string, step: string, answer: Agent.Answer) =>
  new Contribution({
    by,
    role,
    task,
    step,
    text: answer.text,
    model: answer.model,
    simulated: answer.simulated,
    totalTokens: answer.usage.totalTokens,
    cost: answer.cost,
    tools: answer.tools
  }, true)

// --- calls ---

const call = (ctx: Ctx, step: string, ref: AgentRef, prompt: string, from: string) =>
  Effect.gen(function*() {
    const to = ref.toString()
    yield* ctx.emit((m) => new Events.MessageSent({ ...m, step, to, rpc: "Ask", summary: Events.summarize(prompt) }, true))
    const messageId = ctx.stableMessageIds ? `${ctx.session}/${step}` : undefined
    const outcome = yield* ctx.load.track(to, Colony.ask(ref.agent, ref.id, prompt, { from, messageId, timeout: ctx.timeout })).pipe(
      (effect) => ctx.step(step, effect),
      Effect.either
    )
    yield* ctx.drain
    if (Either.isLeft(outcome)) {
      const reason = describeError(outcome.left)
      yield* ctx.emit((m) =>
        new Events.ReplyReceived({ ...m, step, from: to, rpc: "Ask", outcome: "failure", summary: Events.summarize(reason), totalTokens: 0 }, true)
      )
      return Either.left(reason)
    }
    const answer = outcome.right
    yield* ctx.emit((m) =>
      new Events.ReplyReceived({
        ...m,
        step,
        from: to,
        rpc: "Ask",
        outcome: "success",
        summary: Events.summarize(answer.text),
        totalTokens: answer.usage.totalTokens
      }, true)
    )
    return Either.right(answer)
  })

const describe = (ctx: Ctx, step: string, ref: AgentRef) =>
  Effect.gen(function*() {
    const to = ref.toString()
    yield* ctx.emit((m) => new Events.MessageSent({ ...m, step, to, rpc: "Describe", summary: "describe yourself" }, true))
    const outcome = yield* ctx.step(
      step,
      Colony.send(ref.agent, ref.id, "Describe", undefined, { timeout: ctx.timeout }).pipe(
        Effect.map((reply) => reply as Agent.Description)
      )
    ).pipe(Effect.either)
    const ok = Either.isRight(outcome)
    yield* ctx.emit((m) =>
      new Events.ReplyReceived({
        ...m,
        step,
        from: to,
        rpc: "Describe",
        outcome: ok ? "success" : "failure",
        summary: ok ? `capabilities: ${outcome.right.capabilities.join(", ") || "none"}` : describeError(outcome.left),
        totalTokens: 0
      }, true)
    )
    return ok ? outcome.right.capabilities : []
  })

// --- master-slave ---

interface Indexed extends Decompose.Subtask {
  readonly index: number
}

const decompose = (ctx: Ctx, pattern: MasterSlave, task: string, records: Records) =>
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

const assign = (ctx: Ctx, pattern: MasterSlave, subtasks: ReadonlyArray<Indexed>, records: Records) =>
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

interface SubtaskOutcome {
  readonly subtask: Indexed
  readonly worker: AgentRef
  readonly answer: Agent.Answer | undefined
  readonly step: string
  readonly reason: string | undefined
}

const masterSlave = (ctx: Ctx, pattern: MasterSlave, task: string) =>
  Effect.gen(function*() {
    const records = emptyRecords()
    const from = pattern.coordinator.toString()
    const decomposed = yield* decompose(ctx, pattern, task, records)
    const subtasks: Array<Indexed> = decomposed.subtasks.map((s, index) => ({
      ...s,
      priority: pattern.priorities?.[index] ?? s.priority,
      index
    }))
    yield* ctx.emit((m) => new Events.TaskDecomposed({ ...m, strategy: decomposed.strategy, subtasks: subtasks.map((s) => s.task) }, true))

    const assignments = yield* assign(ctx, pattern, subtasks, records)
    const strategy = pattern.decompose === "replicate" ? "replicate" : pattern.assign
    for (const a of assignments) {
      yield* ctx.emit((m) =>
        new Events.SubtaskAssigned({
          ...m,
          step: `subtask-${a.subtask.index + 1}`,
          subtask: a.subtask.task,
          worker: a.worker.toString(),
          strategy
        }, true)
      )
    }

    // A worker that failed is failed for the whole run: it is not offered another subtask.
    // Replicas are never reassigned: a worker answering twice would vote twice.
    const failed = yield* Ref.make<ReadonlyArray<AgentRef>>([])
    const reassign = pattern.reassignOnFailure && pattern.decompose !== "replicate"
    const runSubtask = (subtask: Indexed, first: AgentRef) =>
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
              new Events.SubtaskReassigned({
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
    const outcomes: ReadonlyArray<SubtaskOutcome> = yield* Effect.forEach(
      assignments,
      (a) => runSubtask(a.subtask, a.worker),
      { concurrency: pattern.assign === "priority" && pattern.decompose !== "replicate" ? pattern.workers.length : "unbounded" }
    )
    const ordered = [...outcomes].sort((a, b) => a.subtask.index - b.subtask.index)
    for (const o of ordered) {
      if (o.answer !== undefined) records.contributions.push(answerOf("worker", o.worker, o.subtask.task, o.step, o.answer))
      else records.missing.push(new Missing({ task: o.subtask.task, step: o.step, by: o.worker, reason: o.reason ?? "no answer" }, true))
    }

    const answer = yield* aggregateMasterSlave(ctx, pattern, task, ordered, records)
    return { answer, records, rounds: 0 }
  })

const aggregateMasterSlave = (
  ctx: Ctx,
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

const decideByVotes = (ctx: Ctx, pattern: MasterSlave, outcomes: ReadonlyArray<SubtaskOutcome>, records: Records) =>
  Effect.gen(function*() {
    const groups = new Map<string, Array<SubtaskOutcome>>()
    for (const o of outcomes) groups.set(o.subtask.task, [...(groups.get(o.subtask.task) ?? []), o])
    const weightOf = (worker: AgentRef) => pattern.weights?.[pattern.workers.findIndex((w) => String(w) === String(worker))] ?? 1
    const decisions: Array<{ task: string; decision: string }> = []
    let g = 0
    for (const [subtask, group] of groups) {
      g++
      const step = `vote/${g}`
      const answered = group.filter((o) => o.answer !== undefined)
      const cast: Array<{ choice: string; weight: number; value?: number }> = []
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
          new Events.VoteCast({ ...m, step: o.step, voter: o.worker.toString(), choice: Events.summarize(vote.choice), weight, how: vote.how }, true)
        )
      }
      const decision = ((): string | undefined => {
        switch (pattern.aggregate) {
          case "weighted-average": {
            const avg = Aggregate.weightedAverage(cast.map((c) => ({ value: c.value!, weight: c.weight })))
            return avg === undefined ? undefined : String(avg)
          }
          case "weighted-vote":
            return Aggregate.weightedVote(cast).winner
          case "quorum": {
            const outcome = Aggregate.quorum(cast.map((c) => c.choice), { total: group.length, quorum: pattern.quorum })
            if (outcome._tag === "Reached") return outcome.choice
            const best = outcome.counts.reduce((max, c) => Math.max(max, c.weight), 0)
            records.missing.push(
              new Missing({
                task: subtask,
                step,
                reason: `no quorum: the leading choice has ${best} of the ${outcome.quorum} votes needed; ` +
                  `${outcome.missing} of ${group.length} answers are missing`
              }, true)
            )
            return undefined
          }
          default:
            return Aggregate.majorityVote(cast.map((c) => c.choice)).winner
        }
      })()
      if (decision === undefined && pattern.aggregate !== "quorum") {
        records.missing.push(new Missing({ task: subtask, step, reason: "no votes to decide on" }, true))
      }
      decisions.push({ task: subtask, decision: decision ?? "(no decision)" })
    }
    return decisions.length === 1
      ? decisions[0]!.decision
      : decisions.map((d, i) => `${i + 1}. ${d.task}\n   ${d.decision}`).join("\n")
  })

// --- peer ---

type Deliberation = Pick<Peer, "peers" | "rounds" | "stop" | "vote" | "options" | "quorum">

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
  readonly choice: string
  readonly how: string
  readonly step: string
}

const deliberate = (ctx: Ctx, cfg: Deliberation, task: string, prefix: string, team: string | undefined, from: string) =>
  Effect.gen(function*() {
    const records = emptyRecords()
    const label = team === undefined ? "" : `${team}: `
    const weightOf = (i: number) => typeof cfg.vote === "object" && cfg.vote._tag === "Weighted" ? cfg.vote.weights[i] ?? 1 : 1
    let active = cfg.peers.map((_, i) => i)
    let previous = new Map<number, Answered>()
    let last: ReadonlyArray<Answered> = []
    let rounds = 0
    for (let round = 1; round <= cfg.rounds && active.length > 0; round++) {
      rounds = round
      const replies = yield* Effect.forEach(active, (i) => {
        const peer = cfg.peers[i]!
        const step = `${prefix}round-${round}/${peer}`
        const others = [...previous.values()].filter((a) => a.i !== i).map((a) => ({ peer: String(cfg.peers[a.i]), text: a.text }))
        const prompt = peerPrompt(task, cfg.options, round, others, previous.get(i)?.text)
        return Effect.map(call(ctx, step, peer, prompt, from), (reply) => ({ i, step, reply }))
      }, { concurrency: "unbounded" })
      const answered: Array<Answered> = []
      for (const { i, reply, step } of replies) {
        const peer = cfg.peers[i]!
        if (Either.isLeft(reply)) {
          records.missing.push(new Missing({ task: `${label}round ${round}`, step, by: peer, reason: reply.left }, true))
          continue
        }
        records.contributions.push(answerOf("peer", peer, `${label}round ${round}`, step, reply.right))
        const read = cfg.options === undefined
          ? { choice: reply.right.text.trim(), how: "answer" }
          : Aggregate.readChoice(reply.right.text, cfg.options)
        answered.push({ i, text: reply.right.text, step, ...read })
      }
      for (const a of answered) {
        yield* ctx.emit((m) =>
          new Events.VoteCast({
            ...m,
            step: a.step,
            voter: String(cfg.peers[a.i]),
            choice: Events.summarize(a.choice),
            weight: weightOf(a.i),
            how: a.how
          }, true)
        )
      }
      const choices = answered.map((a) => a.choice)
      const agreement = Aggregate.agreement(choices)
      const unchanged = round > 1 && answered.every((a) => previous.get(a.i)?.choice === a.choice)
      const stop = round === cfg.rounds || answered.length === 0 ||
        (cfg.stop === "no-change" && unchanged) ||
        (typeof cfg.stop === "object" && agreement >= cfg.stop.threshold)
      const leading = Aggregate.majorityVote(choices).winner
      yield* ctx.emit((m) =>
        new Events.RoundCompleted({
          ...m,
          ...(team === undefined ? {} : { team }),
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

    for (const a of last) {
      records.votes.push(new CastVote({ voter: cfg.peers[a.i]!, choice: a.choice, weight: weightOf(a.i), how: a.how, step: a.step }, true))
    }
    const needed = cfg.quorum ?? Aggregate.majorityQuorum(cfg.peers.length)
    if (last.length < needed) {
      const reason = `only ${last.length} of ${cfg.peers.length} peers answered the last round; a decision needs ${needed}`
      records.missing.push(new Missing({ task: `${label}decision`, step: `${prefix}decision`, reason }, true))
      return { decision: undefined, answer: `(no decision: ${reason})`, records, rounds }
    }
    const majority = () =>
      typeof cfg.vote === "object" && cfg.vote._tag === "Weighted"
        ? Aggregate.weightedVote(last.map((a) => ({ choice: a.choice, weight: weightOf(a.i) }))).winner!
        : Aggregate.majorityVote(last.map((a) => a.choice)).winner!
    if (typeof cfg.vote !== "object" || cfg.vote._tag !== "Judge") {
      const decision = majority()
      return { decision, answer: decision, records, rounds }
    }
    const judge = cfg.vote.judge
    const candidates = cfg.options === undefined
      ? Aggregate.candidateLabels(last.length).map((label, k) => ({ label, text: last[k]!.text, choice: last[k]!.choice }))
      : cfg.options.map((option) => ({ label: option, text: option, choice: option }))
    const step = `${prefix}judge`
    const reply = yield* call(ctx, step, judge, Aggregate.judgePrompt(task, candidates), from)
    if (Either.isLeft(reply)) {
      records.missing.push(new Missing({ task: `${label}judgement`, step, by: judge, reason: `${reply.left}; the majority decided instead` }, true))
      const decision = majority()
      return { decision, answer: decision, records, rounds }
    }
    records.contributions.push(answerOf("judge", judge, `${label}judgement`, step, reply.right))
    const read = Aggregate.readChoice(reply.right.text, candidates.map((c) => c.label))
    const picked = candidates.find((c) => c.label === read.choice)!
    records.votes.push(new CastVote({ voter: judge, choice: picked.choice, weight: 1, how: read.how, step }, true))
    yield* ctx.emit((m) =>
      new Events.VoteCast({ ...m, step, voter: judge.toString(), choice: Events.summarize(picked.choice), weight: 1, how: `judge, ${read.how}` }, true)
    )
    return { decision: picked.choice, answer: picked.choice, records, rounds }
  })

const peer = (ctx: Ctx, pattern: Peer, task: string) =>
  Effect.map(deliberate(ctx, pattern, task, "", undefined, "caller"), (d) => ({ answer: d.answer, records: d.records, rounds: d.rounds }))

// --- hybrid ---

const hybrid = (ctx: Ctx, pattern: Hybrid, task: string) =>
  Effect.gen(function*() {
    const records = emptyRecords()
    const from = pattern.coordinator.toString()
    const parts: ReadonlyArray<{ readonly subtask: string; readonly worker: Team }> = pattern.decompose === "replicate"
      ? pattern.teams.map((team) => ({ subtask: task, worker: team }))
      : Assign.roundRobin(Decompose.byClauses(task), pattern.teams)
    yield* ctx.emit((m) => new Events.TaskDecomposed({ ...m, strategy: pattern.decompose, subtasks: parts.map((p) => p.subtask) }, true))
    for (const [i, p] of parts.entries()) {
      yield* ctx.emit((m) =>
        new Events.SubtaskAssigned({ ...m, step: `part-${i + 1}`, subtask: p.subtask, worker: `team ${p.worker.name}`, strategy: "round-robin" }, true)
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
            new Events.VoteCast({ ...m, step: "teams", voter: `team ${d.team}`, choice: Events.summarize(d.choice), weight: 1, how: "team decision" }, true)
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

// --- entry point ---

const validate = (collaboration: Collaboration) =>
  Effect.gen(function*() {
    const registered = yield* Colony.agents
    for (const ref of participants(collaboration)) {
      if (!registered.includes(ref.agent)) {
        return yield* new AgentError.UnknownAgent({ agent: ref.agent, registered })
      }
    }
  })

/** Run a collaboration; see `Collaboration.run`. */
export const execute = (collaboration: Collaboration, task: string, options: ExecuteOptions) =>
  Effect.gen(function*() {
    yield* validate(collaboration)
    // unique across processes: two runners' runs never share a session's events or agents
    const session = options.session ?? `direct-${randomUUID()}`
    const clock = yield* Ref.make(LogicalClock.make(session))
    const lock = yield* Effect.makeSemaphore(1)
    const onEvent = options.onEvent ?? (() => Effect.void)
    const bus = yield* Effect.serviceOption(Events.Events)
    const who = new Set(participants(collaboration).map(String))
    const inbox = Option.isSome(bus) ? Option.some(yield* follow(bus.value, who)) : Option.none()
    const tracker = Option.getOrElse(yield* Effect.serviceOption(LoadTracker), makeLoadTracker)

    // The clock is ticked and the event handed on under one lock, so `onEvent` sees events in
    // logical-time order even when calls run concurrently.
    const stampAnd = (publish: boolean) => (event: (meta: SessionMeta) => Events.Event) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const now = yield* Ref.updateAndGet(clock, LogicalClock.tick)
        const at = yield* Clock.currentTimeMillis
        const e = event({ agent: SESSION_TYPE, id: session, at, clock: now.time })
        if (publish && Option.isSome(bus)) yield* bus.value.publish(e)
        yield* onEvent(new Stamped({ stamp: LogicalClock.stamp(now), event: e }, true))
      }))
    const emit = stampAnd(true)
    const forward = (event: Events.Event) => stampAnd(false)(() => event)
    // Agents publish their model calls and restarts on this process's bus before they reply, so
    // draining after each reply hands on the ones caused by that call (and any other participant
    // activity since). Agents hosted on other runners publish on their own bus and are not seen.
    const drain = Option.match(inbox, {
      onNone: () => Effect.void,
      onSome: (take) =>
        Effect.flatMap(take, (events) =>
          events.length === 0 ? Effect.void : Effect.forEach(events, forward, { discard: true }))
    })
    const timeout = Duration.millis(
      ("stepTimeoutMs" in collaboration ? collaboration.stepTimeoutMs : undefined) ?? 5 * 60 * 1000
    )
    const ctx: Ctx = {
      session,
      emit,
      drain,
      step: options.step ?? ((_key, effect) => effect),
      stableMessageIds: options.stableMessageIds ?? false,
      load: tracker,
      timeout
    }

    yield* emit((m) => new Events.SessionStarted({ ...m, pattern: collaboration._tag, task }, true))
    const outcome = yield* Effect.suspend(() => {
      switch (collaboration._tag) {
        case "MasterSlave":
          return masterSlave(ctx, collaboration, task)
        case "Peer":
          return peer(ctx, collaboration, task)
        case "Hybrid":
          return hybrid(ctx, collaboration, task)
      }
    }).pipe(
      Effect.onExit((exit) =>
        exit._tag === "Success"
          ? Effect.void
          : emit((m) =>
            new Events.SessionFailed({
              ...m,
              reason: Cause.isInterruptedOnly(exit.cause) ? "cancelled" : `the session died: ${Cause.pretty(exit.cause).split("\n")[0]}`
            }, true)
          )
      )
    )
    const { contributions, votes, missing } = outcome.records
    const totalTokens = contributions.reduce((sum, c) => sum + c.totalTokens, 0)
    const result = new Result({
      pattern: collaboration._tag,
      answer: outcome.answer,
      simulated: contributions.some((c) => c.simulated),
      contributions,
      totalTokens,
      totalCost: contributions.reduce((sum, c) => sum + c.cost, 0),
      missing,
      complete: missing.length === 0,
      votes,
      rounds: outcome.rounds,
      session
    }, true)
    yield* emit((m) =>
      new Events.SessionCompleted({ ...m, missing: missing.length, totalTokens, summary: Events.summarize(result.answer) }, true)
    )
    return result
  }).pipe(Effect.scoped)
