/**
 * Real processes for multi-runner tests: an embedded Postgres, runner processes started with the
 * `colony runner` CLI, and a client-only colony in the test process.
 */
import * as DevPostgres from "@colony/apps/DevPostgres"
import { Colony } from "@colony/runtime"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Clerk, Debater, Keeper } from "./agents.js"

const bin = fileURLToPath(new URL("../../packages/apps/bin/colony.js", import.meta.url))
const agentsModule = fileURLToPath(new URL("./agents.ts", import.meta.url))

export const SECRET = "test-secret-0123456789abcdef"

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

export interface StatusLine {
  readonly event: "started" | "status"
  readonly address: string
  readonly shards: Record<string, number>
  readonly shardIds: Record<string, ReadonlyArray<number>>
  readonly activeAgents: number
}

export interface RunnerProcess {
  readonly name: string
  readonly port: number
  readonly address: string
  readonly child: ChildProcess
  readonly output: Array<string>
  readonly statuses: Array<StatusLine>
  /** resolves with the first status line that satisfies the predicate */
  readonly waitForStatus: (predicate: (status: StatusLine) => boolean, timeoutMs?: number) => Promise<StatusLine>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  readonly kill: (signal: NodeJS.Signals) => void
}

const running = new Set<ChildProcess>()

export const spawnRunner = async (options: {
  readonly modelUrl?: string
  readonly name: string
  readonly databaseUrl: string
  readonly secret?: string
  readonly env?: Record<string, string>
}): Promise<RunnerProcess> => {
  const port = await DevPostgres.freePort()
  const child = spawn(process.execPath, [bin, "runner", "--json", "--agents", agentsModule], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      COLONY_RUNNER_SECRET: options.secret ?? SECRET,
      COLONY_LISTEN_HOST: "127.0.0.1",
      COLONY_LISTEN_PORT: String(port),
      COLONY_ADVERTISED_HOST: "127.0.0.1",
      NO_COLOR: "1",
      ...(options.modelUrl ? { COLONY_MODEL_URL: options.modelUrl, COLONY_MODEL_KEY: "test-key" } : {}),
      ...options.env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  running.add(child)
  const output: Array<string> = []
  const statuses: Array<StatusLine> = []
  const waiters = new Set<(status: StatusLine) => void>()
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      output.push(line)
      if (!line.startsWith("{")) return
      try {
        const status = JSON.parse(line) as StatusLine
        statuses.push(status)
        for (const waiter of waiters) waiter(status)
      } catch {
        // not a status line
      }
    })
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  )
  const waitForStatus = (predicate: (status: StatusLine) => boolean, timeoutMs = 30_000) =>
    new Promise<StatusLine>((resolve, reject) => {
      const found = statuses.find(predicate)
      if (found) return resolve(found)
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`${options.name}: no matching status within ${timeoutMs} ms; output:\n${output.join("\n")}`))
      }, timeoutMs)
      const check = (status: StatusLine) => {
        if (!predicate(status)) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve(status)
      }
      waiters.add(check)
      void exited.then(({ code, signal }) => {
        if (!waiters.has(check)) return
        clearTimeout(timer)
        waiters.delete(check)
        reject(new Error(`${options.name} exited (${signal ?? code}) before the status; output:\n${output.join("\n")}`))
      })
    })
  return {
    name: options.name,
    port,
    address: `127.0.0.1:${port}`,
    child,
    output,
    statuses,
    waitForStatus,
    exited,
    kill: (signal) => child.kill(signal)
  }
}

export const heldShards = (status: StatusLine) => Object.values(status.shards).reduce((a, b) => a + b, 0)

/** Kill whatever a failed test left running. */
export const killAll = () => {
  for (const child of running) child.kill("SIGKILL")
}

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
 * the shards it holds whenever that changes).
 */
export const hostOf = (runners: ReadonlyArray<RunnerProcess>, entityId: string) =>
  Effect.map(Colony.shardOf(entityId), (shard) =>
    runners.find((runner) => {
      if (runner.child.exitCode !== null || runner.child.signalCode !== null) return false
      const last = runner.statuses.at(-1)
      return last?.shardIds[shard.group]?.includes(shard.id) ?? false
    }))
