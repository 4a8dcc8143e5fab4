/**
 * How agents work together on one request, as a value the caller picks per request. The same
 * agents run a different pattern when the caller passes a different `Collaboration`: switching
 * pattern is changing data, not code.
 *
 * - `MasterSlave`: a coordinator decomposes the task, assigns subtasks to workers and aggregates
 *   their answers;
 * - `Peer`: peers answer, see each other's previous answers and answer again (a debate) until a
 *   stopping rule holds, then a voting rule decides;
 * - `Hybrid`: a coordinator over teams that each deliberate as `Peer`, then aggregates.
 *
 * `run` executes a collaboration in the caller's fiber; `Session` runs the same thing inside an
 * entity so a caller in another process can stream it. Either way every step is recorded as a
 * Lamport-stamped event and the `Result` says who contributed what and which parts are missing.
 *
 * @since 0.1.0
 */
import type { AgentError, Colony } from "@colony/runtime"
import { Agent, Events } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Config, type Effect, Option, Schema } from "effect"
import * as engine from "./internal/engine.js"
import { Stamp } from "./LogicalClock.js"

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

// --- bounds ---

/**
 * How large a collaboration a caller may ask for. Each knob caps what multiplies model calls:
 * `rounds` of debate (per `Peer` or `Team`), `participants` (every place an agent fills —
 * coordinator, workers, peers, judges — an agent named twice counts twice), `teams` of a
 * `Hybrid`, `workers` of a `MasterSlave`, and `subtasks` a decomposition declares (`Vertical` and
 * `Hybrid` functions, `Horizontal` blocks). A task's clauses are bounded by the task's size, not
 * here. The defaults keep one request to some hundreds of model calls at most.
 *
 * @since 0.1.0
 * @category models
 */
export class Bounds extends Schema.Class<Bounds>("@colony/agents/Bounds")({
  rounds: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 10 }),
  participants: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 16 }),
  teams: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 4 }),
  workers: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 12 }),
  subtasks: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 16 })
}) {}

/**
 * The production defaults: 10 rounds, 16 participants, 4 teams, 12 workers, 16 subtasks.
 *
 * @since 0.1.0
 */
export const defaultBounds: Bounds = new Bounds({})

/**
 * The bounds from the environment, each falling back to its default:
 * `COLONY_MAX_ROUNDS`, `COLONY_MAX_PARTICIPANTS`, `COLONY_MAX_TEAMS`, `COLONY_MAX_WORKERS`,
 * `COLONY_MAX_SUBTASKS`.
 *
 * @since 0.1.0
 * @category config
 */
export const boundsConfig: Config.Config<Bounds> = Config.all({
  rounds: Config.integer("COLONY_MAX_ROUNDS").pipe(Config.withDefault(defaultBounds.rounds)),
  participants: Config.integer("COLONY_MAX_PARTICIPANTS").pipe(Config.withDefault(defaultBounds.participants)),
  teams: Config.integer("COLONY_MAX_TEAMS").pipe(Config.withDefault(defaultBounds.teams)),
  workers: Config.integer("COLONY_MAX_WORKERS").pipe(Config.withDefault(defaultBounds.workers)),
  subtasks: Config.integer("COLONY_MAX_SUBTASKS").pipe(Config.withDefault(defaultBounds.subtasks))
}).pipe(
  Config.validate({ message: "every collaboration bound must be a positive integer", validation: (b) => Object.values(b).every((n) => n >= 1) }),
  Config.map((b) => new Bounds(b))
)

/**
 * A knob of `Bounds`.
 *
 * @since 0.1.0
 * @category models
 */
export const Bound = Schema.Literal("rounds", "participants", "teams", "workers", "subtasks")

/**
 * @since 0.1.0
 * @category models
 */
export type Bound = typeof Bound.Type

const asking: Record<Bound, (n: number) => string> = {
  rounds: (n) => `${n} rounds of debate`,
  participants: (n) => `${n} participants (coordinator, workers, peers and judges together)`,
  teams: (n) => `${n} teams`,
  workers: (n) => `${n} workers`,
  subtasks: (n) => `${n} subtasks (Vertical or Hybrid functions, Horizontal blocks)`
}

/**
 * A caller's collaboration asks for more than `Bounds` allow: `requested` of `bound` where at most
 * `limit` are allowed. Nothing was run.
 *
 * @since 0.1.0
 * @category errors
 */
export class CollaborationTooLarge extends Schema.TaggedError<CollaborationTooLarge>()("CollaborationTooLarge", {
  bound: Bound,
  limit: Schema.Int,
  requested: Schema.Int
}) {
  override get message() {
    return `this collaboration asks for ${asking[this.bound](this.requested)}, and at most ${this.limit} are allowed; ` +
      `ask for at most ${this.limit}, or split the task into several requests`
  }
}

const judged = (vote: VotingRule): number => typeof vote === "object" && vote._tag === "Judge" ? 1 : 0

const subtasksOf = (collaboration: MasterSlave): number => {
  const decompose = collaboration.decompose
  if (typeof decompose === "string") return 0
  switch (decompose._tag) {
    case "Vertical":
    case "Hybrid":
      return decompose.functions.length
    case "Horizontal":
      // Decompose.blocks makes no empty block: never more blocks than items
      return Math.min(decompose.items.length, decompose.blocks ?? collaboration.workers.length)
  }
}

/**
 * What a collaboration asks for, in the units of `Bounds` (0 where a knob does not apply).
 *
 * @since 0.1.0
 */
export const size = (collaboration: Collaboration): { readonly [K in Bound]: number } => {
  switch (collaboration._tag) {
    case "MasterSlave":
      return {
        rounds: 0,
        participants: 1 + collaboration.workers.length,
        teams: 0,
        workers: collaboration.workers.length,
        subtasks: subtasksOf(collaboration)
      }
    case "Peer":
      return {
        rounds: collaboration.rounds,
        participants: collaboration.peers.length + judged(collaboration.vote),
        teams: 0,
        workers: 0,
        subtasks: 0
      }
    case "Hybrid":
      return {
        rounds: Math.max(...collaboration.teams.map((team) => team.rounds)),
        participants: collaboration.teams.reduce((sum, team) => sum + team.peers.length + judged(team.vote), 1),
        teams: collaboration.teams.length,
        workers: 0,
        subtasks: 0
      }
  }
}

// the order a caller reads them in: the shape first, then its repetitions
const checked: ReadonlyArray<Bound> = ["teams", "workers", "participants", "subtasks", "rounds"]

/**
 * The first bound a collaboration exceeds, if any; a pure check to run before any agent is asked.
 *
 * @since 0.1.0
 */
export const checkBounds = (
  collaboration: Collaboration,
  bounds: Bounds = defaultBounds
): Option.Option<CollaborationTooLarge> => {
  const requested = size(collaboration)
  for (const bound of checked) {
    if (requested[bound] > bounds[bound]) {
      return Option.some(new CollaborationTooLarge({ bound, limit: bounds[bound], requested: requested[bound] }))
    }
  }
  return Option.none()
}

// --- result ---

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
  event: Events.Event
}) {}

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
 * not fail the run: they are retried elsewhere where the pattern allows and otherwise reported in
 * `Result.missing`. It fails only when a participant's agent type is not registered.
 *
 * @since 0.1.0
 */
export const run = (
  collaboration: Collaboration,
  task: string,
  options: RunOptions = {}
): Effect.Effect<Result, AgentError.UnknownAgent, Colony.Services | Sharding> =>
  engine.execute(collaboration, task, options)

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
