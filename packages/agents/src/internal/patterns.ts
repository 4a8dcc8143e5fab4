/**
 * The collaboration patterns as data: who takes part (`AgentRef`) and how (`MasterSlave`, `Peer`,
 * `Hybrid` with their `Team`s), chosen per request.
 */
import { Schema } from "effect"

/**
 * An agent instance: its type and its id.
 *
 * @since 0.1.0
 * @category models
 */
export class AgentRef extends Schema.Class<AgentRef>("@colony/agents/AgentRef")({
  agent: Schema.String,
  id: Schema.String
}) {
  override toString() {
    return `${this.agent}/${this.id}`
  }
}

/**
 * An agent instance from its address, `"type/id"`: `ref("analyst/a")`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ref = (address: string): AgentRef => {
  const slash = address.indexOf("/")
  if (slash <= 0 || slash === address.length - 1) {
    throw new Error(`Collaboration.ref: "${address}" is not an agent address; write "type/id", e.g. "analyst/a"`)
  }
  return new AgentRef({ agent: address.slice(0, slash), id: address.slice(slash + 1) })
}

// --- master-slave ---

/**
 * How a coordinator splits the task (see `Decompose`):
 * `"clauses"` — horizontal, one subtask per clause the task lists (the default);
 * `"replicate"` — every worker gets the whole task (for votes and averages);
 * `"planned"` — the coordinator's model writes the plan (clauses when it gives no usable plan);
 * `Vertical` — one subtask per function, each needing that capability;
 * `Horizontal` — the task over blocks of `items` (one block per worker unless `blocks` is set);
 * `Hybrid` — clauses, each split by function.
 *
 * @since 0.1.0
 * @category models
 */
export const Decomposition = Schema.Union(
  Schema.Literal("clauses", "replicate", "planned"),
  Schema.TaggedStruct("Vertical", { functions: Schema.NonEmptyArray(Schema.String) }),
  Schema.TaggedStruct("Horizontal", {
    items: Schema.NonEmptyArray(Schema.String),
    blocks: Schema.optional(Schema.Int.pipe(Schema.positive()))
  }),
  Schema.TaggedStruct("Hybrid", { functions: Schema.NonEmptyArray(Schema.String) })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Decomposition = typeof Decomposition.Type

/**
 * Which worker takes which subtask (see `Assign`). `"least-loaded"` counts the requests this
 * process has in flight to each worker (`LoadTracker`); `"capability"` matches a subtask's
 * capability against the workers' `Describe` replies; `"priority"` dispatches by `priorities`;
 * `"contract-net"` announces each subtask and awards it to the lowest bid.
 *
 * @since 0.1.0
 * @category models
 */
export const Assignment = Schema.Literal("round-robin", "least-loaded", "capability", "priority", "contract-net")

/**
 * @since 0.1.0
 * @category models
 */
export type Assignment = typeof Assignment.Type

/**
 * How the answers become one (see `Aggregate`). Votes and averages are taken per subtask among
 * the workers that answered it, so they belong with `decompose: "replicate"`.
 *
 * @since 0.1.0
 * @category models
 */
export const Aggregation = Schema.Literal(
  "synthesis",
  "concatenation",
  "majority",
  "weighted-vote",
  "weighted-average",
  "quorum"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Aggregation = typeof Aggregation.Type

/**
 * A coordinator decomposes the task, assigns the subtasks to workers, and aggregates their
 * answers. A worker that stays failed after supervision has its subtask reassigned to another
 * (`reassignOnFailure`); with no worker left the part is reported missing.
 *
 * @since 0.1.0
 * @category models
 */
export class MasterSlave extends Schema.TaggedClass<MasterSlave>()("MasterSlave", {
  coordinator: AgentRef,
  workers: Schema.NonEmptyArray(AgentRef),
  decompose: Schema.optionalWith(Decomposition, { default: () => "clauses" as const }),
  assign: Schema.optionalWith(Assignment, { default: () => "round-robin" as const }),
  aggregate: Schema.optionalWith(Aggregation, { default: () => "synthesis" as const }),
  reassignOnFailure: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** the choices workers vote among (votes read free text otherwise) */
  options: Schema.optional(Schema.NonEmptyArray(Schema.String)),
  /** weight of each worker, by position, for weighted votes and averages (default 1) */
  weights: Schema.optional(Schema.Array(Schema.Number)),
  /** priority of each subtask, by position, for `assign: "priority"` (default 0; higher first) */
  priorities: Schema.optional(Schema.Array(Schema.Number)),
  /** votes a choice needs with `aggregate: "quorum"`; default a strict majority of the answers asked for */
  quorum: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** a call that takes longer counts as failed (default 5 minutes) */
  stepTimeoutMs: Schema.optional(Schema.Number.pipe(Schema.positive()))
}) {}

// --- peer ---

/**
 * When peers stop debating: after `rounds` rounds in any case; `"no-change"` (the default) also
 * when no peer changed its choice from the previous round; `Agreement` when at least `threshold`
 * (0..1) of the answering peers hold the same choice.
 *
 * @since 0.1.0
 * @category models
 */
export const StoppingRule = Schema.Union(
  Schema.Literal("fixed-rounds", "no-change"),
  Schema.TaggedStruct("Agreement", { threshold: Schema.Number.pipe(Schema.between(0, 1)) })
)

/**
 * @since 0.1.0
 * @category models
 */
export type StoppingRule = typeof StoppingRule.Type

/**
 * How the peers' final answers decide: `"majority"` (ties to the choice voted first), `Weighted`
 * (weights by peer position), or `Judge` (another agent picks among the options or the answers).
 *
 * @since 0.1.0
 * @category models
 */
export const VotingRule = Schema.Union(
  Schema.Literal("majority"),
  Schema.TaggedStruct("Weighted", { weights: Schema.Array(Schema.Number) }),
  Schema.TaggedStruct("Judge", { judge: AgentRef })
)

/**
 * @since 0.1.0
 * @category models
 */
export type VotingRule = typeof VotingRule.Type

const deliberation = {
  peers: Schema.NonEmptyArray(AgentRef),
  /** the most rounds of debate */
  rounds: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 2 }),
  stop: Schema.optionalWith(StoppingRule, { default: () => "no-change" as const }),
  vote: Schema.optionalWith(VotingRule, { default: () => "majority" as const }),
  /** the choices peers pick among; without them a peer's choice is its whole answer */
  options: Schema.optional(Schema.NonEmptyArray(Schema.String)),
  /**
   * peers that must answer the final round for a decision; default a strict majority, so
   * `peers - quorum` failed peers are tolerated
   */
  quorum: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** a call that takes longer counts as failed (default 5 minutes) */
  stepTimeoutMs: Schema.optional(Schema.Number.pipe(Schema.positive()))
}

