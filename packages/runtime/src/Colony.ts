/**
 * A colony is the set of layers a program picks to host or call agents, and the typed clients
 * it calls them with. `embedded` runs everything in one process with the cluster's own in-memory
 * storage and no configuration; later layers join a Postgres-backed cluster of runners. The
 * client code is the same either way: an agent type plus an id, never a shard or a runner.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const support = yield* Colony.client(Support)
 *   const answer = yield* support("customer-42").Ask({ prompt: "Where is my order?" })
 * })
 * program.pipe(Effect.provide(Agent.toLayer(Support).pipe(Layer.provideMerge(Colony.embedded))))
 * ```
 *
 * @since 0.1.0
 */
import * as ClusterError from "@effect/cluster/ClusterError"
import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import type * as Rpc from "@effect/rpc/Rpc"
import { Config, Context, Effect, Layer, ParseResult, Schema } from "effect"
import * as Agent from "./Agent.js"
import {
  type AgentError,
  AgentUnavailable,
  type DeliveryError,
  InvalidMessage,
  MailboxFull,
  PayloadTooLarge,
  UnknownAgent
} from "./AgentError.js"
import * as AgentMemory from "./AgentMemory.js"
import * as Events from "./Events.js"
import * as Registry from "./internal/registry.js"
import * as LanguageModel from "./LanguageModel.js"
import * as Supervision from "./Supervision.js"

/**
 * Settings of the colony itself (not of the cluster or the models).
 *
 * @since 0.1.0
 * @category config
 */
export interface Settings {
  /** the largest encoded payload a caller may send to an agent, in bytes */
  readonly maxPayloadBytes: number
}

/**
 * @since 0.1.0
 * @category config
 */
export class ColonyConfig extends Context.Tag("@colony/runtime/ColonyConfig")<ColonyConfig, Settings>() {}

/**
 * `COLONY_MAX_PAYLOAD_BYTES` (default 1 MiB).
 *
 * @since 0.1.0
 * @category config
 */
export const settingsConfig: Config.Config<Settings> = Config.all({
  maxPayloadBytes: Config.integer("COLONY_MAX_PAYLOAD_BYTES").pipe(Config.withDefault(1024 * 1024))
})

/**
 * Everything a hosted agent and a client need, besides the cluster itself.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | ColonyConfig
  | Registry.Registry
  | Events.Events
  | Supervision.Supervisor
  | AgentMemory.AgentMemory
  | LanguageModel.LanguageModel

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
} = {}): Layer.Layer<Services | Sharding.Sharding> => {
  const cluster = Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(MessageStorage.layerMemory),
    Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
    Layer.provide(ShardingConfig.layer(options.shardingConfig))
  )
  const settings = Layer.effect(
    ColonyConfig,
    Effect.map(Effect.orDie(settingsConfig), (fromConfig) => ({ ...fromConfig, ...options.settings }))
  )
  return Layer.mergeAll(
    cluster,
    settings,
    Registry.layer,
    Events.layer,
    Supervision.layer,
    AgentMemory.layerMemory,
    options.languageModel ?? LanguageModel.layerSimulated
  )
}

/**
 * The zero-configuration colony: one process, in-memory storage, the simulated model unless a
 * model endpoint is configured.
 *
 * @since 0.1.0
 * @category layers
 */
export const embedded: Layer.Layer<Services | Sharding.Sharding> = layerEmbedded()

// --- clients ---

type Method<R extends Rpc.Any> = (
  ...args: [Rpc.PayloadConstructor<R>] extends [void] ? [] : [payload: Rpc.PayloadConstructor<R>]
) => Effect.Effect<Rpc.Success<R>, Rpc.Error<R> | DeliveryError | UnknownAgent>

/**
 * A typed handle on one agent instance: a method per RPC of its protocol.
 *
 * @since 0.1.0
 * @category clients
 */
export type AgentClient<Rpcs extends Rpc.Any> = {
  readonly [R in Rpcs as R["_tag"]]: Method<R>
}

const byteLength = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? "", "utf8")

const formatIssue = (error: ParseResult.ParseError): string =>
  ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s*\n\s*/g, " ")

const mapClusterError = (def: Agent.Definition, id: string) => (error: unknown) => {
  if (error instanceof ClusterError.MailboxFull) {
    return new MailboxFull({ agent: def.name, id, capacity: def.mailboxCapacity })
  }
  if (error instanceof ClusterError.AlreadyProcessingMessage || error instanceof ClusterError.PersistenceError) {
    return new AgentUnavailable({ agent: def.name, id, reason: error._tag })
  }
  return error
}

