/**
 * `colony eval` on runners: two `colony runner --agents EvalAgents` processes on an embedded
 * Postgres host the eval's agents, asking the fake OpenAI server's scripted answers; `colony eval`,
 * with `DATABASE_URL` set, is a client-only process of theirs.
 */
import { TaskSet } from "@colony/agents"
import { FakeOpenAI } from "@colony/runtime/testing"
import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DevPostgres from "../src/runner/DevPostgres.js"
import { heldShards, killAll, spawnRunner } from "../src/runner/RunnerProcess.js"

const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))
const evalAgents = fileURLToPath(new URL("../../agents/src/EvalAgents.ts", import.meta.url))
// the multi-process tests' agents (clerk, keeper, debater): none of the eval's
const otherAgents = fileURLToPath(new URL("../../../test/support/agents.ts", import.meta.url))
const secret = "eval-runners-secret-0123456789abcdef0123456789"

const usage = { promptTokens: 10, completionTokens: 5 }
const [one, two] = TaskSet.arithmetic(2, 5) as unknown as [TaskSet.Task, TaskSet.Task]
const right = (task: TaskSet.Task) => ({ text: `{"answer": "${task.answer}"}`, usage })
const wrong = (task: TaskSet.Task) => ({ text: `{"answer": "${Number(task.answer) - 10}"}`, usage })

let pg: DevPostgres.Server
let server: FakeOpenAI.Server
const dir = mkdtempSync(join(tmpdir(), "colony-eval-runners-"))

beforeAll(async () => {
  ;[pg, server] = await Promise.all([
    DevPostgres.start({ dataDir: join(dir, "pg"), persistent: false }),
    FakeOpenAI.start({})
  ])
}, 60_000)
afterAll(async () => {
  killAll()
  await server?.close()
  await pg?.stop()
})

