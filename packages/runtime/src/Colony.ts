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
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as EntityId from "@effect/cluster/EntityId"
import * as ShardId from "@effect/cluster/ShardId"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import type * as Rpc from "@effect/rpc/Rpc"
import type * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Config, Context, Duration, Effect, Layer, Option, ParseResult, Redacted, Schema } from "effect"
import { readFileSync } from "node:fs"
import { createSecureContext } from "node:tls"
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
import { RunnerRefused, StartFailed } from "./ColonyError.js"
import * as Registry from "./internal/registry.js"
import * as Runner from "./internal/runner.js"
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
 * Models from the environment (`COLONY_MODEL_URL`, `COLONY_MODELS`, ...), the simulated provider
 * for every name when none is configured.
 */
const modelsFromConfig: Layer.Layer<LanguageModel.LanguageModel, StartFailed> = LanguageModel.layer.pipe(
  Layer.mapError((error) => new StartFailed({ reason: `invalid model configuration: ${String(error)}` }))
)

/**
 * The zero-configuration colony: one process, in-memory storage, the simulated model unless a
 * model endpoint is configured.
 *
 * @since 0.1.0
 * @category layers
 */
export const embedded: Layer.Layer<Services | Sharding.Sharding, StartFailed> = layerEmbedded()

// --- runners ---

/**
 * How a process joins a Postgres-backed colony: the shared secret, where it listens, the address
 * other runners reach it at, its shard groups, the cluster's timing knobs and, optionally, the
 * certificates for mutual TLS between runners.
 *
 * @since 0.1.0
 * @category config
 */
export type ClusterSettings = Runner.ClusterSettings

/**
 * A runner listens where it is reached: on its advertised host unless `COLONY_LISTEN_HOST` says
 * otherwise (never on every interface by default). The advertised port defaults to the listen port.
 */
const clusterFields = Config.all({
  listenHost: Config.option(Config.string("COLONY_LISTEN_HOST")),
  listenPort: Config.port("COLONY_LISTEN_PORT").pipe(Config.withDefault(34431)),
  advertisedHost: Config.string("COLONY_ADVERTISED_HOST").pipe(Config.withDefault("127.0.0.1")),
  advertisedPort: Config.option(Config.port("COLONY_ADVERTISED_PORT")),
  shardGroups: Config.array(Config.string(), "COLONY_SHARD_GROUPS").pipe(Config.withDefault(["default"])),
  shardsPerGroup: Config.integer("COLONY_SHARDS_PER_GROUP").pipe(Config.withDefault(300)),
  shardLockRefreshInterval: Config.duration("COLONY_SHARD_LOCK_REFRESH_INTERVAL").pipe(
    Config.withDefault(Duration.millis(500))
  ),
  shardLockExpiration: Config.duration("COLONY_SHARD_LOCK_EXPIRATION").pipe(Config.withDefault(Duration.seconds(2))),
  refreshAssignmentsInterval: Config.duration("COLONY_REFRESH_ASSIGNMENTS_INTERVAL").pipe(
    Config.withDefault(Duration.millis(500))
  ),
  runnerHealthCheckInterval: Config.duration("COLONY_HEALTH_CHECK_INTERVAL").pipe(
    Config.withDefault(Duration.seconds(1))
  ),
  entityMessagePollInterval: Config.duration("COLONY_MESSAGE_POLL_INTERVAL").pipe(
    Config.withDefault(Duration.millis(500))
  )
})

type ClusterFields = Config.Config.Success<typeof clusterFields>

/** Settings from the environment, overridden by explicit ones, then the defaults that depend on others. */
const resolveFields = (
  fromEnv: ClusterFields,
  explicit: Partial<ClusterSettings> | undefined
): Omit<ClusterSettings, "secret" | "tls"> => {
  const { advertisedPort, listenHost, ...rest } = fromEnv
  const merged = { ...rest, ...explicit }
  return {
    ...merged,
    listenHost: explicit?.listenHost ?? Option.getOrElse(listenHost, () => merged.advertisedHost),
    advertisedPort: explicit?.advertisedPort ?? Option.getOrElse(advertisedPort, () => merged.listenPort)
  }
}

const tlsVariables = ["COLONY_RUNNER_TLS_CERT", "COLONY_RUNNER_TLS_KEY", "COLONY_RUNNER_TLS_CA"] as const

/**
 * `COLONY_RUNNER_TLS_CERT`, `COLONY_RUNNER_TLS_KEY`, `COLONY_RUNNER_TLS_CA`: PEM files for mutual
 * TLS between runners. All three or none; the files are read and checked at start.
 */
