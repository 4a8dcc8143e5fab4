import * as HttpServer from "@effect/platform/HttpServer"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Gateway from "../src/Gateway.js"
import * as DevPostgres from "../src/runner/DevPostgres.js"
import { heldShards, type StatusLine } from "../src/runner/RunnerProcess.js"
import * as Tasks from "../src/tasks/Tasks.js"

const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))
const secret = "tasks-runner-secret-0123456789abcdef0123456789"

let pg: DevPostgres.Server
let runner: ChildProcess | undefined

beforeAll(async () => {
  pg = await DevPostgres.start({ dataDir: join(mkdtempSync(join(tmpdir(), "colony-tasks-")), "pg"), persistent: false })
}, 60_000)
afterAll(async () => {
  runner?.kill("SIGKILL")
  await pg?.stop()
})

/** `colony runner --json` as main.ts wires it: no `--agents`, so it hosts main.ts's applications. */
const startRunner = async (databaseUrl: string) => {
  const port = await DevPostgres.freePort()
  const child = spawn(process.execPath, [bin, "runner", "--json"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      COLONY_RUNNER_SECRET: secret,
      COLONY_LISTEN_HOST: "127.0.0.1",
      COLONY_LISTEN_PORT: String(port),
      COLONY_ADVERTISED_HOST: "127.0.0.1",
      NO_COLOR: "1"
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  runner = child
  const output: Array<string> = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the runner held no shard within 45 s:\n${output.join("\n")}`)), 45_000)
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        output.push(line)
        if (!line.startsWith("{")) return
        if (heldShards(JSON.parse(line) as StatusLine) > 0) {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    child.once("exit", (code) => reject(new Error(`the runner exited (${code}):\n${output.join("\n")}`)))
  })
}

describe("tasks in front of runners", () => {
  it("a gateway that is a client of colony runner (without --agents) processes a task on the runner's agents", async () => {
    await pg.createDatabase("tasks_runners")
    const url = pg.url("tasks_runners")
    await startRunner(url)
    const gateway = ManagedRuntime.make(Gateway.layerClient({
      applications: [Tasks.application],
      settings: { port: 0, keys: [Redacted.make("k")], rateLimit: 0 },
      colony: { databaseUrl: Redacted.make(url), cluster: { secret: Redacted.make(secret) } }
    }))
    try {
      const address = await gateway.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
      if (address._tag !== "TcpAddress") throw new Error("the gateway is not on TCP")
      const response = await fetch(`http://127.0.0.1:${address.port}/tasks/process_task`, {
        method: "POST",
        headers: { authorization: "Bearer k", "content-type": "application/json" },
        body: JSON.stringify({ task: "Name a city, and a dish from it", workers: 2 })
      })
      expect(response.status).toBe(200)
      const result = (await response.json()) as { id: string; simulated: boolean; complete: boolean; parts: Array<{ worker: string }> }
      expect(result.simulated).toBe(true)
      expect(result.complete).toBe(true)
      expect(result.parts.map((p) => p.worker)).toEqual([`task-worker/${result.id}-w1`, `task-worker/${result.id}-w2`])
    } finally {
      await gateway.dispose()
    }
  }, 120_000)
})