describe("colony eval on runners", () => {
  it("with DATABASE_URL set, the eval's agents answer from two runners and the report counts their answers exactly", async () => {
    await pg.createDatabase("eval_runners")
    const databaseUrl = pg.url("eval_runners")
    const env = { COLONY_MODEL_URL: server.url, COLONY_MODEL_KEY: "test-key", COLONY_EVAL_SOLVERS: "3", COLONY_EVAL_DOMAINS: "arithmetic" }
    const runners = await Promise.all(
      ["eval-runner-1", "eval-runner-2"].map((name) => spawnRunner({ name, databaseUrl, secret, agentsModule: evalAgents, env }))
    )
    await Promise.all(runners.map((r) => r.waitForStatus((s) => heldShards(s) > 0, 45_000)))
    server.script(
      right(one), wrong(two), // single
      right(one), right(one), wrong(one), wrong(two), wrong(two), wrong(two) // peer:3x1
    )
    const { stderr, stdout } = await promisify(execFile)(process.execPath, [
      bin, "eval", "--tasks", "arithmetic:2", "--seed", "5", "--patterns", "single,peer:3x1", "--concurrency", "1",
      "--json", "--out", join(dir, "report.json")
    ], {
      env: { ...process.env, DATABASE_URL: databaseUrl, COLONY_RUNNER_SECRET: secret, NO_COLOR: "1" },
      timeout: 60_000
    })
    const report = JSON.parse(stdout)
    expect(report).toMatchObject({ simulated: false, tasks: "arithmetic:2", model: "the models of the colony's runners" })
    expect(report.patterns.map((p: any) => [p.pattern, p.accuracy, p.calls, p.tokens, p.abstentions, p.failures])).toEqual([
      ["single", 0.5, 2, 30, 0, 0],
      ["peer:3x1", 0.5, 6, 90, 0, 0]
    ])
    expect(stderr).toContain("runners")
    // every answer came from the runners' model, the fake server: none from a model in the eval's process
    expect(server.requests()).toHaveLength(8)
    expect(new Set(server.requests().map((r) => r.body.model))).toEqual(new Set(["solver-1", "solver-2", "solver-3"]))
  }, 120_000)

  it("runners whose models are simulated make the table say so", async () => {
    await pg.createDatabase("eval_runners_simulated")
    const databaseUrl = pg.url("eval_runners_simulated")
    const env = { COLONY_MODELS: JSON.stringify({ "solver-1": { provider: "simulated" } }) }
    const runner = await spawnRunner({ name: "eval-runner-simulated", databaseUrl, secret, agentsModule: evalAgents, env })
    await runner.waitForStatus((s) => heldShards(s) > 0, 45_000)
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin, "eval", "--tasks", "arithmetic:2", "--patterns", "single", "--out", join(dir, "simulated.json")
    ], {
      env: { ...process.env, DATABASE_URL: databaseUrl, COLONY_RUNNER_SECRET: secret, NO_COLOR: "1" },
      timeout: 60_000
    })
    expect(stdout).toContain("the models of the colony's runners — SIMULATED")
    expect(stdout).toMatch(/^single\s+\d+\.\d%\s+\S+\s+2\s/m)
  }, 90_000)

  it("runners with too few solvers and no expert for the tasks' domain stop the eval before its first task, naming the settings to change", async () => {
    await pg.createDatabase("eval_runners_short")
    const databaseUrl = pg.url("eval_runners_short")
    const env = { COLONY_MODEL_URL: server.url, COLONY_MODEL_KEY: "test-key", COLONY_EVAL_SOLVERS: "2", COLONY_EVAL_DOMAINS: "arithmetic" }
    const runners = await Promise.all(
      ["eval-runner-short-1", "eval-runner-short-2"].map((name) => spawnRunner({ name, databaseUrl, secret, agentsModule: evalAgents, env }))
    )
    await Promise.all(runners.map((r) => r.waitForStatus((s) => heldShards(s) > 0, 45_000)))
    const asked = server.requests().length
    const failed = await promisify(execFile)(process.execPath, [
      bin, "eval", "--tasks", "support-kb:12", "--patterns", "single,peer:3x1,master-slave", "--out", join(dir, "short.json")
    ], {
      env: { ...process.env, DATABASE_URL: databaseUrl, COLONY_RUNNER_SECRET: secret, NO_COLOR: "1" },
      // a task waiting for solver-3 or expert-support would hold the eval for the call's deadline (minutes)
      timeout: 60_000
    }).then(() => undefined, (error) => error)
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toContain("the runners do not host the agents this eval needs")
    // both runners answered for themselves
    for (const { address } of runners) {
      expect(failed?.stderr).toContain(`runner ${address} hosts 2 solvers where peer:3x1 needs 3`)
      expect(failed?.stderr).toContain(`runner ${address} hosts no expert for support`)
    }
    expect(failed?.stderr).toContain("COLONY_EVAL_SOLVERS=3 COLONY_EVAL_DOMAINS=arithmetic,support")
    // no task started: no model was asked
    expect(failed?.stderr).not.toContain("evaluating")
    expect(server.requests()).toHaveLength(asked)
  }, 120_000)

  it("runners that do not host the eval's agents stop it after one deadline, saying what to start, instead of failing task after task", async () => {
    await pg.createDatabase("eval_runners_none")
    const databaseUrl = pg.url("eval_runners_none")
    const runner = await spawnRunner({ name: "eval-runner-other", databaseUrl, secret, agentsModule: otherAgents })
    await runner.waitForStatus((s) => heldShards(s) > 0, 45_000)
    const asked = server.requests().length
    const failed = await promisify(execFile)(process.execPath, [
      bin, "eval", "--tasks", "arithmetic:3", "--patterns", "single", "--out", join(dir, "none.json")
    ], {
      // one deadline for the check, not one per task
      env: { ...process.env, DATABASE_URL: databaseUrl, COLONY_RUNNER_SECRET: secret, COLONY_CALL_TIMEOUT: "3 seconds", NO_COLOR: "1" },
      timeout: 60_000
    }).then(() => undefined, (error) => error)
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toContain("no runner answered as the eval's coordinator")
    expect(failed?.stderr).toContain("the @colony/agents module EvalAgents")
    expect(failed?.stderr).not.toContain("evaluating")
    expect(server.requests()).toHaveLength(asked)
  }, 120_000)

  it("a model option is refused on runners, naming what applies there", async () => {
    const failed = await promisify(execFile)(process.execPath, [
      bin, "eval", "--tasks", "arithmetic:2", "--model-url", server.url, "--out", join(dir, "none.json")
    ], {
      env: { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", COLONY_RUNNER_SECRET: secret, NO_COLOR: "1" },
      timeout: 60_000
    }).then(() => undefined, (error) => error)
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toContain("--model-url does not apply to an eval on runners")
  }, 60_000)
})