const tlsConfig: Effect.Effect<Runner.ClusterSettings["tls"], StartFailed> = Effect.gen(function*() {
  const paths = yield* Effect.mapError(
    Config.all(tlsVariables.map((name) => Config.option(Config.string(name)))),
    (error) => new StartFailed({ reason: `invalid configuration: ${String(error)}` })
  )
  const set = tlsVariables.filter((_, i) => Option.isSome(paths[i]!))
  if (set.length === 0) return undefined
  if (set.length < tlsVariables.length) {
    const unset = tlsVariables.filter((name) => !set.includes(name))
    return yield* new StartFailed({
      reason: `${set.join(" and ")} set but not ${unset.join(" and ")}: mutual TLS between runners needs ` +
        "all three PEM files (this process's certificate and key, and the CA that signs every runner's certificate)"
    })
  }
  const [cert, key, ca] = yield* Effect.forEach(tlsVariables, (name, i) => {
    const path = Option.getOrThrow(paths[i]!)
    return Effect.try({
      try: () => readFileSync(path, "utf8"),
      catch: (error) => new StartFailed({ reason: `cannot read ${name} (${path}): ${(error as Error).message}` })
    })
  })
  const tls = { cert: cert!, key: key!, ca: ca! }
  yield* Effect.try({
    try: () => createSecureContext(tls),
    catch: (error) =>
      new StartFailed({
        reason: `the files of ${tlsVariables.join(", ")} are not a usable certificate, key and CA: ` +
          `${(error as Error).message}`
      })
  })
  return tls
})

/**
 * The cluster settings from the environment. Timing defaults are tuned for fast failover (a dead
 * runner's agents answer elsewhere within about 2 s), at the cost of a few Postgres queries per
 * runner per second; raise them for large colonies. The TLS files are read when a colony layer
 * starts, not here.
 *
 * @since 0.1.0
 * @category config
 */
export const clusterConfig: Config.Config<ClusterSettings> = Config.map(
  Config.all({
    secret: Config.redacted("COLONY_RUNNER_SECRET").pipe(
      Config.validate({
        message: "COLONY_RUNNER_SECRET must be at least 32 bytes of random data (make one with `openssl rand -hex 32`)",
        validation: (secret) => Runner.secretTooShort(secret) === undefined
      })
    ),
    fields: clusterFields
  }),
  ({ fields, secret }) => ({ ...resolveFields(fields, undefined), secret })
)

/**
 * `DATABASE_URL`: the Postgres database the colony's runners share.
 *
 * @since 0.1.0
 * @category config
 */
export const databaseConfig: Config.Config<Redacted.Redacted<string>> = Config.redacted("DATABASE_URL")

interface ClusterOptions {
  readonly settings?: Partial<Settings> | undefined
  readonly cluster?: Partial<ClusterSettings> | undefined
  readonly databaseUrl?: Redacted.Redacted<string> | undefined
  readonly languageModel?: Layer.Layer<LanguageModel.LanguageModel> | undefined
}

const missing = (name: string, what: string) =>
  new StartFailed({ reason: `${name} is not set: set it to ${what}` })

const layerCluster = (options: ClusterOptions, clientOnly: boolean): Layer.Layer<
  Services | Sharding.Sharding,
  StartFailed | RunnerRefused
> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const invalid = (error: unknown) => new StartFailed({ reason: `invalid configuration: ${String(error)}` })
      const secret = options.cluster?.secret ??
        Option.getOrUndefined(yield* Effect.mapError(Config.option(Config.redacted("COLONY_RUNNER_SECRET")), invalid))
      if (secret === undefined) {
        return yield* missing(
          "COLONY_RUNNER_SECRET",
          "the secret the colony's runners share (the same random string of at least 32 bytes on every runner " +
            "and client; make one with `openssl rand -hex 32`)"
        )
      }
      yield* Runner.checkSecret(secret)
      const url = options.databaseUrl ?? Option.getOrUndefined(yield* Effect.mapError(Config.option(databaseConfig), invalid))
      if (url === undefined) {
        return yield* missing("DATABASE_URL", "the colony's Postgres database, e.g. postgres://user:password@host:5432/colony")
      }
      const fromEnv = yield* Effect.mapError(clusterFields, invalid)
      const tls = options.cluster?.tls ?? (yield* tlsConfig)
      const cluster: ClusterSettings = { ...resolveFields(fromEnv, options.cluster), secret, tls }
      const settings = yield* Effect.mapError(settingsConfig, invalid)
      const sql = PgClient.layer({ url }).pipe(
        Layer.mapError((error) =>
          new StartFailed({ reason: `cannot reach the database at DATABASE_URL: ${error.message}. Check that Postgres is up and the URL is right` })
        )
      )
      return Layer.mergeAll(
        ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(Runner.layer(cluster, { clientOnly }))),
        AgentMemory.layerSql,
        Layer.succeed(ColonyConfig, { ...settings, ...options.settings }),
        Layer.succeed(Placement, {
          address: `${cluster.advertisedHost}:${cluster.advertisedPort}`,
          listen: clientOnly ? undefined : `${cluster.listenHost}:${cluster.listenPort}`,
          shardGroups: cluster.shardGroups,
          shardsPerGroup: cluster.shardsPerGroup,
          clientOnly
        }),
        Registry.layer,
        Events.layer,
        Supervision.layer,
        options.languageModel ?? modelsFromConfig
      ).pipe(Layer.provide(sql))
    })
  )

