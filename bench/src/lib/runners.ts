/**
 * Real processes for the Postgres suite: an embedded Postgres, runner processes started with the
 * `colony runner` CLI hosting `runnerAgents.ts`, and a client-only colony in this process. The
 * same set-up as the multi-process tests (`test/support/cluster.ts`), kept here so the bench does
 * not depend on the test runner.
 */
import * as DevPostgres from "@colony/apps/DevPostgres"
import { Colony } from "@colony/runtime"
import { Layer, ManagedRuntime, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Clerk, Keeper } from "./runnerAgents.js"

const bin = fileURLToPath(new URL("../../../packages/apps/bin/colony.js", import.meta.url))
const agentsModule = fileURLToPath(new URL("./runnerAgents.ts", import.meta.url))

const SECRET = "bench-secret-0123456789abcdef"

export const startPostgres = () =>
  DevPostgres.start({ dataDir: join(mkdtempSync(join(tmpdir(), "colony-bench-")), "pg"), persistent: false })

let databases = 0
/** A database of its own per cluster: the cluster's advisory lock ids are not per table prefix. */
export const freshDatabase = async (pg: DevPostgres.Server) => {
  const name = `bench_${process.pid}_${++databases}`
  await pg.createDatabase(name)
  return pg.url(name)
}

export interface StatusLine {
  readonly event: "started" | "status"
  readonly address: string
  readonly shards: Record<string, number>
}

export interface RunnerProcess {
  readonly address: string
  readonly waitForStatus: (predicate: (status: StatusLine) => boolean, timeoutMs: number) => Promise<StatusLine>
  readonly exited: Promise<void>
  readonly kill: (signal: NodeJS.Signals) => void
}

const running = new Set<ChildProcess>()

export const spawnRunner = async (options: {
  readonly name: string
  readonly databaseUrl: string
  readonly env: Record<string, string>
}): Promise<RunnerProcess> => {
  const port = await DevPostgres.freePort()
  const child = spawn(process.execPath, [bin, "runner", "--json", "--agents", agentsModule], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      COLONY_RUNNER_SECRET: SECRET,
      COLONY_LISTEN_HOST: "127.0.0.1",
      COLONY_LISTEN_PORT: String(port),
      COLONY_ADVERTISED_HOST: "127.0.0.1",
      NO_COLOR: "1",
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
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      running.delete(child)
      resolve()
    })
  )
  const waitForStatus = (predicate: (status: StatusLine) => boolean, timeoutMs: number) =>
    new Promise<StatusLine>((resolve, reject) => {
      const found = statuses.find(predicate)
      if (found) return resolve(found)
      const check = (status: StatusLine) => {
        if (!predicate(status)) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve(status)
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`${options.name}: no matching status within ${timeoutMs} ms; output:\n${output.slice(-40).join("\n")}`))
      }, timeoutMs)
      waiters.add(check)
    })
  return { address: `127.0.0.1:${port}`, waitForStatus, exited, kill: (signal) => child.kill(signal) }
}

export const heldShards = (status: StatusLine) => Object.values(status.shards).reduce((a, b) => a + b, 0)

export const killAll = () => {
  for (const child of running) child.kill("SIGKILL")
}

/** A client-only colony in this process, knowing the runners' agents. */
export const client = (databaseUrl: string) =>
  ManagedRuntime.make(
    Colony.declare(Clerk, Keeper).pipe(
      Layer.provideMerge(
        Colony.layerClientOnly({ databaseUrl: Redacted.make(databaseUrl), cluster: { secret: Redacted.make(SECRET) } })
      )
    )
  )
