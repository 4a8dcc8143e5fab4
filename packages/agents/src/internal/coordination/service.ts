/**
 * What the coordination storage holds and the operations on it, the same whichever way it keeps
 * its state.
 */
import { Context, type Effect, type Option, Schema } from "effect"
import type * as LeaseRules from "../lease.js"

/**
 * The coordination storage could not be read or written.
 *
 * @since 0.1.0
 * @category errors
 */
export class StorageError extends Schema.TaggedError<StorageError>()("CoordinationStorageError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `coordination storage failed to ${this.operation}: ${this.reason}. Check the colony's database, then retry.`
  }
}

/**
 * A lease as stored.
 *
 * @since 0.1.0
 * @category models
 */
export type LeaseRow = LeaseRules.LeaseFields

/**
 * A topic subscription as stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface SubscriberRow {
  readonly agent: string
  readonly id: string
  readonly via: "TopicMessage" | "Ask"
}

/**
 * What a two-phase-commit participant recorded for one transaction.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParticipantRecord {
  readonly phase: "prepared" | "committed" | "aborted"
  readonly vote: "commit" | "abort"
  readonly reason?: string | undefined
}

/**
 * A coordinator's decision on a transaction, with the votes it rested on.
 *
 * @since 0.1.0
 * @category models
 */
export class DecisionRecord extends Schema.Class<DecisionRecord>("@colony/agents/DecisionRecord")({
  decision: Schema.Literal("committed", "aborted"),
  votes: Schema.Array(Schema.Struct({
    participant: Schema.String,
    vote: Schema.Literal("commit", "abort"),
    reason: Schema.optional(Schema.String)
  }))
}) {}

/**
 * The operations. Each one is atomic; the ones that decide (acquire, renew, release, record a
 * vote, settle, decide) return what was decided, so a caller never reads and writes separately.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** grant the lease unless another owner holds a valid one (then `heldBy`) */
  readonly acquire: (
    name: string,
    owner: string,
    ttlMs: number
  ) => Effect.Effect<{ readonly granted: LeaseRow } | { readonly heldBy: LeaseRow }, StorageError>
  /** extend a lease still in force; `undefined` when it is not */
  readonly renew: (name: string, owner: string, token: number, ttlMs: number) => Effect.Effect<LeaseRow | undefined, StorageError>
  /** end a lease still in force; `false` when it was not */
  readonly release: (name: string, owner: string, token: number) => Effect.Effect<boolean, StorageError>
  readonly holder: (name: string) => Effect.Effect<LeaseRow | undefined, StorageError>
  /** add a subscriber (once); gives the number of subscribers */
  readonly subscribe: (topic: string, subscriber: SubscriberRow) => Effect.Effect<number, StorageError>
  readonly unsubscribe: (topic: string, agent: string, id: string) => Effect.Effect<boolean, StorageError>
  /** in the order they subscribed */
  readonly subscribers: (topic: string) => Effect.Effect<ReadonlyArray<SubscriberRow>, StorageError>
  /** move a Lamport clock past `remote`, then on by `steps`; gives its new time */
  readonly advanceClock: (node: string, remote: number, steps: number) => Effect.Effect<number, StorageError>
  readonly participant: (participant: string, transaction: string) => Effect.Effect<Option.Option<ParticipantRecord>, StorageError>
  /** record a vote unless one is recorded already; gives the recorded one */
  readonly recordVote: (
    participant: string,
    transaction: string,
    record: ParticipantRecord
  ) => Effect.Effect<ParticipantRecord, StorageError>
  /**
   * `committed`: a prepared transaction becomes committed (`undefined` when it was not prepared).
   * `aborted`: anything not committed becomes aborted. Gives the phase the transaction ends in.
   */
  readonly settle: (
    participant: string,
    transaction: string,
    phase: "committed" | "aborted"
  ) => Effect.Effect<"committed" | "aborted" | undefined, StorageError>
  /** record a decision unless one is recorded already; gives the recorded one */
  readonly decide: (transaction: string, record: DecisionRecord) => Effect.Effect<DecisionRecord, StorageError>
  readonly decision: (transaction: string) => Effect.Effect<Option.Option<DecisionRecord>, StorageError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class CoordinationStorage extends Context.Tag("@colony/agents/CoordinationStorage")<CoordinationStorage, Service>() {}