/**
 * Peers debate: each answers, then sees the others' previous answers and answers again, until the
 * stopping rule holds; the voting rule decides among the last answers.
 *
 * @since 0.1.0
 * @category models
 */
export class Peer extends Schema.TaggedClass<Peer>()("Peer", deliberation) {}

/**
 * A named team of peers inside a `Hybrid`.
 *
 * @since 0.1.0
 * @category models
 */
export class Team extends Schema.Class<Team>("@colony/agents/Team")({
  name: Schema.String,
  ...deliberation
}) {}

// --- hybrid ---

/**
 * A coordinator over teams: each team deliberates as `Peer` on its part (the whole task with
 * `decompose: "replicate"`, or the task's clauses dealt round-robin), then the coordinator
 * aggregates the teams' decisions.
 *
 * @since 0.1.0
 * @category models
 */
export class Hybrid extends Schema.TaggedClass<Hybrid>()("Hybrid", {
  coordinator: AgentRef,
  teams: Schema.NonEmptyArray(Team),
  decompose: Schema.optionalWith(Schema.Literal("replicate", "clauses"), { default: () => "replicate" as const }),
  aggregate: Schema.optionalWith(Schema.Literal("synthesis", "concatenation", "majority"), {
    default: () => "synthesis" as const
  }),
  stepTimeoutMs: Schema.optional(Schema.Number.pipe(Schema.positive()))
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export const Collaboration = Schema.Union(MasterSlave, Peer, Hybrid)

/**
 * @since 0.1.0
 * @category models
 */
export type Collaboration = typeof Collaboration.Type

/**
 * Every agent a collaboration talks to.
 *
 * @since 0.1.0
 */
export const participants = (collaboration: Collaboration): ReadonlyArray<AgentRef> => {
  switch (collaboration._tag) {
    case "MasterSlave":
      return [collaboration.coordinator, ...collaboration.workers]
    case "Peer":
      return [...collaboration.peers, ...(typeof collaboration.vote === "object" && collaboration.vote._tag === "Judge" ? [collaboration.vote.judge] : [])]
    case "Hybrid":
      return [
        collaboration.coordinator,
        ...collaboration.teams.flatMap((team) => [
          ...team.peers,
          ...(typeof team.vote === "object" && team.vote._tag === "Judge" ? [team.vote.judge] : [])
        ])
      ]
  }
}
