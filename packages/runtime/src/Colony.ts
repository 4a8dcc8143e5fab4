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
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
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
import {
  Cause,
  Config,
  Context,
  Duration,
  Effect,
  FiberRef,
  Layer,
  Option,
  ParseResult,
  PrimaryKey,
  Redacted,
  Schedule,
  Schema
} from "effect"
import { dual } from "effect/Function"
import { readFileSync } from "node:fs"
import { createSecureContext } from "node:tls"
import * as Agent from "./Agent.js"
import {
  AgentCallTimeout,
  type AgentError,
  AgentInterrupted,
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
 * Models from the environment (`COLONY_MODEL_URL`, `COLONY_MODELS`, ...); with none configured,
 * `default` is the simulated model and any other name is `UnknownModel`.
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
  // The cluster gives a lock refresh min(refresh, expiration / 3) to finish and drops every shard
  // of a runner whose refresh misses it: on a busy machine a 500 ms deadline was missed 19-26
  // times in two minutes (bench suite 8), a 2 s one about twice. A dead runner is found through
  // its Postgres connection instead (internal/liveness.ts), so these can be long; the expiration
  // still finds a machine that vanished without closing its connections.
  shardLockRefreshInterval: Config.duration("COLONY_SHARD_LOCK_REFRESH_INTERVAL").pipe(
    Config.withDefault(Duration.seconds(10))
  ),
  shardLockExpiration: Config.duration("COLONY_SHARD_LOCK_EXPIRATION").pipe(Config.withDefault(Duration.seconds(30))),
  livenessInterval: Config.duration("COLONY_LIVENESS_INTERVAL").pipe(Config.withDefault(Duration.millis(500))),
  refreshAssignmentsInterval: Config.duration("COLONY_REFRESH_ASSIGNMENTS_INTERVAL").pipe(
    Config.withDefault(Duration.millis(500))
  ),
  // "ping": runners ping each other; "kubernetes": a runner is alive while its pod (found by the
  // advertised host, the pod IP) is ready or initializing, read from the Kubernetes API.
  runnerHealth: Config.literal("ping", "kubernetes")("COLONY_RUNNER_HEALTH").pipe(Config.withDefault("ping" as const)),
  kubernetesNamespace: Config.option(Config.string("COLONY_KUBERNETES_NAMESPACE")),
  kubernetesLabelSelector: Config.option(Config.string("COLONY_KUBERNETES_LABEL_SELECTOR")),
  runnerHealthCheckInterval: Config.duration("COLONY_HEALTH_CHECK_INTERVAL").pipe(
    Config.withDefault(Duration.seconds(1))
  ),
  // Every runner reads the stored messages of all its shards at this pace; a stored message
  // normally wakes its entity at once, so this is the fallback, and at 500 ms its queries crowded
  // out the lock refreshes under load.
  entityMessagePollInterval: Config.duration("COLONY_MESSAGE_POLL_INTERVAL").pipe(
    Config.withDefault(Duration.seconds(2))
  )
})

type ClusterFields = Config.Config.Success<typeof clusterFields>

/** Settings from the environment, overridden by explicit ones, then the defaults that depend on others. */
const resolveFields = (
  fromEnv: ClusterFields,
  explicit: Partial<ClusterSettings> | undefined
): Omit<ClusterSettings, "secret" | "tls"> => {
  const { advertisedPort, kubernetesLabelSelector, kubernetesNamespace, listenHost, ...rest } = fromEnv
  const merged = {
    ...rest,
    kubernetesNamespace: Option.getOrUndefined(kubernetesNamespace),
    kubernetesLabelSelector: Option.getOrUndefined(kubernetesLabelSelector),
    ...explicit
  }
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
 * The cluster settings from the environment. Timing defaults are chosen under load (bench suite 8:
 * 3 runners, 300 conversations, a runner killed every 10 s on 2 cores): a live runner keeps its
 * shards through a busy second, and a dead runner's shards move within seconds (the ping health
 * check finds it at once; its lock expiry after 6 s is the fallback). The TLS files are read when a colony layer
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
        // the SqlClient stays in the context: what agents keep in storage (coordination state, an
        // application's tables) shares the colony's pool instead of opening one of its own
      ).pipe(Layer.provideMerge(sql))
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
  askFieldsKnown && payload.answerFormat === undefined
    ? 6 * (payload.prompt.length + (payload.from?.length ?? 0) + payload.messageId.length) + 64
    : Number.POSITIVE_INFINITY

// the bound holds for the three plain strings; a payload with an answer format (a JSON Schema of
// any size) or with fields added later is measured exactly
const askFieldsKnown = Object.keys(Agent.AskPayload.fields).sort().join(",") === "answerFormat,from,messageId,prompt"

const formatIssue = (error: ParseResult.ParseError): string =>
  ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s*\n\s*/g, " ")

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

