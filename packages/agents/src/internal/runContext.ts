/**
 * What one run of a collaboration has at hand while it runs: the caller's options, how it
 * records events and agent calls, and the records its patterns fill in.
 */
import type { Colony } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import type { Duration, Effect } from "effect"
import type { LoadTracker } from "../LoadTracker.js"
import type * as SessionEvents from "../SessionEvents.js"
import type { Abstention, CastVote, Contribution, Missing, Stamped } from "./result.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** the id the events carry; by default a fresh `direct-<uuid>` */
  readonly session?: string | undefined
  /** called with every event as it is recorded, in logical-time order */
  readonly onEvent?: ((event: Stamped) => Effect.Effect<void>) | undefined
  /**
   * Wraps every agent call, given its step key (`plan`, `subtask-2/attempt-1`,
   * `team-a/round-2/red/p1`, `synthesis`; unique within a run). The default runs the call; a
   * durable runner can make each step a workflow activity so a resumed run does not call again.
   */
  readonly step?: (<A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) | undefined
  /**
   * Give every `Ask` of the run a message id derived from the session and the step key, so a
   * step asked again (a run resumed after a crash) reaches a durable agent as the same message
   * and is answered from its stored reply instead of calling the model again. Only for runs whose
   * session id is used once (a durable session); default false.
   */
  readonly stableMessageIds?: boolean | undefined
}

/**
 * Run a collaboration on a task in the current colony, in the caller's fiber. Agent failures do

/**
 * Wraps one agent call. The default runs it; a durable engine can make each step an activity
 * keyed by `key`, so a replay after a crash does not call the agent again.
 */
export type StepRunner = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** What every session event carries: the session as its source, and when it happened. */
export interface SessionMeta {
  readonly agent: string
  readonly id: string
  readonly at: number
  readonly clock: number
}

/** The services a run calls agents through. */
export type RunServices = Colony.Services | Sharding

/** A run in progress, as its patterns see it. */
export interface RunContext {
  readonly session: string
  /** record a session event, stamped with the session's clock */
  readonly emit: (make: (meta: SessionMeta) => SessionEvents.SessionEvent) => Effect.Effect<void>
  /** hand on the participants' events caused by the calls so far */
  readonly drain: Effect.Effect<void>
  readonly step: StepRunner
  readonly stableMessageIds: boolean
  readonly load: LoadTracker["Type"]
  readonly timeout: Duration.Duration
}

/** What a run's patterns collect for its `Result`, appended to as the run goes. */
export interface Records {
  readonly contributions: Array<Contribution>
  readonly votes: Array<CastVote>
  readonly abstentions: Array<Abstention>
  readonly missing: Array<Missing>
}

export const emptyRecords = (): Records => ({ contributions: [], votes: [], abstentions: [], missing: [] })

export const append = (into: Records, from: Records) => {
  into.contributions.push(...from.contributions)
  into.votes.push(...from.votes)
  into.abstentions.push(...from.abstentions)
  into.missing.push(...from.missing)
}

/** What a pattern ends with: its answer, its records and the rounds of debate it took. */
export interface PatternOutcome {
  readonly answer: string
  readonly records: Records
  readonly rounds: number
}
