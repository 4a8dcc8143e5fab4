/**
 * The gateway's typed protocol: what a program outside the cluster can ask of a colony. Payloads,
 * replies and errors are `Schema`s (the runtime's own typed errors), so the client gets the same
 * values a process inside the cluster would. `GatewayClient` calls it over HTTP or WebSocket.
 *
 * @since 0.1.0
 */
import { Broadcast, Collaboration, Session } from "@colony/agents"
import { Agent, AgentError, LanguageModel } from "@colony/runtime"
import * as Rpc from "@effect/rpc/Rpc"
import * as RpcGroup from "@effect/rpc/RpcGroup"
import { Schema } from "effect"

const FollowerOverflow = Broadcast.FollowerOverflow

/**
 * An agent type the gateway serves, as a caller sees it.
 *
 * @since 0.1.0
 * @category models
 */
export class AgentInfo extends Schema.Class<AgentInfo>("@colony/apps/AgentInfo")({
  name: Schema.String,
  instructions: Schema.String,
  model: Schema.String,
  capabilities: Schema.Array(Schema.String),
  rpcs: Schema.Array(Schema.String),
  /** the agent's tools, local and from MCP servers; listed only when `ListAgents` asks for them */
  tools: Schema.optionalWith(Schema.Array(Agent.ToolInfo), { default: () => [] })
}) {}

/**
 * A named collaboration the gateway offers (`team:<name>` as an OpenAI model name).
 *
 * @since 0.1.0
 * @category models
 */
export class PresetInfo extends Schema.Class<PresetInfo>("@colony/apps/PresetInfo")({
  name: Schema.String,
  pattern: Schema.String,
  participants: Schema.Array(Schema.String)
}) {}

/**
 * A session this gateway started, and where it was when last seen.
 *
 * @since 0.1.0
 * @category models
 */
export class SessionSummary extends Schema.Class<SessionSummary>("@colony/apps/SessionSummary")({
  session: Schema.String,
  pattern: Schema.String,
  task: Schema.String,
  state: Schema.Literal("running", "completed", "failed", "cancelled"),
  events: Schema.Number,
  startedAt: Schema.Number,
  reason: Schema.optional(Schema.String)
}) {}

/**
 * A collaboration name that is neither a preset of this gateway nor a pattern value.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownPreset extends Schema.TaggedError<UnknownPreset>()("UnknownPreset", {
  preset: Schema.String,
  presets: Schema.Array(Schema.String)
}) {
  override get message() {
    const known = this.presets.length === 0 ? "none" : this.presets.join(", ")
    return `no collaboration preset "${this.preset}" on this gateway; presets: ${known}. ` +
      `Use one of them, pass a Collaboration value, or add the preset to COLONY_GATEWAY_PRESETS.`
  }
}

/**
 * A call the caller's credential does not allow (a `client` key listing everyone's sessions...).
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessDenied extends Schema.TaggedError<AccessDenied>()("AccessDenied", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/**
 * The caller's rate limit is used up: every call counts, over HTTP and WebSocket alike.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  limitPerMinute: Schema.Number,
  retryAfterMs: Schema.Number
}) {
  override get message() {
    return `rate limit of ${this.limitPerMinute} calls per minute reached for this credential; retry in ${
      Math.max(1, Math.ceil(this.retryAfterMs / 1000))
    } s`
  }
}

/**
 * A message on the WebSocket that is not a call of this protocol as sent (its payload is not the
 * RPC's, its headers are not name/value pairs, ...); the RPC server never saw it. `reason` says
 * what is wrong with it.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  reason: Schema.String
}) {
  override get message() {
    return `invalid RPC request: ${this.reason}. Send the RPC's payload as its schema describes (the typed client does).`
  }
}

/**
 * What every call may fail with before it runs.
 *
 * @since 0.1.0
 * @category errors
 */
export const Refused = Schema.Union(AccessDenied, RateLimited, InvalidRequest)

/**
 * List the agent types the gateway serves.
 *
 * @since 0.1.0
 * @category protocol
 */
export const ListAgents = Rpc.make("ListAgents", {
  payload: Schema.Struct({
    /**
     * also list each agent's tools: the gateway asks one instance of every agent type to describe
     * itself, which starts it (and connects its MCP servers) if it is not running
     */
    tools: Schema.optionalWith(Schema.Boolean, { default: () => false })
  }),
  success: Schema.Array(AgentInfo),
  error: Schema.Union(AgentError.AgentError, Refused)
})

