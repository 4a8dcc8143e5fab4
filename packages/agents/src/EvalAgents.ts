/**
 * The agents of `colony eval`, for runners: `colony runner --agents <this module>` hosts the
 * coordinator, `COLONY_EVAL_SOLVERS` solvers and an expert per domain of `COLONY_EVAL_DOMAINS`
 * (`Eval.agentTypes`), each asking the model of its own name from the runner's model
 * configuration (`COLONY_MODEL_URL`, `COLONY_MODELS`). A `colony eval` given `DATABASE_URL` is
 * then a client of these runners.
 *
 * @since 0.1.0
 */
import { ColonyError } from "@colony/runtime"
import { Config, Effect, Layer } from "effect"
import * as Eval from "./Eval.js"

/**
 * The domains of the generated task sets, and `general`, a JSONL line's domain when it names none.
 *
 * @since 0.1.0
 */
export const defaultDomains: ReadonlyArray<string> = ["arithmetic", "word-problems", "multiple-choice", "decomposable", "general"]

/**
 * What the runner hosts: `COLONY_EVAL_SOLVERS` (default 9, what the default patterns need:
 * `hybrid` is 3 teams of 3) and `COLONY_EVAL_DOMAINS` (comma-separated, default `defaultDomains`).
 *
 * @since 0.1.0
 */
export const config = Config.all({
  solvers: Config.integer("COLONY_EVAL_SOLVERS").pipe(Config.withDefault(9)),
  domains: Config.array(Config.string(), "COLONY_EVAL_DOMAINS").pipe(Config.withDefault(defaultDomains))
})

/**
 * The eval's agents, hosted as `config` says.
 *
 * @since 0.1.0
 */
export const layer = Layer.unwrapEffect(
  Effect.map(config, ({ domains, solvers }) => Eval.layerAgents(Math.max(1, solvers), domains)).pipe(
    Effect.mapError((error) => new ColonyError.StartFailed({ reason: `invalid COLONY_EVAL_SOLVERS or COLONY_EVAL_DOMAINS: ${error}` }))
  )
)

export default layer
