/**
 * A `colony runner` process started from Node, for tests and benchmarks that need real runner
 * processes: it reports the runner's JSON status lines as they arrive and can wait for one.
 *
 * @since 0.1.0
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import * as DevPostgres from "./DevPostgres.js"

const bin = fileURLToPath(new URL("../../bin/colony.js", import.meta.url))

/**
 * One line of `colony runner --json`.
 *
 * @since 0.1.0
 */
export interface StatusLine {
  readonly event: "started" | "status"
  readonly address: string
  readonly shards: Record<string, number>
  readonly shardIds: Record<string, ReadonlyArray<number>>
  readonly activeAgents: number
}

/**
 * @since 0.1.0
 */
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

/**
 * Start a runner on a free loopback port hosting the agents of `agentsModule`.
 *
 * @since 0.1.0
 */
export const spawnRunner = async (options: {
  readonly name: string
  readonly databaseUrl: string
  readonly secret: string
  readonly agentsModule: string
  readonly env?: Record<string, string> | undefined
}): Promise<RunnerProcess> => {
  const port = await DevPostgres.freePort()
  const child = spawn(process.execPath, [bin, "runner", "--json", "--agents", options.agentsModule], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      COLONY_RUNNER_SECRET: options.secret,
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

/**
 * How many shards a status line says the runner holds.
 *
 * @since 0.1.0
 */
export const heldShards = (status: StatusLine) => Object.values(status.shards).reduce((a, b) => a + b, 0)

/**
 * Kill every runner this process started and is still running (after a failed test or run).
 *
 * @since 0.1.0
 */
export const killAll = () => {
  for (const child of running) child.kill("SIGKILL")
}

