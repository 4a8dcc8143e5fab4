/**
 * The embedded colony: one process, the cluster's in-memory storage, no configuration.
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import { Effect, Layer } from "effect"
import * as AgentMemory from "../../AgentMemory.js"
import type { StartFailed } from "../../ColonyError.js"
import * as Events from "../../Events.js"
import type * as LanguageModel from "../../LanguageModel.js"
import * as Supervision from "../../Supervision.js"
import * as Registry from "../registry.js"
import { ColonyConfig, modelsFromConfig, Placement, type Services, type Settings, settingsConfig } from "./config.js"

/**
 * An embedded colony with explicit settings: one process, the cluster's in-memory message and
 * runner storage, agent memory kept in the process, models from the given layer (simulated by
 * default).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmbedded = (options: {
  readonly settings?: Partial<Settings> | undefined
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
  readonly languageModel?: Layer.Layer<LanguageModel.LanguageModel> | undefined
} = {}): Layer.Layer<Services | Sharding.Sharding, StartFailed> => {
  const cluster = Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(MessageStorage.layerMemory),
    Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
    // Messages between agents in one process need not be encoded and decoded: the client checks
    // every payload against its schema before sending (and payloads cross processes encoded on
    // runners), so the cluster's simulated round-trip would only cost time on every message.
    Layer.provide(ShardingConfig.layer({ simulateRemoteSerialization: false, ...options.shardingConfig }))
  )
  const settings = Layer.effect(
    ColonyConfig,
    Effect.map(Effect.orDie(settingsConfig), (fromConfig) => ({ ...fromConfig, ...options.settings }))
  )
  const shardsPerGroup = options.shardingConfig?.shardsPerGroup ?? ShardingConfig.defaults.shardsPerGroup
  return Layer.mergeAll(
    ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(cluster)),
    settings,
    Layer.succeed(Placement, {
      address: "embedded",
      listen: undefined,
      shardGroups: ["default"],
      shardsPerGroup,
      clientOnly: false
    }),
    Registry.layer,
    Events.layer,
    Supervision.layer,
    AgentMemory.layerMemory,
    options.languageModel ?? modelsFromConfig
  )
}

/**
 * The zero-configuration colony: one process, in-memory storage, the simulated model unless a
 * model endpoint is configured.
 *
 * @since 0.1.0
 * @category layers
 */
export const embedded: Layer.Layer<Services | Sharding.Sharding, StartFailed> = layerEmbedded()
