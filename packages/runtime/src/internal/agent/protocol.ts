/**
 * The base protocol every agent answers (`Ask`, `Describe`, `Forget`) and the values it carries.
 */
import * as Rpc from "@effect/rpc/Rpc"
import { PrimaryKey, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { AgentFailed } from "../../AgentError.js"
import { ModelError } from "../model/errors.js"
import { Usage } from "../model/messages.js"

/**
 * One tool call an agent made while answering.
 *
 * @since 0.1.0
 * @category protocol
 */
export class ToolUse extends Schema.Class<ToolUse>("@colony/runtime/ToolUse")({
  name: Schema.String,
  /** the arguments as the model wrote them (JSON) */
  arguments: Schema.String,
  /** false when the tool failed or the arguments did not fit; the model was told why */
  ok: Schema.Boolean,
  /** the tool's output as the model saw it, cut to 500 characters */
  output: Schema.String
}) {}

/**
 * An agent's answer, labelled with who answered and with which model.
 *
 * @since 0.1.0
 * @category protocol
 */
export class Answer extends Schema.Class<Answer>("@colony/runtime/Answer")({
  text: Schema.String,
  agent: Schema.String,
  id: Schema.String,
  model: Schema.String,
  modelId: Schema.String,
  simulated: Schema.Boolean,
  usage: Usage,
  /** what the model call cost, from the model's price table (0 when it has none) */
  cost: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** the runner that hosted the agent when it answered ("host:port") */
  runner: Schema.String,
  /** the tools the agent called to answer, in order */
  tools: Schema.optionalWith(Schema.Array(ToolUse), { default: () => [] })
}) {}

/**
 * A tool an agent can call, as `Describe` reports it.
 *
 * @since 0.1.0
 * @category protocol
 */
export class ToolInfo extends Schema.Class<ToolInfo>("@colony/runtime/ToolInfo")({
  name: Schema.String,
  description: Schema.String,
  /** "local" for a tool given to `toLayer`, else the MCP server's name */
  source: Schema.String,
  /** false for a server that cannot be reached now (its tools are not known yet) */
  available: Schema.Boolean
}) {}

/**
 * What an agent says about itself: enough for a caller (or another agent) to decide whether and
 * how to talk to it.
 *
 * @since 0.1.0
 * @category protocol
 */
export class Description extends Schema.Class<Description>("@colony/runtime/Description")({
  name: Schema.String,
  id: Schema.String,
  /** the runner hosting this instance now ("host:port") */
  runner: Schema.String,
  instructions: Schema.String,
  model: Schema.String,
  capabilities: Schema.Array(Schema.String),
  tools: Schema.Array(Schema.String),
  /** the tools with their descriptions and where they come from (its own, or an MCP server) */
  toolDetails: Schema.optionalWith(Schema.Array(ToolInfo), { default: () => [] }),
  rpcs: Schema.Array(Schema.String),
  mailboxCapacity: Schema.Union(Schema.Number, Schema.Literal("unbounded")),
  maxIdleTimeMs: Schema.NullOr(Schema.Number),
  supervision: Schema.Struct({
    maxRestarts: Schema.Number,
    windowMs: Schema.Number,
    initialBackoffMs: Schema.Number,
    maxBackoffMs: Schema.Number,
    factor: Schema.Number
  }),
  memoryMessages: Schema.Number
}) {}

/**
 * The shape an answer must have, as a JSON Schema: the agent's model is asked for structured
 * output in it (a model with `json_schema` support is held to it), so the answer's text is JSON a
 * caller decodes with its own Schema. Given as JSON Schema because it crosses the wire.
 *
 * @since 0.1.0
 * @category protocol
 */
export class AnswerFormat extends Schema.Class<AnswerFormat>("@colony/runtime/AnswerFormat")({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  jsonSchema: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

/**
 * The payload of `Ask`.
 *
 * @since 0.1.0
 * @category protocol
 */
export class AskPayload extends Schema.Class<AskPayload>("@colony/runtime/AskPayload")({
  prompt: Schema.String,
  /** who is asking (an agent address or a caller name), for the record */
  from: Schema.optional(Schema.String),
  /**
   * Identifies the message: for a durable agent, a message sent twice with the same id is handled
   * once and both senders get the same reply, and a message replayed after its runner died repeats
   * none of the model and tool calls it had completed. A fresh id is made when none is given.
   */
  messageId: Schema.optionalWith(Schema.String, { default: () => randomUUID() }),
  /** when given, the answer's text is JSON in this shape (see `AnswerFormat`) */
  answerFormat: Schema.optional(AnswerFormat)
}) {
  [PrimaryKey.symbol]() {
    return this.messageId
  }
}

/**
 * Ask the agent something in natural language. The agent answers from its instructions, its
 * conversation memory and its model, and remembers the exchange.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Ask = Rpc.make("Ask", {
  payload: AskPayload,
  success: Answer,
  error: Schema.Union(AgentFailed, ModelError)
})

/**
 * Ask the agent to describe itself.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Describe = Rpc.make("Describe", { success: Description, error: AgentFailed })

/**
 * Clear the agent instance's conversation memory.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Forget = Rpc.make("Forget", { error: AgentFailed })

/**
 * The RPCs every agent answers.
 *
 * @since 0.1.0
 * @category protocol
 */
export type BaseRpcs = typeof Ask | typeof Describe | typeof Forget

export const baseTags: ReadonlySet<string> = new Set(["Ask", "Describe", "Forget"])

/**
 * A user RPC as the agent serves it: its declared errors plus `AgentFailed`, which supervision
 * may answer with (and an agent whose stored memory no longer decodes, carrying
 * `AgentMemory.MemoryUnreadable`).
 *
 * @since 0.1.0
 * @category protocol
 */
export type Supervised<R extends Rpc.Any> = Rpc.AddError<R, typeof AgentFailed>