/**
 * A runner with explicit options: hosts agents, joins the colony through Postgres storage and the
 * socket transport. Whatever `options` leaves out comes from the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRunner = (options: ClusterOptions = {}): Layer.Layer<
  Services | Sharding.Sharding,
  StartFailed | RunnerRefused
> => layerCluster(options, false)

/**
 * A runner configured from the environment (`DATABASE_URL`, `COLONY_RUNNER_SECRET`, ...).
 *
 * @since 0.1.0
 * @category layers
 */
export const runner: Layer.Layer<Services | Sharding.Sharding, StartFailed | RunnerRefused> = layerRunner()

/**
 * A client-only process with explicit options: calls agents hosted by the colony's runners and
 * hosts none. Declare the agent types it calls with `Colony.declare`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClientOnly = (options: ClusterOptions = {}): Layer.Layer<
  Services | Sharding.Sharding,
  StartFailed | RunnerRefused
> => layerCluster(options, true)

/**
 * A client-only process configured from the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const clientOnly: Layer.Layer<Services | Sharding.Sharding, StartFailed | RunnerRefused> =
  layerClientOnly()

/**
 * Make agent types known to this process without hosting them, so it can call them by name and
 * with typed clients (a client-only process, or a runner calling agents other runners host).
 *
 * @since 0.1.0
 * @category layers
 */
export const declare = (...agents: ReadonlyArray<Agent.Any | Agent.Agent<any, any>>): Layer.Layer<never, never, Registry.Registry> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const registry = yield* Registry.Registry
      for (const agent of agents) {
        const unregister = registry.register(agent as Agent.Any)
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
      }
    })
  )

/**
 * What this process holds right now.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly address: string
  readonly listen: string | undefined
  readonly clientOnly: boolean
  /** how many shards this process holds, per shard group */
  readonly shards: Readonly<Record<string, number>>
  /** which shards this process holds, per shard group */
  readonly shardIds: Readonly<Record<string, ReadonlyArray<number>>>
  /** agent instances active (not passivated) in this process */
  readonly activeAgents: number
  /** agent types this process knows */
  readonly agents: ReadonlyArray<string>
}

/**
 * Which shard an entity id belongs to (in a shard group, "default" unless the entity's protocol
 * names another). Shards, not agents, are what runners hold; with `status` it tells where an
 * instance lives.
 *
 * @since 0.1.0
 */
export const shardOf = (
  id: string,
  group = "default"
): Effect.Effect<{ readonly group: string; readonly id: number }, never, Sharding.Sharding> =>
  Effect.map(Sharding.Sharding, (sharding) => {
    const shard = sharding.getShardId(EntityId.make(id), group)
    return { group: shard.group, id: shard.id }
  })

/**
 * This process's place in the colony: address, shards held, active agents.
 *
 * @since 0.1.0
 */
export const status: Effect.Effect<Status, never, Placement | Registry.Registry | Sharding.Sharding> = Effect.gen(
  function*() {
    const placement = yield* Placement
    const sharding = yield* Sharding.Sharding
    const registry = yield* Registry.Registry
    const shards: Record<string, number> = {}
    const shardIds: Record<string, Array<number>> = {}
    for (const group of placement.shardGroups) {
      const held: Array<number> = []
      for (let id = 1; id <= placement.shardsPerGroup; id++) {
        if (sharding.hasShardId(ShardId.make(group, id))) held.push(id)
      }
      shards[group] = held.length
      shardIds[group] = held
    }
    return {
      address: placement.address,
      listen: placement.listen,
      clientOnly: placement.clientOnly,
      shards,
      shardIds,
      activeAgents: yield* sharding.activeEntityCount,
      agents: registry.names()
    }
  }
)

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

