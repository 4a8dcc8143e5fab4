/**
 * What a collaboration session records as it runs: the task it started, how it was split and
 * assigned, the messages it sent and the replies it got, votes, rounds, and how it ended. They are
 * `@colony/runtime` events (the same envelope, published on the same bus) that this package owns,
 * so a new pattern adds its events here without touching the runtime.
 *
 * `agent` is the session's entity type and `id` the session id; `clock` is the session's logical
 * (Lamport) time, which orders the events causally where wall-clock `at` cannot (several runners,
 * equal milliseconds).
 *
 * @since 0.1.0
 */
import { Events } from "@colony/runtime"
import { Schema } from "effect"

const session = {
  ...Events.envelope,
  /** the session's logical (Lamport) time when the event happened */
  clock: Schema.Number
}

const at = (event: { readonly agent: string; readonly id: string; readonly clock: number }) =>
  `${event.agent}/${event.id} @${event.clock}`

/**
 * A session started running a collaboration on a task.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionStarted extends Schema.TaggedClass<SessionStarted>()("SessionStarted", {
  ...session,
  pattern: Schema.String,
  task: Schema.String
}) {
  format(): string {
    return `◆ ${at(this)} started ${this.pattern}: ${Events.summarize(this.task)}`
  }
}

/**
 * A task was split into subtasks.
 *
 * @since 0.1.0
 * @category events
 */
export class TaskDecomposed extends Schema.TaggedClass<TaskDecomposed>()("TaskDecomposed", {
  ...session,
  strategy: Schema.String,
  subtasks: Schema.Array(Schema.String)
}) {
  format(): string {
    return `◆ ${at(this)} decomposed (${this.strategy}) into ${this.subtasks.length} subtask(s)`
  }
}

/**
 * A subtask was given to an agent.
 *
 * @since 0.1.0
 * @category events
 */
export class SubtaskAssigned extends Schema.TaggedClass<SubtaskAssigned>()("SubtaskAssigned", {
  ...session,
  step: Schema.String,
  subtask: Schema.String,
  /** the agent address, `type/id` */
  worker: Schema.String,
  strategy: Schema.String
}) {
  format(): string {
    return `◆ ${at(this)} ${this.step} → ${this.worker} (${this.strategy}): ${Events.summarize(this.subtask)}`
  }
}

/**
 * A session sent a message to an agent.
 *
 * @since 0.1.0
 * @category events
 */
export class MessageSent extends Schema.TaggedClass<MessageSent>()("MessageSent", {
  ...session,
  step: Schema.String,
  to: Schema.String,
  rpc: Schema.String,
  summary: Schema.String
}) {
  format(): string {
    return `◆ ${at(this)} ${this.step} sent ${this.rpc} to ${this.to}: ${this.summary}`
  }
}

/**
 * A session got an agent's reply (or its failure).
 *
 * @since 0.1.0
 * @category events
 */
export class ReplyReceived extends Schema.TaggedClass<ReplyReceived>()("ReplyReceived", {
  ...session,
  step: Schema.String,
  from: Schema.String,
  rpc: Schema.String,
  outcome: Schema.Literal("success", "failure"),
  summary: Schema.String,
  totalTokens: Schema.Number
}) {
  format(): string {
    return `◆ ${at(this)} ${this.step} ${this.outcome} from ${this.from}` +
      (this.totalTokens > 0 ? ` (${this.totalTokens} tokens)` : "") + `: ${this.summary}`
  }
}

/**
 * A participant's answer was read as a vote.
 *
 * @since 0.1.0
 * @category events
 */
export class VoteCast extends Schema.TaggedClass<VoteCast>()("VoteCast", {
  ...session,
  step: Schema.String,
  voter: Schema.String,
  choice: Schema.String,
  weight: Schema.Number,
  /** how the choice was read from the answer: structured output, an explicit line, or a single mention */
  how: Schema.String
}) {
  format(): string {
    return `◆ ${at(this)} ${this.step} ${this.voter} votes "${this.choice}"` +
      (this.weight === 1 ? "" : ` ×${this.weight}`) + ` (${this.how})`
  }
}

