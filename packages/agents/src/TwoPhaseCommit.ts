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
 * What each side knows lives in `CoordinationStorage` (the colony's database on runners), not in
 * an agent instance's memory, because an instance is rebuilt empty on whichever runner takes its
 * shard over — after a crash or a graceful rebalance. A participant records its vote and then its
 * end state, so a `Commit` reaching the participant on its new runner finds it prepared. The
 * coordinator records its decision before telling anyone (the commit point): running the same
 * transaction again — after the coordinator died between the phases, or to tell participants that
 * did not acknowledge — sends the recorded decision instead of voting again, and `decision` lets a
 * prepared participant look it up. The participants' Lamport clocks are stored too, so a moved
 * participant does not answer with a time earlier than one it already gave.
 *
 * @since 0.1.0
 */
import { Agent, AgentError, Colony } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { Duration, Effect, Either, Layer, Option, Ref, Schedule, Schema } from "effect"
import * as CoordinationStorage from "./CoordinationStorage.js"
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
  error: Schema.Union(NotPrepared, CoordinationStorage.StorageError)
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Abort = Rpc.make("Abort", {
  payload: { transaction: Schema.String, clock: Schema.Number },
  success: Ack,
  error: CoordinationStorage.StorageError
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
 * `abort` undoes what `prepare` did. Repeated messages get the recorded answer. `commit` and
 * `abort` run before their outcome is recorded, so a participant that dies between the two runs
 * them again when the decision is sent again: make them idempotent.
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

/**
 * Handlers for `Prepare`, `Commit` and `Abort` from a `Participant`, for an agent whose protocol
 * includes `protocol`. Votes, end states and Lamport clocks are kept per agent instance in
 * `CoordinationStorage`: host the agent with `Layer.provide(CoordinationStorage.layer)`
 * (`participant` does).
 *
 * @since 0.1.0
 */
export const handlers = <R>(participant: Participant<R>) => {
  const nameOf = (agent: Agent.AgentContext) => `${agent.agent}/${agent.id}`
  const receive = (agent: Agent.AgentContext, remote: number) =>
    Effect.flatMap(CoordinationStorage.CoordinationStorage, (storage) => storage.advanceClock(nameOf(agent), remote, 1))
  const abortVote = (reason: string, clock: number) => new Vote({ vote: "abort", reason, clock })
  return {
    // A vote that cannot be read or recorded is an abort: the coordinator must not count on a
    // prepare that a moved participant would not find.
    Prepare: ({ action, clock, transaction }: { transaction: string; action: string; clock: number }, agent: Agent.AgentContext) =>
      Effect.gen(function*() {
        const storage = yield* CoordinationStorage.CoordinationStorage
        const now = yield* receive(agent, clock)
        const known = yield* storage.participant(nameOf(agent), transaction)
        if (Option.isSome(known)) return new Vote({ vote: known.value.vote, reason: known.value.reason, clock: now })
        const decision = yield* participant.prepare(action, transaction, agent)
        const recorded = yield* storage.recordVote(nameOf(agent), transaction, {
          phase: decision.commit ? "prepared" : "aborted",
          vote: decision.commit ? "commit" : "abort",
          reason: decision.reason
        }).pipe(Effect.tapError(() => decision.commit ? participant.abort(transaction, agent) : Effect.void))
        return new Vote({ vote: recorded.vote, reason: recorded.reason, clock: now })
      }).pipe(Effect.catchTag("CoordinationStorageError", (error) => Effect.succeed(abortVote(error.message, clock + 1)))),
    Commit: ({ clock, transaction }: { transaction: string; clock: number }, agent: Agent.AgentContext) =>
      Effect.gen(function*() {
        const storage = yield* CoordinationStorage.CoordinationStorage
        const now = yield* receive(agent, clock)
        const known = yield* storage.participant(nameOf(agent), transaction)
        const phase = Option.getOrUndefined(known)?.phase
        if (phase === "committed") return new Ack({ state: "committed", clock: now })
        if (phase !== "prepared") return yield* new NotPrepared({ transaction, participant: nameOf(agent) })
        yield* participant.commit(transaction, agent)
        const settled = yield* storage.settle(nameOf(agent), transaction, "committed")
        if (settled === undefined) return yield* new NotPrepared({ transaction, participant: nameOf(agent) })
        return new Ack({ state: "committed", clock: now })
      }),
    Abort: ({ clock, transaction }: { transaction: string; clock: number }, agent: Agent.AgentContext) =>
      Effect.gen(function*() {
        const storage = yield* CoordinationStorage.CoordinationStorage
        const now = yield* receive(agent, clock)
        const known = yield* storage.participant(nameOf(agent), transaction)
        const phase = Option.getOrUndefined(known)?.phase
        if (phase === "committed") return new Ack({ state: "committed", clock: now })
        if (phase === "prepared") yield* participant.abort(transaction, agent)
        const settled = yield* storage.settle(nameOf(agent), transaction, "aborted")
        return new Ack({ state: settled ?? "aborted", clock: now })
      })
  }
}

/**
 * Define a participant agent type and the layer hosting it (with `CoordinationStorage.layer`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const participant = <const Name extends string, R>(
  options: Omit<Agent.Options<Name, typeof protocol>, "protocol"> & Participant<R>
) => {
  const { abort, commit, prepare, ...definition } = options
  const agent = Agent.make({ ...definition, protocol })
  const layer = Agent.toLayer(agent, handlers<R>({ abort, commit, prepare })).pipe(
    Layer.provide(CoordinationStorage.layer)
  )
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

type Votes = ReadonlyArray<{ readonly vote: "commit" | "abort"; readonly reason?: string | undefined }>

interface Coordinator {
  readonly transaction: string
  readonly actions: ReadonlyArray<Action>
  readonly timeout: Duration.Duration
  readonly clock: Ref.Ref<LogicalClock.LogicalClock>
}

const sendAt = (c: Coordinator) => Effect.map(Ref.updateAndGet(c.clock, LogicalClock.tick), (clock) => clock.time)
const receivedAt = (c: Coordinator, remote: number) => Ref.update(c.clock, (clock) => LogicalClock.receive(clock, remote))

/** Phase 1: ask every participant to prepare; a failure or silence counts as an abort vote. */
const collectVotes = (c: Coordinator): Effect.Effect<Votes, never, Colony.Services | Sharding> =>
  Effect.forEach(c.actions, (a) =>
    Effect.gen(function*() {
      const at = yield* sendAt(c)
      const reply = yield* Colony.send(a.agent, a.id, "Prepare", { transaction: c.transaction, action: a.action, clock: at }).pipe(
        Effect.flatMap(Schema.decodeUnknown(Vote)),
        Effect.timeoutFail({ duration: c.timeout, onTimeout: () => ({ _tag: "Timeout", message: `no vote within ${Duration.format(c.timeout)}` }) }),
        Effect.either
      )
      if (Either.isLeft(reply)) return { vote: "abort" as const, reason: describeError(reply.left as { _tag?: string; message?: string }) }
      yield* receivedAt(c, reply.right.clock)
      return { vote: reply.right.vote, reason: reply.right.reason }
    }), { concurrency: "unbounded" })

/** Phase 2: tell every participant the decision; gives who acknowledged it. */
const tell = (c: Coordinator, decision: "committed" | "aborted"): Effect.Effect<ReadonlyArray<boolean>, never, Colony.Services | Sharding> =>
  Effect.forEach(c.actions, (a) =>
    Effect.gen(function*() {
      const at = yield* sendAt(c)
      const reply = yield* Colony.send(a.agent, a.id, decision === "committed" ? "Commit" : "Abort", { transaction: c.transaction, clock: at }).pipe(
        Effect.flatMap(Schema.decodeUnknown(Ack)),
        Effect.timeout(c.timeout),
        Effect.retry(decisionRetry),
        Effect.either
      )
      if (Either.isLeft(reply)) return false
      yield* receivedAt(c, reply.right.clock)
      return reply.right.state === decision
    }), { concurrency: "unbounded" })

/**
 * Run a transaction over `actions` as its coordinator: prepare everywhere, record the decision,
 * then commit everywhere or abort everywhere. A participant that votes abort, fails (after
 * supervision) or does not answer within `timeout` makes the decision abort.
 *
 * The decision is recorded in `CoordinationStorage` before any participant hears it. Running a
 * transaction whose decision is recorded — because its coordinator died between the phases, or
 * some participants did not acknowledge — does not ask for votes again: it sends the recorded
 * decision. Fails if an agent type is unknown, or if the decision cannot be recorded (then no
 * participant was told anything after preparing; run it again).
 *
 * @since 0.1.0
 */
export const run = (
  transaction: string,
  actions: ReadonlyArray<Action>,
  options: { readonly timeout?: Duration.DurationInput | undefined } = {}
): Effect.Effect<
  Outcome,
  AgentError.UnknownAgent | CoordinationStorage.StorageError,
  Colony.Services | Sharding | CoordinationStorage.CoordinationStorage
> =>
  Effect.gen(function*() {
    const registered = yield* Colony.agents
    for (const a of actions) {
      if (!registered.includes(a.agent)) {
        return yield* new AgentError.UnknownAgent({ agent: a.agent, registered })
      }
    }
    const storage = yield* CoordinationStorage.CoordinationStorage
    const coordinator: Coordinator = {
      transaction,
      actions,
      timeout: Duration.decode(options.timeout ?? "30 seconds"),
      clock: yield* Ref.make(LogicalClock.make(`2pc/${transaction}`))
    }
    const nameOf = (a: Action) => `${a.agent}/${a.id}`
    const recorded = yield* storage.decision(transaction).pipe(
      Effect.flatMap(Option.match({
        onSome: Effect.succeed,
        onNone: () =>
          Effect.flatMap(collectVotes(coordinator), (votes) =>
            storage.decide(
              transaction,
              new CoordinationStorage.DecisionRecord({
                decision: votes.every((v) => v.vote === "commit") ? "committed" : "aborted",
                votes: actions.map((a, i) => ({
                  participant: nameOf(a),
                  vote: votes[i]!.vote,
                  ...(votes[i]!.reason === undefined ? {} : { reason: votes[i]!.reason })
                }))
              })
            ))
      }))
    )
    const acks = yield* tell(coordinator, recorded.decision)
    return new Outcome({
      transaction,
      decision: recorded.decision,
      participants: actions.map((a, i) => {
        const vote = recorded.votes.find((v) => v.participant === nameOf(a)) ??
          { vote: "abort" as const, reason: "not a participant when the decision was recorded" }
        return new ParticipantOutcome({
          participant: nameOf(a),
          vote: vote.vote,
          ...(vote.reason === undefined ? {} : { reason: vote.reason }),
          acknowledged: acks[i]!
        })
      }),
      clock: (yield* Ref.get(coordinator.clock)).time
    })
  })

/**
 * The recorded decision on a transaction, if its coordinator got that far: what a participant left
 * prepared can look up.
 *
 * @since 0.1.0
 */
export const decision = (
  transaction: string
): Effect.Effect<Option.Option<CoordinationStorage.DecisionRecord>, CoordinationStorage.StorageError, CoordinationStorage.CoordinationStorage> =>
  Effect.flatMap(CoordinationStorage.CoordinationStorage, (storage) => storage.decision(transaction))