interface CallOptions {
  readonly decode: boolean
  readonly timeout?: Duration.DurationInput | undefined
}

const deliver = Effect.fnUntraced(function*(
  agent: Agent.Any,
  id: string,
  tag: string,
  payload: unknown,
  options: CallOptions
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
  const decoded = options.decode
    ? yield* Effect.mapError(Schema.decodeUnknown(schema)(payload), invalid)
    : yield* construct(schema, payload, invalid)
  const settings = yield* ColonyConfig
  if (!(decoded instanceof Agent.AskPayload && askBytesAtMost(decoded) <= settings.maxPayloadBytes)) {
    const encoded = yield* Schema.encode(schema)(decoded).pipe(
      Effect.mapError((error) => new InvalidMessage({ agent: agent.type, rpc: tag, details: formatIssue(error) }))
    )
    const bytes = byteLength(encoded)
    if (bytes > settings.maxPayloadBytes) {
      return yield* new PayloadTooLarge({ agent: agent.type, rpc: tag, bytes, limit: settings.maxPayloadBytes })
    }
  }
  const after = yield* deadline(options.timeout, settings)
  const makeClient = yield* agent.client
  const method = (makeClient(id) as any)[tag] as (payload: unknown) => Effect.Effect<unknown, unknown>
  const idempotent = idempotentTags.has(tag)
  const deduplicated = Context.get(rpc.annotations, ClusterSchema.Persisted) && hasPrimaryKey(decoded)
  const repeat = (failed: Failed) =>
    failed.retry === "always" ||
    (failed.retry === "if-idempotent" && idempotent) ||
    (failed.retry === "if-safe" && (idempotent || deduplicated))
  return yield* method(decoded).pipe(
    Effect.catchAllCause(classify(def, id, tag)),
    Effect.retry({ schedule: backoff, while: repeat }),
    Effect.timeoutFail({
      duration: after,
      onTimeout: () => new Failed(new AgentCallTimeout({ agent: def.name, id, rpc: tag, after }), "never")
    }),
    Effect.mapError((failed) => failed.error)
  )
})

// --- failures of a call, and which are repeated ---
//
// A call is repeated within its deadline when repeating it cannot do anything twice:
// - whatever the RPC, when the message provably reached no handler: the connection to the runner
//   could not be opened or the message could not be written to it (a frame is read whole or not
//   at all), or the runner was unreachable;
// - when the message may have been handled (the reply was lost, storage failed), only if handling
//   it twice is harmless: `Describe` and `Forget`, and a durable agent's message with a primary
//   key, which the cluster delivers once per key and answers again from its stored reply;
// - when the handler was cut off, only `Describe` and `Forget`: a durable message cut off by a
//   shard move is replayed by the cluster itself, and one whose handler was interrupted has that
//   interruption stored as its reply, which sending it again would only fetch again.
// A volatile `Ask` (or user RPC) that may have run is not repeated: it could have called a model
// or a tool and recorded a turn. Its caller gets `AgentInterrupted` or `AgentUnavailable` and
// decides. `MailboxFull` is back-pressure for the caller to act on, and the RPC's own errors are
// answers: neither is repeated.

/** How one attempt at a call failed: the caller's error, and when repeating the call is allowed. */
class Failed {
  constructor(readonly error: unknown, readonly retry: "always" | "if-safe" | "if-idempotent" | "never") {}
}

const backoff = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.jittered
)

const idempotentTags = new Set(["Describe", "Forget"])

const hasPrimaryKey = (payload: unknown): boolean =>
  typeof payload === "object" && payload !== null && PrimaryKey.symbol in payload

const classify = (def: Agent.Definition, id: string, tag: string) =>
(cause: Cause.Cause<unknown>): Effect.Effect<never, Failed> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof ClusterError.MailboxFull) {
      return Effect.fail(new Failed(new MailboxFull({ agent: def.name, id, capacity: def.mailboxCapacity }), "never"))
    }
    if (error instanceof ClusterError.AlreadyProcessingMessage || error instanceof ClusterError.PersistenceError) {
      return Effect.fail(new Failed(new AgentUnavailable({ agent: def.name, id, reason: error._tag }), "if-safe"))
    }
    return Effect.fail(new Failed(error, "never"))
  }
  const transport = Cause.defects(cause).pipe((defects) => [...defects].find(isTransportDefect))
  if (transport !== undefined) {
    const unavailable = new AgentUnavailable({ agent: def.name, id, reason: transportReason(transport) })
    return Effect.fail(new Failed(unavailable, neverSent(transport) ? "always" : "if-safe"))
  }
  // Reached only when the caller itself was not interrupted: an interruption of the caller's
  // fiber is not caught here and stays an interruption.
  if (Cause.isInterruptedOnly(cause)) {
    return Effect.fail(new Failed(new AgentInterrupted({ agent: def.name, id, rpc: tag }), "if-idempotent"))
  }
  return Effect.failCause(cause) as Effect.Effect<never, never>
}

