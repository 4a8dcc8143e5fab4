/**
 * Two-phase commit of an action that spans several agents: every participant is asked to
 * `Prepare` its part and votes; only if all vote commit does everyone get `Commit`, otherwise
 * everyone gets `Abort` and rolls back what it prepared. One participant's abort — a refusal, a
 * failure after supervision, or no answer in time — aborts all of them (Gray, "Notes on Data Base
 * Operating Systems", 1978).
 *
 * Participants are ordinary agents whose protocol includes `protocol` (`Prepare`, `Commit`,
 * `Abort`); `participant` defines one from three functions, and `handlers` gives those RPCs to an
 * agent with a protocol of its own. Every message carries the sender's Lamport time and every
 * reply the receiver's.
 *
 * The coordinator keeps its decision in memory only: a coordinator that dies between the phases
 * leaves prepared participants waiting (the classic blocking case of 2PC). Making the decision a
 * durable workflow step is the runners issue's work.
 *
 * @since 0.1.0
 */
import { Agent, AgentError, Colony } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { Duration, Effect, Either, Ref, Schedule, Schema } from "effect"
import * as LogicalClock from "./LogicalClock.js"

/**
 * A participant's vote on a prepared action.
 *
 * @since 0.1.0
 * @category models
 */
export class Vote extends Schema.Class<Vote>("@colony/agents/PrepareVote")({
  vote: Schema.Literal("commit", "abort"),
  reason: Schema.optional(Schema.String),
  /** the participant's Lamport time when it replied */
  clock: Schema.Number
}) {}

/**
 * A participant's acknowledgement of the decision, with the state it ended in.
 *
 * @since 0.1.0
 * @category models
 */
export class Ack extends Schema.Class<Ack>("@colony/agents/TransactionAck")({
  state: Schema.Literal("committed", "aborted"),
  clock: Schema.Number
}) {}

/**
 * `Commit` for a transaction the participant did not prepare (or voted to abort).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotPrepared extends Schema.TaggedError<NotPrepared>()("NotPrepared", {
  transaction: Schema.String,
  participant: Schema.String
}) {
  override get message() {
    return `${this.participant} cannot commit transaction "${this.transaction}": it did not prepare it or voted ` +
      `to abort. Only commit after every participant voted commit; abort it instead.`
  }
}

/**
 * @since 0.1.0
 * @category protocol
 */
