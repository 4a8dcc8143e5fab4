/**
 * What a collaboration gives back: its `Result` with who contributed what, the votes that
 * decided and the parts that are missing, and its events with their logical timestamps.
 */
import { Agent } from "@colony/runtime"
import { Schema } from "effect"
import { Stamp } from "../LogicalClock.js"
import * as SessionEvents from "../SessionEvents.js"
import { AgentRef } from "./patterns.js"


/**
 * What one agent contributed to a result. `step` is the step key (`subtask-2/attempt-1`,
 * `team-a/round-2/critic/p1`) that identifies the call.
 *
 * @since 0.1.0
 * @category models
 */
export class Contribution extends Schema.Class<Contribution>("@colony/agents/Contribution")({
  by: AgentRef,
  role: Schema.Literal("worker", "coordinator", "peer", "judge", "planner", "bidder"),
  task: Schema.String,
  text: Schema.String,
  model: Schema.String,
  simulated: Schema.Boolean,
  totalTokens: Schema.Number,
  /** what its model call cost, from the model's price table */
  cost: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  step: Schema.optionalWith(Schema.String, { default: () => "" }),
  /** the tools the agent called for this part, in order */
  tools: Schema.optionalWith(Schema.Array(Agent.ToolUse), { default: () => [] })
}) {}

/**
 * A part the collaboration could not get, and why.
 *
 * @since 0.1.0
 * @category models
 */
export class Missing extends Schema.Class<Missing>("@colony/agents/Missing")({
  task: Schema.String,
  step: Schema.String,
  /** the last agent that was asked, if any */
  by: Schema.optional(AgentRef),
  reason: Schema.String
}) {}

/**
 * One vote that went into a decision, with how it was read from the answer.
 *
 * @since 0.1.0
 * @category models
 */
export class CastVote extends Schema.Class<CastVote>("@colony/agents/CastVote")({
  voter: AgentRef,
  choice: Schema.String,
  weight: Schema.Number,
  how: Schema.String,
  step: Schema.String
}) {}

/**
 * A voter whose answer states no readable choice (see `Aggregate.readChoice`): it is not counted
 * as a vote for anything, and the result reports it.
 *
 * @since 0.1.0
 * @category models
 */
export class Abstention extends Schema.Class<Abstention>("@colony/agents/Abstention")({
  voter: AgentRef,
  step: Schema.String,
  reason: Schema.String
}) {}

/**
 * The answer of a collaboration with its provenance: who contributed what, the votes that
 * decided, and the parts that are missing. `complete` is false when anything is missing.
 *
 * @since 0.1.0
 * @category models
 */
export class Result extends Schema.Class<Result>("@colony/agents/Result")({
  pattern: Schema.String,
  answer: Schema.String,
  simulated: Schema.Boolean,
  contributions: Schema.Array(Contribution),
  totalTokens: Schema.Number,
  /** the summed cost of every model call of the collaboration */
  totalCost: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  missing: Schema.optionalWith(Schema.Array(Missing), { default: () => [] }),
  complete: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  votes: Schema.optionalWith(Schema.Array(CastVote), { default: () => [] }),
  /** the voters whose answers could not be read as a vote */
  abstentions: Schema.optionalWith(Schema.Array(Abstention), { default: () => [] }),
  /** rounds of debate (the most any team needed), 0 for master-slave */
  rounds: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** the session that produced it */
  session: Schema.optionalWith(Schema.String, { default: () => "" })
}) {}

/**
 * An event with the logical timestamp the session gave it. The session's own events carry the
 * same time in their `clock` field; agent events it forwards (model calls, restarts) only have it
 * here.
 *
 * @since 0.1.0
 * @category models
 */
export class Stamped extends Schema.Class<Stamped>("@colony/agents/Stamped")({
  stamp: Stamp,
  event: SessionEvents.Event
}) {}