/**
 * An upper bound of the encoded size of an `Ask` payload, without encoding it. Every `Ask` goes
 * through here, and its payload is a validated instance whose encoded form is its own string
 * fields, so encoding it only to measure it would cost a schema pass per message. A UTF-16 code
 * unit takes at most 6 bytes of JSON (`\u001f`); the keys and quotes fit in the 64 added. Only a
 * payload near the limit is encoded and measured exactly.
 */
const askBytesAtMost = (payload: Agent.AskPayload): number =>
  askFieldsKnown
    ? 6 * (payload.prompt.length + (payload.from?.length ?? 0) + payload.messageId.length) + 64
    : Number.POSITIVE_INFINITY

// the bound holds for these three plain strings; a payload with other fields is measured exactly
const askFieldsKnown = Object.keys(Agent.AskPayload.fields).sort().join(",") === "from,messageId,prompt"

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

/**
 * A typed caller passes a class payload (such as `Ask`'s, which carries a primary key) as its
 * constructor's argument; build the instance, whose constructor validates it.
 */
const construct = (
  schema: Schema.Schema<any, any>,
  payload: unknown,
  invalid: (error: ParseResult.ParseError) => InvalidMessage
): Effect.Effect<unknown, InvalidMessage> => {
  if (!isClassSchema(schema) || payload instanceof schema) return Effect.succeed(payload)
  return Effect.try({
    try: () => new schema(payload ?? {}),
    catch: (error) =>
      ParseResult.isParseError(error)
        ? invalid(error)
        : invalid(new ParseResult.ParseError({ issue: new ParseResult.Type(schema.ast, payload, String(error)) }))
  })
}

const isClassSchema = (schema: unknown): schema is (new(props: unknown) => unknown) & Schema.Schema<any, any> =>
  typeof schema === "function" && "fields" in schema && "identifier" in schema

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
  const invalid = (error: ParseResult.ParseError) =>
    new InvalidMessage({ agent: agent.type, rpc: tag, details: formatIssue(error) })
  const decoded = decode
    ? yield* Effect.mapError(Schema.decodeUnknown(schema)(payload), invalid)
    : yield* construct(schema, payload, invalid)
  const { maxPayloadBytes } = yield* ColonyConfig
  if (!(decoded instanceof Agent.AskPayload && askBytesAtMost(decoded) <= maxPayloadBytes)) {
    const encoded = yield* Schema.encode(schema)(decoded).pipe(
      Effect.mapError((error) => new InvalidMessage({ agent: agent.type, rpc: tag, details: formatIssue(error) }))
    )
    const bytes = byteLength(encoded)
    if (bytes > maxPayloadBytes) {
      return yield* new PayloadTooLarge({ agent: agent.type, rpc: tag, bytes, limit: maxPayloadBytes })
    }
  }
  const makeClient = yield* agent.client
  const method = (makeClient(id) as any)[tag] as (payload: unknown) => Effect.Effect<unknown, unknown>
  return yield* method(decoded).pipe(
    Effect.mapError(mapClusterError(def, id)),
    Effect.catchSomeDefect((defect) =>
      isTransportDefect(defect)
        ? Option.some(Effect.fail(new AgentUnavailable({ agent: def.name, id, reason: transportReason(defect) })))
        : Option.none()
    )
  )
})

/**
 * The cluster reports a connection to a runner that broke mid-call as a defect of the caller's
 * fiber; to a caller it is a delivery failure like any other.
 */
const transportTags = new Set(["SocketError", "SocketGenericError", "SocketCloseError", "RpcClientError", "RunnerUnavailable"])

const isTransportDefect = (defect: unknown): boolean =>
  typeof defect === "object" && defect !== null && "_tag" in defect &&
  transportTags.has(String((defect as { _tag: unknown })._tag))

const transportReason = (defect: unknown): string =>
  `the connection to its runner failed (${String((defect as { _tag: unknown })._tag)}); the message may or ` +
  `may not have been handled`

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
  options?: {
    readonly from?: string | undefined
    /** for durable agents: the same id twice is handled once (see `Agent.AskPayload`) */
    readonly messageId?: string | undefined
  }
): Effect.Effect<Agent.Answer, AgentError | LanguageModel.ModelError, Services | Sharding.Sharding> =>
  Effect.flatMap(
    lookup(agent),
    (entity) =>
      deliver(entity, id, "Ask", {
        prompt,
        ...(options?.from === undefined ? {} : { from: options.from }),
        ...(options?.messageId === undefined ? {} : { messageId: options.messageId })
      }, false) as Effect.Effect<
        Agent.Answer,
        AgentError | LanguageModel.ModelError
      >
  )