export const Prepare = Rpc.make("Prepare", {
  payload: { transaction: Schema.String, action: Schema.String, clock: Schema.Number },
  success: Vote
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Commit = Rpc.make("Commit", {
  payload: { transaction: Schema.String, clock: Schema.Number },
  success: Ack,
  error: NotPrepared
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Abort = Rpc.make("Abort", {
  payload: { transaction: Schema.String, clock: Schema.Number },
  success: Ack
})

/**
 * The RPCs a participant answers; put them in the agent's `protocol`.
 *
 * @since 0.1.0
 * @category protocol
 */
export const protocol = [Prepare, Commit, Abort] as const

/**
 * What a participant does in each phase. `prepare` makes the action ready without making it
 * visible (reserve, lock, stage) and says whether it can commit; `commit` makes it permanent;
 * `abort` undoes what `prepare` did. Each is called at most once per transaction and agent
 * instance: repeated messages get the recorded answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Participant<R> {
  readonly prepare: (
    action: string,
    transaction: string,
    agent: Agent.AgentContext
  ) => Effect.Effect<{ readonly commit: boolean; readonly reason?: string | undefined }, never, R>
  readonly commit: (transaction: string, agent: Agent.AgentContext) => Effect.Effect<void, never, R>
  readonly abort: (transaction: string, agent: Agent.AgentContext) => Effect.Effect<void, never, R>
}

type TxState = { readonly phase: "prepared" | "committed" | "aborted"; readonly vote: Vote }

/**
 * Handlers for `Prepare`, `Commit` and `Abort` from a `Participant`, for an agent whose protocol
 * includes `protocol`. Transaction states and Lamport clocks are kept per agent instance in this
 * process.
 *
 * @since 0.1.0
 */
export const handlers = <R>(participant: Participant<R>) => {
  const transactions = new Map<string, TxState>()
  const clocks = new Map<string, LogicalClock.LogicalClock>()
  const receive = (agent: Agent.AgentContext, remote: number) => {
    const key = `${agent.agent}/${agent.id}`
    const next = LogicalClock.receive(clocks.get(key) ?? LogicalClock.make(key), remote)
    clocks.set(key, next)
    return next.time
  }
  const keyOf = (agent: Agent.AgentContext, transaction: string) => `${agent.agent}/${agent.id}#${transaction}`
  return {
    Prepare: ({ action, clock, transaction }: { transaction: string; action: string; clock: number }, agent: Agent.AgentContext) =>
      Effect.gen(function*() {
        const now = receive(agent, clock)
        const known = transactions.get(keyOf(agent, transaction))
        if (known !== undefined) return new Vote({ ...known.vote, clock: now })
        const decision = yield* participant.prepare(action, transaction, agent)
        const vote = new Vote({
          vote: decision.commit ? "commit" : "abort",
          ...(decision.reason === undefined ? {} : { reason: decision.reason }),
          clock: now
        })
        transactions.set(keyOf(agent, transaction), { phase: decision.commit ? "prepared" : "aborted", vote })
        return vote
      }),
    Commit: ({ clock, transaction }: { transaction: string; clock: number }, agent: Agent.AgentContext) =>
      Effect.gen(function*() {
        const now = receive(agent, clock)
        const key = keyOf(agent, transaction)
        const known = transactions.get(key)
        if (known?.phase === "committed") return new Ack({ state: "committed", clock: now })
        if (known?.phase !== "prepared") {
          return yield* new NotPrepared({ transaction, participant: `${agent.agent}/${agent.id}` })
        }
        yield* participant.commit(transaction, agent)
        transactions.set(key, { ...known, phase: "committed" })
        return new Ack({ state: "committed", clock: now })
      }),
    Abort: ({ clock, transaction }: { transaction: string; clock: number }, agent: Agent.AgentContext) =>
      Effect.gen(function*() {
        const now = receive(agent, clock)
        const key = keyOf(agent, transaction)
        const known = transactions.get(key)
        if (known?.phase === "committed") return new Ack({ state: "committed", clock: now })
        if (known?.phase === "prepared") yield* participant.abort(transaction, agent)
        transactions.set(key, { phase: "aborted", vote: known?.vote ?? new Vote({ vote: "abort", reason: "aborted before prepare", clock: now }) })
        return new Ack({ state: "aborted", clock: now })
      })
  }
}

/**
 * Define a participant agent type and the layer hosting it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const participant = <const Name extends string, R>(
  options: Omit<Agent.Options<Name, typeof protocol>, "protocol"> & Participant<R>
) => {
  const { abort, commit, prepare, ...definition } = options
  const agent = Agent.make({ ...definition, protocol })
  const layer = Agent.toLayer(agent, handlers<R>({ abort, commit, prepare }))
  return { agent, layer }
}

// --- coordinator ---

/**
 * What one participant said and whether it acknowledged the decision.
 *
 * @since 0.1.0
 * @category models
 */
export class ParticipantOutcome extends Schema.Class<ParticipantOutcome>("@colony/agents/ParticipantOutcome")({
  participant: Schema.String,
  vote: Schema.Literal("commit", "abort"),
  reason: Schema.optional(Schema.String),
  acknowledged: Schema.Boolean
}) {}

/**
 * The outcome of a transaction. `unacknowledged` participants did not confirm the decision even
 * after retries: they must be told again before the transaction is finished for them.
 *
 * @since 0.1.0
 * @category models
 */
export class Outcome extends Schema.Class<Outcome>("@colony/agents/TransactionOutcome")({
  transaction: Schema.String,
  decision: Schema.Literal("committed", "aborted"),
  participants: Schema.Array(ParticipantOutcome),
  /** the coordinator's Lamport time at the end */
  clock: Schema.Number
}) {}

/**
 * A participant in one transaction: an agent instance and the action it is asked to prepare.
 *
 * @since 0.1.0
 * @category models
 */
export interface Action {
  readonly agent: string
  readonly id: string
  readonly action: string
}

const decisionRetry = Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(4)))

const describeError = (error: { readonly _tag?: string; readonly message?: string }) =>
  `${error._tag ?? "Error"}: ${error.message ?? String(error)}`

/**
 * Run a transaction over `actions` as its coordinator: prepare everywhere, then commit everywhere
 * or abort everywhere. A participant that votes abort, fails (after supervision) or does not
 * answer within `timeout` makes the decision abort. Only fails if an agent type is unknown.
 *
 * @since 0.1.0
 */
export const run = (
  transaction: string,
  actions: ReadonlyArray<Action>,
  options: { readonly timeout?: Duration.DurationInput | undefined } = {}
): Effect.Effect<Outcome, AgentError.UnknownAgent, Colony.Services | Sharding> =>
  Effect.gen(function*() {
    const registered = yield* Colony.agents
    for (const a of actions) {
      if (!registered.includes(a.agent)) {
        return yield* new AgentError.UnknownAgent({ agent: a.agent, registered })
      }
    }
    const timeout = Duration.decode(options.timeout ?? "30 seconds")
    const clock = yield* Ref.make(LogicalClock.make(`2pc/${transaction}`))
    const send = Ref.updateAndGet(clock, LogicalClock.tick)
    const received = (remote: number) => Ref.update(clock, (c) => LogicalClock.receive(c, remote))

    const votes = yield* Effect.forEach(actions, (a) =>
      Effect.gen(function*() {
        const at = (yield* send).time
        const reply = yield* Colony.send(a.agent, a.id, "Prepare", { transaction, action: a.action, clock: at }).pipe(
          Effect.flatMap(Schema.decodeUnknown(Vote)),
          Effect.timeoutFail({ duration: timeout, onTimeout: () => ({ _tag: "Timeout", message: `no vote within ${Duration.format(timeout)}` }) }),
          Effect.either
        )
        if (Either.isLeft(reply)) return { vote: "abort" as const, reason: describeError(reply.left as { _tag?: string; message?: string }) }
        yield* received(reply.right.clock)
        return { vote: reply.right.vote, reason: reply.right.reason }
      }), { concurrency: "unbounded" })

    const decision = votes.every((v) => v.vote === "commit") ? "committed" as const : "aborted" as const
    const rpc = decision === "committed" ? "Commit" : "Abort"
    const acks = yield* Effect.forEach(actions, (a) =>
      Effect.gen(function*() {
        const at = (yield* send).time
        const reply = yield* Colony.send(a.agent, a.id, rpc, { transaction, clock: at }).pipe(
          Effect.flatMap(Schema.decodeUnknown(Ack)),
          Effect.timeout(timeout),
          Effect.retry(decisionRetry),
          Effect.either
        )
        if (Either.isLeft(reply)) return false
        yield* received(reply.right.clock)
        return reply.right.state === decision
      }), { concurrency: "unbounded" })

    return new Outcome({
      transaction,
      decision,
      participants: actions.map((a, i) =>
        new ParticipantOutcome({
          participant: `${a.agent}/${a.id}`,
          vote: votes[i]!.vote,
          ...(votes[i]!.reason === undefined ? {} : { reason: votes[i]!.reason }),
          acknowledged: acks[i]!
        })
      ),
      clock: (yield* Ref.get(clock)).time
    })
  })
