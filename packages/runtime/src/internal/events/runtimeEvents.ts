/**
 * The runtime's own events: agents starting and stopping, messages, model and tool calls, restarts,
 * and the last event of a subscriber that fell behind.
 */
import { Schema } from "effect"
import { Usage } from "../../LanguageModel.js"
import { envelope } from "./envelope.js"

const base = envelope

const who = (event: { readonly agent: string; readonly id: string }) => `${event.agent}/${event.id}`

/**
 * An agent instance was activated: first message, reactivation after passivation, or restart.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentStarted extends Schema.TaggedClass<AgentStarted>()("AgentStarted", {
  ...base,
  restart: Schema.Boolean,
  memoryMessages: Schema.Number
}) {
  format(): string {
    return `${this.restart ? "restarted" : "started"} ${who(this)}` +
      (this.memoryMessages > 0 ? ` (memory: ${this.memoryMessages} messages)` : "")
  }
}

/**
 * An agent instance was stopped: passivated after being idle, moved, shut down or restarting.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentStopped extends Schema.TaggedClass<AgentStopped>()("AgentStopped", {
  ...base
}) {
  format(): string {
    return `stopped ${who(this)}`
  }
}

/**
 * A message reached an agent's handler.
 *
 * @since 0.1.0
 * @category events
 */
export class MessageReceived extends Schema.TaggedClass<MessageReceived>()("MessageReceived", {
  ...base,
  rpc: Schema.String,
  from: Schema.optional(Schema.String),
  summary: Schema.String
}) {
  format(): string {
    return `→ ${who(this)} ${this.rpc}${this.from ? ` from ${this.from}` : ""}: ${this.summary}`
  }
}

/**
 * An agent's handler finished with a message.
 *
 * @since 0.1.0
 * @category events
 */
export class MessageHandled extends Schema.TaggedClass<MessageHandled>()("MessageHandled", {
  ...base,
  rpc: Schema.String,
  outcome: Schema.Literal("success", "failure", "defect", "interrupted"),
  durationMs: Schema.Number,
  summary: Schema.String
}) {
  format(): string {
    return `← ${who(this)} ${this.rpc} ${this.outcome} in ${this.durationMs} ms: ${this.summary}`
  }
}

/**
 * An agent called a model.
 *
 * @since 0.1.0
 * @category events
 */
export class ModelCalled extends Schema.TaggedClass<ModelCalled>()("ModelCalled", {
  ...base,
  model: Schema.String,
  modelId: Schema.String,
  simulated: Schema.Boolean,
  usage: Usage,
  /** from the model's price table; 0 when it has none */
  cost: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** attempts after the first (transient faults, timeouts) */
  retries: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  durationMs: Schema.Number
}) {
  format(): string {
    return `  ${who(this)} called ${this.model} (${this.simulated ? "simulated" : this.modelId}), ` +
      `${this.usage.totalTokens} tokens${this.cost > 0 ? `, $${this.cost.toFixed(6)}` : ""}, ` +
      `${this.durationMs} ms${this.retries > 0 ? `, ${this.retries} retries` : ""}`
  }
}

/**
 * An agent ran one of its tools during a tool-call loop. `ok` is false when the tool failed or
 * the model's arguments did not fit; the model was told so and went on.
 *
 * @since 0.1.0
 * @category events
 */
export class ToolCalled extends Schema.TaggedClass<ToolCalled>()("ToolCalled", {
  ...base,
  tool: Schema.String,
  ok: Schema.Boolean,
  durationMs: Schema.Number,
  /** the start of the tool's output (or of its error) */
  summary: Schema.String
}) {
  format(): string {
    return `  ${who(this)} used ${this.tool} (${this.ok ? "ok" : "error"}, ${this.durationMs} ms): ${this.summary}`
  }
}

/**
 * An agent's handler died and the agent is being restarted by its supervision policy.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentRestarted extends Schema.TaggedClass<AgentRestarted>()("AgentRestarted", {
  ...base,
  restart: Schema.Number,
  delayMs: Schema.Number,
  defect: Schema.String
}) {
  format(): string {
    return `! ${who(this)} restart #${this.restart} in ${this.delayMs} ms after: ${this.defect}`
  }
}

/**
 * An agent's handler died once more than its supervision policy allows; the caller got
 * `AgentFailed`.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentGaveUp extends Schema.TaggedClass<AgentGaveUp>()("AgentGaveUp", {
  ...base,
  rpc: Schema.String,
  restarts: Schema.Number,
  defect: Schema.String
}) {
  format(): string {
    return `✗ ${who(this)} gave up on ${this.rpc} after ${this.restarts} restart(s): ${this.defect}`
  }
}

/**
 * The last event a subscriber of the bus gets when it read too slowly: `capacity` events waited
 * unread, so the bus dropped them and ended its subscription; it had taken the first `delivered`
 * events, and nothing follows this one. Subscribe again to follow on (what was published in
 * between is not replayed).
 *
 * @since 0.1.0
 * @category events
 */
export class SubscriberFellBehind extends Schema.TaggedClass<SubscriberFellBehind>()("SubscriberFellBehind", {
  ...base,
  capacity: Schema.Number,
  delivered: Schema.Number
}) {
  format(): string {
    return `✗ this subscriber fell behind: ${this.capacity} events waited unread, so it was ended after ` +
      `${this.delivered} events; subscribe again to follow on`
  }
}

/**
 * The runtime's own events.
 *
 * @since 0.1.0
 * @category events
 */
export const RuntimeEvent = Schema.Union(
  AgentStarted,
  AgentStopped,
  MessageReceived,
  MessageHandled,
  ModelCalled,
  ToolCalled,
  AgentRestarted,
  AgentGaveUp,
  SubscriberFellBehind
)

/**
 * @since 0.1.0
 * @category events
 */
export type RuntimeEvent = typeof RuntimeEvent.Type