/**
 * A voter's answer could not be read as a vote (it names none of the options, or several): it
 * counts for nothing, and this says so instead of a choice made up for it.
 *
 * @since 0.1.0
 * @category events
 */
export class VoteAbstained extends Schema.TaggedClass<VoteAbstained>()("VoteAbstained", {
  ...session,
  step: Schema.String,
  voter: Schema.String,
  reason: Schema.String
}) {
  format(): string {
    return `◇ ${at(this)} ${this.step} ${this.voter} abstains: ${this.reason}`
  }
}

/**
 * A round of peer deliberation ended.
 *
 * @since 0.1.0
 * @category events
 */
export class RoundCompleted extends Schema.TaggedClass<RoundCompleted>()("RoundCompleted", {
  ...session,
  team: Schema.optional(Schema.String),
  round: Schema.Number,
  /** share of the answering peers that hold the leading choice, 0..1 */
  agreement: Schema.Number,
  leading: Schema.optional(Schema.String),
  stopped: Schema.Boolean
}) {
  format(): string {
    return `◆ ${at(this)} ${this.team === undefined ? "" : `${this.team} `}round ${this.round}: ` +
      `agreement ${Math.round(this.agreement * 100)}%` +
      (this.leading === undefined ? "" : ` on "${this.leading}"`) + (this.stopped ? ", stop" : "")
  }
}

/**
 * A subtask moved to another agent because its agent stayed failed after supervision; with no
 * agent left, `to` is absent and the part is reported missing.
 *
 * @since 0.1.0
 * @category events
 */
export class SubtaskReassigned extends Schema.TaggedClass<SubtaskReassigned>()("SubtaskReassigned", {
  ...session,
  step: Schema.String,
  subtask: Schema.String,
  from: Schema.String,
  to: Schema.optional(Schema.String),
  reason: Schema.String
}) {
  format(): string {
    return `◆ ${at(this)} ${this.step} moved from ${this.from} to ${this.to ?? "nobody (missing)"}: ${this.reason}`
  }
}

/**
 * A session finished with a result; `missing` counts the parts it could not get.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionCompleted extends Schema.TaggedClass<SessionCompleted>()("SessionCompleted", {
  ...session,
  missing: Schema.Number,
  totalTokens: Schema.Number,
  summary: Schema.String
}) {
  format(): string {
    return `◆ ${at(this)} completed, ${this.totalTokens} tokens` +
      (this.missing > 0 ? `, ${this.missing} part(s) missing` : "") + `: ${this.summary}`
  }
}

/**
 * A session ended without a result.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionFailed extends Schema.TaggedClass<SessionFailed>()("SessionFailed", {
  ...session,
  reason: Schema.String
}) {
  format(): string {
    return `✗ ${at(this)} failed: ${this.reason}`
  }
}

/**
 * The session's own events.
 *
 * @since 0.1.0
 * @category events
 */
export const SessionEvent = Schema.Union(
  SessionStarted,
  TaskDecomposed,
  SubtaskAssigned,
  MessageSent,
  ReplyReceived,
  VoteCast,
  VoteAbstained,
  RoundCompleted,
  SubtaskReassigned,
  SessionCompleted,
  SessionFailed
)

/**
 * @since 0.1.0
 * @category events
 */
export type SessionEvent = typeof SessionEvent.Type

/**
 * Every event a session's record may hold: its own, and the runtime events it forwards from its
 * participants (model calls, restarts). What a session streams to callers in other processes.
 *
 * @since 0.1.0
 * @category events
 */
export const Event = Schema.Union(Events.RuntimeEvent, SessionEvent)

/**
 * @since 0.1.0
 * @category events
 */
export type Event = typeof Event.Type
