/**
 * The layers of a Postgres-backed colony: a runner that hosts agents, a client-only process that
 * calls them, and the declaration of agent types a process calls without hosting.
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import type * as Sharding from "@effect/cluster/Sharding"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Config, Effect, Layer, Option, type Redacted } from "effect"
import type * as Agent from "../../Agent.js"
import * as AgentMemory from "../../AgentMemory.js"
import { type RunnerRefused, StartFailed } from "../../ColonyError.js"
import * as Events from "../../Events.js"
import type * as LanguageModel from "../../LanguageModel.js"
import * as Supervision from "../../Supervision.js"
import * as Registry from "../registry.js"
import * as Runner from "../runner.js"
import { type ClusterSettings, clusterFields, databaseConfig, resolveFields, tlsConfig } from "./clusterConfig.js"
import { ColonyConfig, modelsFromConfig, Placement, type Services, type Settings, settingsConfig } from "./config.js"

export interface ClusterOptions {
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
