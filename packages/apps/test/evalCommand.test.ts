import { TaskSet } from "@colony/agents"
import { FakeOpenAI } from "@colony/runtime/testing"
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as KnowledgeBaseTasks from "../src/support/eval/KnowledgeBaseTasks.js"

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

  it("the support desk's knowledge-base set scores choices of articles exactly, debates included", async () => {
    const [q1, q2] = KnowledgeBaseTasks.make(2, 4) as unknown as [TaskSet.Task, TaskSet.Task]
    const pick = (option: string) => ({ text: `The article is this one.\n{"answer": ${JSON.stringify(option)}}`, usage })
    const other = (task: TaskSet.Task) => pick(task.options!.find((o) => o !== task.answer)!)
    server.script(
      pick(q1.answer), other(q2), // single
      pick(q1.answer), pick(q1.answer), other(q1), other(q2), other(q2), pick(q2.answer) // peer:3x1
    )
    const { stdout } = await colony([
      "eval", "--tasks", "support-kb:2", "--seed", "4", "--patterns", "single,peer:3x1", "--concurrency", "1",
      "--model-url", server.url, "--model-id", "fake-model", "--json", "--out", join(dir, "kb.json")
    ])
    const report = JSON.parse(stdout)
    expect(report.tasks).toBe("support-kb:2")
    expect(report.patterns.map((p: any) => [p.pattern, p.accuracy, p.calls, p.abstentions, p.failures])).toEqual([
      ["single", 0.5, 2, 0, 0],
      ["peer:3x1", 0.5, 6, 0, 0]
    ])
    // every agent saw the quoted question and the four articles to choose from
    const asked = server.requests().slice(-8).map((r) => JSON.stringify(r.body.messages))
    const asks = (m: string, task: TaskSet.Task) => m.includes(JSON.stringify(task.task).slice(1, -1))
    expect(asked.filter((m) => asks(m, q1))).toHaveLength(4)
    expect(asked.filter((m) => asks(m, q2))).toHaveLength(4)
    expect(asked.every((m) => (asks(m, q1) ? q1 : q2).options!.every((o) => m.includes(o)))).toBe(true)
  }, 120_000)

  it("offline, the knowledge-base set runs every pattern on the skill model, and a debate's majority beats one agent", async () => {
    const { stdout } = await colony([
      "eval", "--tasks", "support-kb:30", "--patterns", "single,peer:3x2,master-slave,hybrid", "--json", "--out", join(dir, "kb-offline.json")
    ])
    const report = JSON.parse(stdout)
    expect(report.simulated).toBe(true)
    const byName = Object.fromEntries(report.patterns.map((p: any) => [p.pattern, p]))
    expect(Object.keys(byName)).toEqual(["single", "peer:3x2", "master-slave", "hybrid:3x3x1"])
    for (const p of report.patterns) expect([p.failures, p.abstentions]).toEqual([0, 0])
    // three peers at 0.6 vote right about 65 % of the time in round 1 (more after debate); the
    // expert for "support" is right at 0.8: the skill model's choices, not the first option
    expect(byName["peer:3x2"].accuracy).toBeGreaterThan(byName["single"].accuracy)
    expect(byName["peer:3x2"].rounds[0]).toBeGreaterThan(0.5)
    expect(byName["hybrid:3x3x1"].accuracy).toBeGreaterThan(0.5)
    expect(byName["master-slave"].accuracy).toBeGreaterThan(0.6)
  }, 120_000)

  it("--tasks lists the application's sets in its help, and an unknown set's error names them", async () => {
    const { stdout } = await colony(["eval", "--help"])
    expect(stdout).toContain("support-kb, arithmetic, word-problems")
    expect(stdout).toContain("support-kb: which help-centre article answers a customer")
    const failed = await colony(["eval", "--tasks", "support-faq:5", "--out", join(dir, "none.json")]).then(() => undefined, (error) => error)
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toContain(`"support-faq:5" names no task set; write <set>:<count> with set one of support-kb, arithmetic`)
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