/**
 * The cluster reports a connection to a runner that broke mid-call as a defect of the caller's
 * fiber; to a caller it is a delivery failure like any other.
 */
const transportTags = new Set(["SocketError", "SocketGenericError", "SocketCloseError", "RpcClientError", "RunnerUnavailable"])

const tagOf = (defect: unknown): string | undefined =>
  typeof defect === "object" && defect !== null && "_tag" in defect ? String((defect as { _tag: unknown })._tag) : undefined

const isTransportDefect = (defect: unknown): boolean => transportTags.has(tagOf(defect) ?? "")

/** the message never left this process: no connection, or it could not be written */
const neverSent = (defect: unknown): boolean => {
  if (tagOf(defect) === "RunnerUnavailable") return true
  const reason = (defect as { reason?: unknown }).reason
  return tagOf(defect) === "SocketError" && (reason === "Open" || reason === "OpenTimeout" || reason === "Write")
}

const transportReason = (defect: unknown): string =>
  neverSent(defect)
    ? `its runner could not be reached (${tagOf(defect)}); the message was not delivered`
    : `the connection to its runner failed (${tagOf(defect)}); the message may or may not have been handled`

/**
 * A deadline the caller set for the calls inside an effect, in place of `COLONY_CALL_TIMEOUT`.
 */
const callTimeout = FiberRef.unsafeMake<Option.Option<Duration.Duration>>(Option.none())

const deadline = (explicit: Duration.DurationInput | undefined, settings: Settings) =>
  explicit !== undefined
    ? Effect.succeed(Duration.decode(explicit))
    : Effect.map(FiberRef.get(callTimeout), Option.getOrElse(() => settings.callTimeout))

/**
 * Give every agent call made inside `self` (by this fiber and the fibers it forks) a deadline
 * other than `COLONY_CALL_TIMEOUT`: a call with no reply by then fails with `AgentCallTimeout`.
 * Calls that agents make while handling them keep their own deadlines.
 *
 * ```ts
 * yield* support("customer-42").Ask({ prompt }).pipe(Colony.withCallTimeout("30 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category clients
 */
export const withCallTimeout: {
  (timeout: Duration.DurationInput): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, timeout: Duration.DurationInput): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, timeout: Duration.DurationInput): Effect.Effect<A, E, R> =>
    Effect.locally(self, callTimeout, Option.some(Duration.decode(timeout)))
)

/**
 * A typed client for an agent type: give it an instance id, get a method per RPC. Calls fail
 * with the RPC's own errors or a typed delivery error, never with a hang on an unknown agent,
 * a bare interruption or a broken connection: a call the agent's runner cut off is
 * `AgentInterrupted`, a lost connection `AgentUnavailable`, and a call with no reply within its
 * deadline (`timeout`, else `withCallTimeout`, else `COLONY_CALL_TIMEOUT`) `AgentCallTimeout`.
 * Calls that repeating cannot make happen twice are repeated, with backoff, until the deadline.
 *
 * @since 0.1.0
 * @category clients
 */
export const client = <Name extends string, Rpcs extends Rpc.Any>(
  agent: Agent.Agent<Name, Rpcs>,
  options?: { readonly timeout?: Duration.DurationInput | undefined }
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
          Effect.provide(deliver(agent as unknown as Agent.Any, id, tag, payload, { decode: false, timeout: options?.timeout }), context)
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
  payload: unknown,
  options?: { readonly timeout?: Duration.DurationInput | undefined }
): Effect.Effect<unknown, AgentError | DeclaredError, Services | Sharding.Sharding> =>
  Effect.flatMap(lookup(agent), (entity) => deliver(entity, id, rpc, payload, { decode: true, timeout: options?.timeout })) as Effect.Effect<
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
    /** the call's deadline, instead of `COLONY_CALL_TIMEOUT` */
    readonly timeout?: Duration.DurationInput | undefined
    /** the answer's text is JSON in this shape (see `Agent.AnswerFormat`) */
    readonly answerFormat?: ConstructorParameters<typeof Agent.AnswerFormat>[0] | undefined
  }
): Effect.Effect<Agent.Answer, AgentError | LanguageModel.ModelError, Services | Sharding.Sharding> =>
  Effect.flatMap(
    lookup(agent),
    (entity) =>
      deliver(entity, id, "Ask", {
        prompt,
        ...(options?.from === undefined ? {} : { from: options.from }),
        ...(options?.messageId === undefined ? {} : { messageId: options.messageId }),
        ...(options?.answerFormat === undefined ? {} : { answerFormat: new Agent.AnswerFormat(options.answerFormat) })
      }, { decode: false, timeout: options?.timeout }) as Effect.Effect<
        Agent.Answer,
        AgentError | LanguageModel.ModelError
      >
  )