/**
 * List the collaboration presets the gateway offers.
 *
 * @since 0.1.0
 * @category protocol
 */
export const ListPresets = Rpc.make("ListPresets", { success: Schema.Array(PresetInfo), error: Refused })

/**
 * Ask agent instance `agent/id`; `id` is the conversation (the agent remembers it). Only agents
 * the gateway serves answer; a `client` caller's ids are its own (another caller's `id` is
 * another conversation).
 *
 * @since 0.1.0
 * @category protocol
 */
export const Ask = Rpc.make("Ask", {
  payload: { agent: Schema.String, id: Schema.String, prompt: Schema.String },
  success: Agent.Answer,
  error: Schema.Union(AgentError.AgentError, LanguageModel.ModelError, Refused)
})

/**
 * Run a collaboration in session `session`: a `Collaboration` value, or the name of a preset.
 * Streams the session's stamped events, then `Finished` with the result. The run belongs to the
 * session: a caller that goes away does not stop it (`CancelSession` does), and `WatchSession`
 * follows it from anywhere.
 *
 * @since 0.1.0
 * @category protocol
 */
export const RunCollaboration = Rpc.make("RunCollaboration", {
  payload: {
    session: Schema.String,
    collaboration: Schema.Union(Collaboration.Collaboration, Schema.String),
    task: Schema.String
  },
  success: Session.Progress,
  error: Schema.Union(
    Session.SessionBusy,
    Session.SessionCancelled,
    AgentError.UnknownAgent,
    AgentError.AgentUnavailable,
    UnknownPreset,
    Collaboration.CollaborationTooLarge,
    FollowerOverflow,
    Refused
  ),
  stream: true
})

/**
 * What watching a session streams: its stamped events, then `Finished` with the result. (A
 * `SessionStatus` is never streamed today; the union keeps it so the protocol is unchanged.)
 *
 * @since 0.1.0
 * @category models
 */
export const Watched = Schema.Union(Collaboration.Stamped, Session.Finished, Session.SessionStatus)

/**
 * @since 0.1.0
 * @category models
 */
export type Watched = typeof Watched.Type

/**
 * Follow a session live, whichever gateway or process started it: the session replays its run from
 * the start, then streams the rest as it happens, then the result. A run that fails or is cancelled
 * ends the stream early (`SessionStatus` says why); a watcher that falls behind is ended with
 * `FollowerOverflow` and may watch again.
 *
 * @since 0.1.0
 * @category protocol
 */
export const WatchSession = Rpc.make("WatchSession", {
  payload: { session: Schema.String },
  success: Watched,
  error: Schema.Union(
    Session.SessionCancelled,
    AgentError.UnknownAgent,
    AgentError.AgentUnavailable,
    Session.SessionBusy,
    FollowerOverflow,
    Refused
  ),
  stream: true
})

/**
 * Where a session is.
 *
 * @since 0.1.0
 * @category protocol
 */
export const SessionStatus = Rpc.make("SessionStatus", {
  payload: { session: Schema.String },
  success: Session.SessionStatus,
  error: Schema.Union(AgentError.AgentUnavailable, Refused)
})

/**
 * Cancel a session's run; `true` if one was running.
 *
 * @since 0.1.0
 * @category protocol
 */
export const CancelSession = Rpc.make("CancelSession", {
  payload: { session: Schema.String },
  success: Schema.Boolean,
  error: Schema.Union(AgentError.AgentUnavailable, Refused)
})

/**
 * The sessions this gateway started (most recent first): a `client` caller's own, everyone's for
 * staff. Gateways are stateless, so each lists its own.
 *
 * @since 0.1.0
 * @category protocol
 */
export const ListSessions = Rpc.make("ListSessions", { success: Schema.Array(SessionSummary), error: Refused })

/**
 * The gateway's protocol.
 *
 * @since 0.1.0
 * @category protocol
 */
export class GatewayRpcs extends RpcGroup.make(
  ListAgents,
  ListPresets,
  Ask,
  RunCollaboration,
  WatchSession,
  SessionStatus,
  CancelSession,
  ListSessions
) {}
