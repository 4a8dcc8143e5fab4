import { TaskSet } from "@colony/agents"
import { FakeOpenAI } from "@colony/runtime/testing"
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))
const colony = (args: ReadonlyArray<string>) =>
  promisify(execFile)(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1" }, timeout: 90_000 })

const usage = { promptTokens: 10, completionTokens: 5 }
const [one, two] = TaskSet.arithmetic(2, 5) as unknown as [TaskSet.Task, TaskSet.Task]
const right = (task: TaskSet.Task) => ({ text: `{"answer": "${task.answer}"}`, usage })
const wrong = (task: TaskSet.Task) => ({ text: `{"answer": "${Number(task.answer) - 10}"}`, usage })

describe("colony eval", () => {
  let server: FakeOpenAI.Server
  const dir = mkdtempSync(join(tmpdir(), "colony-eval-"))
  beforeAll(async () => {
    server = await FakeOpenAI.start({})
  })
  afterAll(() => server?.close())

  it("against an endpoint with scripted answers it reports exactly the expected accuracies, calls and tokens, and writes them", async () => {
    server.script(
      right(one), wrong(two), // single
      right(one), right(one), wrong(one), wrong(two), wrong(two), wrong(two) // peer:3x1
    )
    const out = join(dir, "report.json")
    const { stderr, stdout } = await colony([
      "eval", "--tasks", "arithmetic:2", "--seed", "5", "--patterns", "single,peer:3x1", "--concurrency", "1",
      "--model-url", server.url, "--model-id", "fake-model", "--prices", "2,8", "--json", "--out", out
    ])
    const report = JSON.parse(stdout)
    expect(report).toMatchObject({ simulated: false, tasks: "arithmetic:2", model: `fake-model at ${server.url}` })
    expect(report.patterns.map((p: any) => [p.pattern, p.accuracy, p.calls, p.tokens, p.abstentions, p.failures])).toEqual([
      ["single", 0.5, 2, 30, 0, 0],
      ["peer:3x1", 0.5, 6, 90, 0, 0]
    ])
    expect(report.patterns[1].cost).toBeCloseTo(6 * (10 * 2 + 5 * 8) / 1e6, 12)
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(report)
    expect(stderr).toContain("peer:3x1")
    expect(stderr).toContain("2/2")
    expect(server.requests().every((r) => r.body.model === "fake-model")).toBe(true)
  }, 120_000)

  it("offline, the table comes from the skill model and says it is simulated", async () => {
    const { stdout } = await colony(["eval", "--tasks", "mixed:9", "--patterns", "single,master-slave", "--out", join(dir, "offline.json")])
    expect(stdout).toContain("SIMULATED")
    expect(stdout).toMatch(/^single\s+\d+\.\d%/m)
    expect(stdout).toMatch(/^master-slave\s+\d+\.\d%/m)
  }, 120_000)

  it("a malformed task file is an error naming the file and the line", async () => {
    const file = join(dir, "tasks.jsonl")
    writeFileSync(file, `{"task": "2+2?", "answer": 4}\n{"task": "3+3?"}\n`)
    const failed = await colony(["eval", "--tasks", file, "--out", join(dir, "none.json")]).then(() => undefined, (error) => error)
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toContain(`${file} line 2: `)
    expect(failed?.stderr).toContain("answer")
  }, 120_000)
})
