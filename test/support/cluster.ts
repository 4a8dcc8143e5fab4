/**
 * Real processes for multi-runner tests: an embedded Postgres, runner processes started with the
 * `colony runner` CLI, and a client-only colony in the test process.
 */
import * as DevPostgres from "@colony/apps/DevPostgres"
import * as Runners from "@colony/apps/RunnerProcess"
import { Colony } from "@colony/runtime"
import { Effect, Layer, ManagedRuntime, Redacted, Schedule } from "effect"
import { afterAll, beforeAll } from "vitest"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Clerk, Debater, Keeper } from "./agents.js"

const agentsModule = fileURLToPath(new URL("./agents.ts", import.meta.url))

export const SECRET = "test-secret-0123456789abcdef0123456789abcdef"

export const startPostgres = () =>
  DevPostgres.start({ dataDir: join(mkdtempSync(join(tmpdir(), "colony-test-")), "pg"), persistent: false })

/**
 * One embedded Postgres for a test file: started before its tests, stopped after them together
 * with any runner a failed test left behind. Returns a getter for the server.
 */
export const postgresPerFile = (): (() => DevPostgres.Server) => {
  let pg: DevPostgres.Server | undefined
  beforeAll(async () => {
    pg = await startPostgres()
  }, 60_000)
  afterAll(async () => {
    killAll()
    await pg?.stop()
  })
  return () => {
    if (pg === undefined) throw new Error("Postgres is not started yet: use it inside a test")
    return pg
  }
}

/** Every cluster gets its own database: the cluster's advisory lock ids are not per table prefix. */
let databases = 0
export const freshDatabase = async (pg: DevPostgres.Server) => {
  const name = `colony_${process.pid}_${++databases}`
  await pg.createDatabase(name)
  return pg.url(name)
}

export type StatusLine = Runners.StatusLine
export type RunnerProcess = Runners.RunnerProcess
export const heldShards = Runners.heldShards
export const killAll = Runners.killAll

export const spawnRunner = (options: {
  readonly modelUrl?: string
  readonly name: string
  readonly databaseUrl: string
  readonly secret?: string
  readonly env?: Record<string, string>
}) =>
  Runners.spawnRunner({
    name: options.name,
    databaseUrl: options.databaseUrl,
    secret: options.secret ?? SECRET,
    agentsModule,
    env: {
      ...(options.modelUrl ? { COLONY_MODEL_URL: options.modelUrl, COLONY_MODEL_KEY: "test-key" } : {}),
      ...options.env
    }
  })

/** A client-only colony in the test process, knowing the test agents. */
export const client = (databaseUrl: string) =>
  ManagedRuntime.make(
    Colony.declare(Clerk, Keeper, Debater).pipe(
      Layer.provideMerge(
        Colony.layerClientOnly({
          databaseUrl: Redacted.make(databaseUrl),
          cluster: { secret: Redacted.make(SECRET) }
        })
      )
    )
  )

/**
 * The runner holding an entity's shard now, from the runners' own status reports (each reports
 * the shards it holds whenever that changes, checked every second). While shards move between
 * runners no report may claim the shard yet, so the reports are read again until one does, for up
 * to 10 s; `undefined` after that.
 */
export const hostOf = (runners: ReadonlyArray<RunnerProcess>, entityId: string) =>
  Effect.flatMap(Colony.shardOf(entityId), (shard) => {
    const holder = Effect.sync(() =>
      runners.find((runner) => {
        if (runner.child.exitCode !== null || runner.child.signalCode !== null) return false
        const last = runner.statuses.at(-1)
        return last?.shardIds[shard.group]?.includes(shard.id) ?? false
      })
    )
    return holder.pipe(
      Effect.flatMap(Effect.fromNullable),
      Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("10 seconds"))),
      Effect.orElseSucceed(() => undefined)
    )
  })
