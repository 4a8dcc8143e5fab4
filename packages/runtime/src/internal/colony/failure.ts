/**
 * How one attempt at an agent call failed, as the caller's typed error, and whether it is repeated.
 */
import * as ClusterError from "@effect/cluster/ClusterError"
import { Cause, Effect, Option, PrimaryKey, Schedule } from "effect"
import type * as Agent from "../../Agent.js"
import { AgentInterrupted, AgentUnavailable, MailboxFull } from "../../AgentError.js"

// --- failures of a call, and which are repeated ---
//
// A call is repeated within its deadline when repeating it cannot do anything twice:
// - whatever the RPC, when the message provably reached no handler: the connection to the runner
//   could not be opened or the message could not be written to it (a frame is read whole or not
//   at all), or the runner was unreachable;
// - when the message may have been handled (the reply was lost, storage failed), only if handling
//   it twice is harmless: `Describe` and `Forget`, and a durable agent's message with a primary
//   key, which the cluster delivers once per key and answers again from its stored reply;
// - when the handler was cut off, only `Describe` and `Forget`: a durable message cut off by a
//   shard move is replayed by the cluster itself, and one whose handler was interrupted has that
//   interruption stored as its reply, which sending it again would only fetch again.
// A volatile `Ask` (or user RPC) that may have run is not repeated: it could have called a model
// or a tool and recorded a turn. Its caller gets `AgentInterrupted` or `AgentUnavailable` and
// decides. `MailboxFull` is back-pressure for the caller to act on, and the RPC's own errors are
// answers: neither is repeated.

/** How one attempt at a call failed: the caller's error, and when repeating the call is allowed. */
export class Failed {
  constructor(readonly error: unknown, readonly retry: "always" | "if-safe" | "if-idempotent" | "never") {}
}

export const backoff = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.jittered
)

export const idempotentTags = new Set(["Describe", "Forget"])

export const hasPrimaryKey = (payload: unknown): boolean =>
  typeof payload === "object" && payload !== null && PrimaryKey.symbol in payload

export const classify = (def: Agent.Definition, id: string, tag: string) =>
(cause: Cause.Cause<unknown>): Effect.Effect<never, Failed> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof ClusterError.MailboxFull) {
      return Effect.fail(new Failed(new MailboxFull({ agent: def.name, id, capacity: def.mailboxCapacity }), "never"))
    }
    if (error instanceof ClusterError.AlreadyProcessingMessage || error instanceof ClusterError.PersistenceError) {
      return Effect.fail(new Failed(new AgentUnavailable({ agent: def.name, id, reason: error._tag }), "if-safe"))
    }
    return Effect.fail(new Failed(error, "never"))
  }
  const transport = Cause.defects(cause).pipe((defects) => [...defects].find(isTransportDefect))
  if (transport !== undefined) {
    const unavailable = new AgentUnavailable({ agent: def.name, id, reason: transportReason(transport) })
    return Effect.fail(new Failed(unavailable, neverSent(transport) ? "always" : "if-safe"))
  }
  // Reached only when the caller itself was not interrupted: an interruption of the caller's
  // fiber is not caught here and stays an interruption.
  if (Cause.isInterruptedOnly(cause)) {
    return Effect.fail(new Failed(new AgentInterrupted({ agent: def.name, id, rpc: tag }), "if-idempotent"))
  }
  return Effect.failCause(cause) as Effect.Effect<never, never>
}

/**
 * The cluster reports a connection to a runner that broke mid-call as a defect of the caller's
 * fiber; to a caller it is a delivery failure like any other.
 */
const transportTags = new Set(["SocketError", "SocketGenericError", "SocketCloseError", "RpcClientError", "RunnerUnavailable"])

const tagOf = (defect: unknown): string | undefined =>
  typeof defect === "object" && defect !== null && "_tag" in defect ? String((defect as { _tag: unknown })._tag) : undefined

const isTransportDefect = (defect: unknown): boolean => transportTags.has(tagOf(defect) ?? "")

/** the message never left this process: no connection, or it could not be written */
const neverSent = (defect: unknown): boolean => {
  if (tagOf(defect) === "RunnerUnavailable") return true
  const reason = (defect as { reason?: unknown }).reason
  return tagOf(defect) === "SocketError" && (reason === "Open" || reason === "OpenTimeout" || reason === "Write")
}

const transportReason = (defect: unknown): string =>
  neverSent(defect)
    ? `its runner could not be reached (${tagOf(defect)}); the message was not delivered`
    : `the connection to its runner failed (${tagOf(defect)}); the message may or may not have been handled`
