/**
 * `colony dev --runners N`: a whole colony on this machine — an embedded Postgres (data under
 * `.colony/`, reused across runs) and N runner processes — printing where each runner listens and
 * which shards it holds. Ctrl-C stops the runners (handing their shards over) and then Postgres.
 *
 * @since 0.1.0
 */
import { Console, Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import * as DevPostgres from "./DevPostgres.js"

const bin = fileURLToPath(new URL("../../bin/colony.js", import.meta.url))

/** The runner secret of this dev colony, made once and kept next to its data. */
const devSecret = (dir: string): string => {
  const file = resolve(dir, "secret")
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600 })
  return readFileSync(file, "utf8").trim()
}

const stopChild = (child: ChildProcess, name: string) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const kill = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.once("exit", () => {
      clearTimeout(kill)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  }).pipe(Effect.zipLeft(Console.log(`[${name}] stopped`)))

/**
 * @since 0.1.0
 */
export const run = (options: { readonly runners: number; readonly dir: string; readonly agents: string | undefined }) =>
  Effect.gen(function*() {
    const dir = resolve(options.dir)
    mkdirSync(dir, { recursive: true })
    const secret = devSecret(dir)
    yield* Console.log(`colony dev: starting Postgres (data in ${resolve(dir, "postgres")})`)
    const pg = yield* DevPostgres.scoped({ dataDir: resolve(dir, "postgres"), persistent: true, databases: ["colony"] })
    const url = pg.url("colony")
    yield* Console.log(`colony dev: Postgres on 127.0.0.1:${pg.port}; starting ${options.runners} runner(s)`)
    yield* Console.log(`  DATABASE_URL=${url}`)
    yield* Console.log(`  COLONY_RUNNER_SECRET is in ${resolve(dir, "secret")}`)
    for (let i = 1; i <= options.runners; i++) {
      const name = `runner-${i}`
      const port = yield* Effect.promise(() => DevPostgres.freePort())
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(process.execPath, [bin, "runner", ...(options.agents ? ["--agents", options.agents] : [])], {
            env: {
              ...process.env,
              DATABASE_URL: url,
              COLONY_RUNNER_SECRET: secret,
              COLONY_LISTEN_HOST: "127.0.0.1",
              COLONY_LISTEN_PORT: String(port),
              COLONY_ADVERTISED_HOST: "127.0.0.1"
            },
            stdio: ["ignore", "pipe", "pipe"]
          })
        ),
        (child) => stopChild(child, name)
      )
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on("line", (line) => console.log(`[${name}] ${line}`))
      }
      child.once("exit", (code, signal) => {
        if (code !== 0 && signal !== "SIGTERM") console.log(`[${name}] exited (${signal ?? `code ${code}`})`)
      })
    }
    return yield* Effect.never
  }).pipe(Effect.scoped)
