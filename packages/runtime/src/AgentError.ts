/**
 * The typed errors a caller of an agent can see. Each one crosses process boundaries (it has a
 * `Schema`) and its message says what to do next.
 *
 * @since 0.1.0
 */
import { Duration, Schema } from "effect"

/**
 * No agent type of that name is registered in this colony.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownAgent extends Schema.TaggedError<UnknownAgent>()("UnknownAgent", {
  agent: Schema.String,
  registered: Schema.Array(Schema.String)
}) {
  override get message() {
    const known = this.registered.length === 0 ? "none" : this.registered.join(", ")
    return `no agent type "${this.agent}" is registered; registered types: ${known}. ` +
      `Check the name, or add the agent's layer to the colony.`
  }
}

/**
 * The message does not match the agent's protocol: no such RPC, or a payload the RPC's
 * schema rejects. `details` is the schema's own explanation.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>()("InvalidMessage", {
  agent: Schema.String,
  rpc: Schema.String,
  details: Schema.String
}) {
  override get message() {
    return `invalid "${this.rpc}" message for agent "${this.agent}": ${this.details}. ` +
      `Fix the payload to match the agent's protocol (see its Describe reply).`
  }
}

/**
 * The encoded payload is larger than the colony accepts (`COLONY_MAX_PAYLOAD_BYTES`).
 *
 * @since 0.1.0
 * @category errors
 */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  agent: Schema.String,
  rpc: Schema.String,
  bytes: Schema.Number,
  limit: Schema.Number
}) {
  override get message() {
    return `"${this.rpc}" payload for agent "${this.agent}" is ${this.bytes} bytes, over the ` +
      `${this.limit}-byte limit. Send a smaller payload (store large data elsewhere and pass a ` +
      `reference) or raise COLONY_MAX_PAYLOAD_BYTES.`
  }
}

/**
 * The agent instance already holds as many messages (in flight and queued) as its mailbox
 * allows. Nothing was delivered; the caller may retry later.
 *
 * @since 0.1.0
 * @category errors
 */
export class MailboxFull extends Schema.TaggedError<MailboxFull>()("MailboxFull", {
  agent: Schema.String,
  id: Schema.String,
  capacity: Schema.Union(Schema.Number, Schema.Literal("unbounded"))
}) {
  override get message() {
    return `mailbox of agent ${this.agent}/${this.id} is full (capacity ${this.capacity}); ` +
      `nothing was delivered. Retry with backoff, spread load over more agent ids, or raise the ` +
      `agent's mailboxCapacity.`
  }
}

/**
 * The agent kept failing: it was restarted as often as its supervision policy allows and the
 * message still could not be handled. `defect` is the last failure.
 *
 * @since 0.1.0
 * @category errors
 */
export class AgentFailed extends Schema.TaggedError<AgentFailed>()("AgentFailed", {
  agent: Schema.String,
  id: Schema.String,
  rpc: Schema.String,
  restarts: Schema.Number,
  defect: Schema.Defect
}) {
  override get message() {
    return `agent ${this.agent}/${this.id} failed handling "${this.rpc}" after ${this.restarts} ` +
      `restart(s), its supervision limit: ${describeDefect(this.defect)}. Fix the cause in the ` +
      `agent's handler, or widen its supervision policy.`
  }
}

/**
 * The colony could not deliver the message or get its reply (storage or transport trouble).
 * Delivery may be retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class AgentUnavailable extends Schema.TaggedError<AgentUnavailable>()("AgentUnavailable", {
  agent: Schema.String,
  id: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `agent ${this.agent}/${this.id} is unavailable: ${this.reason}. Retry shortly; if it ` +
      `persists, check that the colony's runners and storage are up.`
  }
}

/**
 * The call was cut off while the agent was handling it: its runner gave the agent up mid-message
 * (a shard moved to another runner, or the runner shut down). The message may or may not have
 * taken effect; the caller decides whether to send it again.
 *
 * @since 0.1.0
 * @category errors
 */
export class AgentInterrupted extends Schema.TaggedError<AgentInterrupted>()("AgentInterrupted", {
  agent: Schema.String,
  id: Schema.String,
  rpc: Schema.String
}) {
  override get message() {
    return `agent ${this.agent}/${this.id} was moved or stopped while handling "${this.rpc}"; the message may ` +
      `or may not have taken effect. Send it again if repeating it is harmless (give durable agents the same ` +
      `message id, so it is handled once), or check the agent's state first.`
  }
}

/**
 * No reply came within the call's deadline (`COLONY_CALL_TIMEOUT`, or the one the caller gave).
 * The call was abandoned; the agent may still be working on it.
 *
 * @since 0.1.0
 * @category errors
 */
export class AgentCallTimeout extends Schema.TaggedError<AgentCallTimeout>()("AgentCallTimeout", {
  agent: Schema.String,
  id: Schema.String,
  rpc: Schema.String,
  after: Schema.DurationFromMillis
}) {
  override get message() {
    return `agent ${this.agent}/${this.id} did not answer "${this.rpc}" within ${Duration.format(this.after)}. ` +
      `Retry later, ask for less, or give the call a longer deadline (per call, or COLONY_CALL_TIMEOUT).`
  }
}

/**
 * Errors raised by the colony while delivering a message, on top of the ones an RPC declares.
 *
 * @since 0.1.0
 */
export type DeliveryError =
  | InvalidMessage
  | PayloadTooLarge
  | MailboxFull
  | AgentUnavailable
  | AgentInterrupted
  | AgentCallTimeout

/**
 * Every error the runtime adds to an agent call.
 *
 * @since 0.1.0
 */
export type AgentError = UnknownAgent | DeliveryError | AgentFailed

/**
 * @since 0.1.0
 */
export const AgentError = Schema.Union(
  UnknownAgent,
  InvalidMessage,
  PayloadTooLarge,
  MailboxFull,
  AgentFailed,
  AgentUnavailable,
  AgentInterrupted,
  AgentCallTimeout
)

/**
 * A one-line description of a defect, for messages and logs.
 *
 * @since 0.1.0
 */
export const describeDefect = (defect: unknown): string => {
  if (defect instanceof Error) return `${defect.name}: ${defect.message}`
  if (typeof defect === "object" && defect !== null && "message" in defect) {
    return String((defect as { message: unknown }).message)
  }
  return String(defect)
}
