/**
 * The colony's own settings, where this process sits in the colony, and the services every agent
 * and client needs besides the cluster.
 */
import type * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Config, Context, Duration, Layer } from "effect"
import type * as AgentMemory from "../../AgentMemory.js"
import { StartFailed } from "../../ColonyError.js"
import type * as Events from "../../Events.js"
import * as LanguageModel from "../../LanguageModel.js"
import type * as Supervision from "../../Supervision.js"
import type * as Registry from "../registry.js"

/**
 * Settings of the colony itself (not of the cluster or the models).
 *
 * @since 0.1.0
 * @category config
 */
export interface Settings {
  /** the largest encoded payload a caller may send to an agent, in bytes */
  readonly maxPayloadBytes: number
  /**
   * how long a call to an agent may take, retries included, before it fails with
   * `AgentCallTimeout`; a caller may give one call another deadline (`withCallTimeout`)
   */
  readonly callTimeout: Duration.Duration
}

/**
 * @since 0.1.0
 * @category config
 */
export class ColonyConfig extends Context.Tag("@colony/runtime/ColonyConfig")<ColonyConfig, Settings>() {}

/**
 * `COLONY_MAX_PAYLOAD_BYTES` (default 1 MiB) and `COLONY_CALL_TIMEOUT` (default 5 minutes: an
 * answer may take several slow model calls).
 *
 * @since 0.1.0
 * @category config
 */
export const settingsConfig: Config.Config<Settings> = Config.all({
  maxPayloadBytes: Config.integer("COLONY_MAX_PAYLOAD_BYTES").pipe(Config.withDefault(1024 * 1024)),
  callTimeout: Config.duration("COLONY_CALL_TIMEOUT").pipe(Config.withDefault(Duration.minutes(5)))
})

/**
 * Where this process sits in the colony: its address and the shard groups it serves.
 *
 * @since 0.1.0
 * @category config
 */
export class Placement extends Context.Tag("@colony/runtime/Placement")<Placement, {
  /** "host:port" other runners reach this one at, or "embedded" */
  readonly address: string
  /** "host:port" this runner listens on, if it hosts agents */
  readonly listen: string | undefined
  readonly shardGroups: ReadonlyArray<string>
  readonly shardsPerGroup: number
  readonly clientOnly: boolean
}>() {}

/**
 * Everything a hosted agent and a client need, besides the cluster itself.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | WorkflowEngine.WorkflowEngine
  | ColonyConfig
  | Placement
  | Registry.Registry
  | Events.Events
  | Supervision.Supervisor
  | AgentMemory.AgentMemory
  | LanguageModel.LanguageModel

/**
 * Models from the environment (`COLONY_MODEL_URL`, `COLONY_MODELS`, ...); with none configured,
 * `default` is the simulated model and any other name is `UnknownModel`.
 */
export const modelsFromConfig: Layer.Layer<LanguageModel.LanguageModel, StartFailed> = LanguageModel.layer.pipe(
  Layer.mapError((error) => new StartFailed({ reason: `invalid model configuration: ${String(error)}` }))
)