const deliver = Effect.fnUntraced(function*(
  agent: Agent.Any,
  id: string,
  tag: string,
  payload: unknown,
  decode: boolean
) {
  const registry = yield* Registry.Registry
  const def = Agent.definition(agent)
  if (registry.get(agent.type) === undefined) {
    return yield* new UnknownAgent({ agent: agent.type, registered: registry.names() })
  }
  const rpc = agent.protocol.requests.get(tag) as Rpc.AnyWithProps | undefined
  if (rpc === undefined) {
    return yield* new InvalidMessage({
      agent: agent.type,
      rpc: tag,
      details: `no such RPC; "${agent.type}" answers ${def.rpcs.join(", ")}`
    })
  }
  const schema = rpc.payloadSchema as Schema.Schema<any, any>
  const decoded = decode
    ? yield* Schema.decodeUnknown(schema)(payload).pipe(
      Effect.mapError((error) => new InvalidMessage({ agent: agent.type, rpc: tag, details: formatIssue(error) }))
    )
    : payload
  const encoded = yield* Schema.encode(schema)(decoded).pipe(
    Effect.mapError((error) => new InvalidMessage({ agent: agent.type, rpc: tag, details: formatIssue(error) }))
  )
  const { maxPayloadBytes } = yield* ColonyConfig
  const bytes = byteLength(encoded)
  if (bytes > maxPayloadBytes) {
    return yield* new PayloadTooLarge({ agent: agent.type, rpc: tag, bytes, limit: maxPayloadBytes })
  }
  const makeClient = yield* agent.client
  const method = (makeClient(id) as any)[tag] as (payload: unknown) => Effect.Effect<unknown, unknown>
  return yield* Effect.mapError(method(decoded), mapClusterError(def, id))
})

/**
 * A typed client for an agent type: give it an instance id, get a method per RPC. Calls fail
 * with the RPC's own errors or a typed delivery error, never with a hang on an unknown agent.
 *
 * @since 0.1.0
 * @category clients
 */
export const client = <Name extends string, Rpcs extends Rpc.Any>(
  agent: Agent.Agent<Name, Rpcs>
): Effect.Effect<
  (id: string) => AgentClient<Agent.BaseRpcs | Agent.Supervised<Rpcs>>,
  never,
  Services | Sharding.Sharding
> =>
  Effect.map(Effect.context<Services | Sharding.Sharding>(), (context) => (id: string) =>
    new Proxy({} as any, {
      get(cache, tag) {
        if (typeof tag !== "string") return undefined
        return cache[tag] ??= (payload?: unknown) =>
          Effect.provide(deliver(agent as unknown as Agent.Any, id, tag, payload, false), context)
      }
    }))

/**
 * The names of the agent types this process knows.
 *
 * @since 0.1.0
 * @category clients
 */
export const agents: Effect.Effect<ReadonlyArray<string>, never, Registry.Registry> = Effect.map(
  Registry.Registry,
  (registry) => registry.names()
)

const lookup = (name: string) =>
  Effect.flatMap(Registry.Registry, (registry) => {
    const entity = registry.get(name)
    return entity !== undefined && Agent.isAgent(entity)
      ? Effect.succeed(entity)
      : Effect.fail(new UnknownAgent({ agent: name, registered: registry.names() }))
  })

/**
 * Send a message to an agent named at run time, with an untrusted payload (JSON from a CLI, an
 * HTTP body): the payload is decoded with the RPC's schema first. The reply is the RPC's decoded
 * success value; a failure is a delivery error or the RPC's own error value.
 *
 * @since 0.1.0
 * @category clients
 */
export const send = (
  agent: string,
  id: string,
  rpc: string,
  payload: unknown
): Effect.Effect<unknown, AgentError | DeclaredError, Services | Sharding.Sharding> =>
  Effect.flatMap(lookup(agent), (entity) => deliver(entity, id, rpc, payload, true)) as Effect.Effect<
    unknown,
    AgentError | DeclaredError,
    Services | Sharding.Sharding
  >

/**
 * An error an RPC declares in its own protocol (for calls whose RPC is only known at run time).
 *
 * @since 0.1.0
 * @category clients
 */
export interface DeclaredError {
  readonly _tag: string
  readonly message?: string
}

/**
 * Ask an agent named at run time.
 *
 * @since 0.1.0
 * @category clients
 */
export const ask = (
  agent: string,
  id: string,
  prompt: string,
  options?: { readonly from?: string | undefined }
): Effect.Effect<Agent.Answer, AgentError | LanguageModel.ModelError, Services | Sharding.Sharding> =>
  Effect.flatMap(
    lookup(agent),
    (entity) =>
      deliver(entity, id, "Ask", { prompt, ...(options?.from === undefined ? {} : { from: options.from }) }, false) as Effect.Effect<
        Agent.Answer,
        AgentError | LanguageModel.ModelError
      >
  )
