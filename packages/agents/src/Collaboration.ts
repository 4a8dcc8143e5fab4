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
import type { Sharding } from "@effect/cluster/Sharding"
import { Config, type Effect, Option, Schema } from "effect"
import * as engine from "./internal/engine.js"
import type { Collaboration, MasterSlave, VotingRule } from "./internal/patterns.js"
import type { Result } from "./internal/result.js"
import type { RunOptions } from "./internal/runContext.js"

export {
  AgentRef,
  Aggregation,
  Assignment,
  Collaboration,
  Decomposition,
  Hybrid,
  MasterSlave,
  participants,
  Peer,
  ref,
  StoppingRule,
  Team,
  VotingRule
} from "./internal/patterns.js"
export { Abstention, CastVote, Contribution, Missing, Result, Stamped } from "./internal/result.js"
export type { RunOptions } from "./internal/runContext.js"

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

