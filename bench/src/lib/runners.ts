/**
 * Real processes for the Postgres suite: an embedded Postgres, runner processes started with the
 * `colony runner` CLI hosting `runnerAgents.ts` (through `@colony/apps/RunnerProcess`, as the
 * multi-process tests do), and a client-only colony in this process.
 */
import * as DevPostgres from "@colony/apps/DevPostgres"
import * as Runners from "@colony/apps/RunnerProcess"
import { Colony } from "@colony/runtime"
import { Layer, ManagedRuntime, Redacted } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Clerk, Keeper } from "./runnerAgents.js"

const agentsModule = fileURLToPath(new URL("./runnerAgents.ts", import.meta.url))

const SECRET = "bench-secret-0123456789abcdef0123456789abcdef"

export const startPostgres = () =>
  DevPostgres.start({ dataDir: join(mkdtempSync(join(tmpdir(), "colony-bench-")), "pg"), persistent: false })

let databases = 0
/** A database of its own per cluster: the cluster's advisory lock ids are not per table prefix. */
export const freshDatabase = async (pg: DevPostgres.Server) => {
  const name = `bench_${process.pid}_${++databases}`
  await pg.createDatabase(name)
  return pg.url(name)
}

export type StatusLine = Runners.StatusLine
export type RunnerProcess = Runners.RunnerProcess
export const heldShards = Runners.heldShards
export const killAll = Runners.killAll

export const spawnRunner = (options: {
  readonly name: string
  readonly databaseUrl: string
  readonly env: Record<string, string>
}) => Runners.spawnRunner({ ...options, secret: SECRET, agentsModule })

/** A client-only colony in this process, knowing the runners' agents. */
export const client = (databaseUrl: string) =>
  ManagedRuntime.make(
    Colony.declare(Clerk, Keeper).pipe(
      Layer.provideMerge(
        Colony.layerClientOnly({ databaseUrl: Redacted.make(databaseUrl), cluster: { secret: Redacted.make(SECRET) } })
      )
    )
  )
