/**
 * Keeps the benchmarks from rotting: `npm run bench -- --quick` runs every suite and must print
 * each suite's tables and write its JSON. What is asserted is the shape of the output, never a
 * figure: the numbers belong to the machine.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const out = mkdtempSync(join(tmpdir(), "colony-bench-test-"))

afterAll(() => rmSync(out, { recursive: true, force: true }))

const runQuick = () =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("npm", ["run", "bench", "--", "--quick", "--out", out], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.once("exit", (code) => resolve({ code, stdout, stderr }))
  })

interface Table {
  readonly title: string
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<unknown>>
}
interface SuiteResult {
  readonly suite: string
  readonly title: string
  readonly status: "ok" | "skipped" | "failed"
  readonly skipped?: string
  readonly error?: string
  readonly quick: boolean
  readonly tables: ReadonlyArray<Table>
  readonly data?: unknown
}

const suites = ["hop", "collaboration", "throughput", "memory", "postgres", "gateway", "support", "chaos", "accuracy"]

describe("npm run bench -- --quick", () => {
  it("runs every suite, prints its tables and writes JSON with the machine", async () => {
    const { code, stdout, stderr } = await runQuick()
    expect(code, `bench failed:\n${stdout}\n${stderr.slice(-4000)}`).toBe(0)

    const latest = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as {
      readonly quick: boolean
      readonly machine: { readonly cpuModel: string; readonly cores: number; readonly memoryBytes: number; readonly node: string }
      readonly suites: ReadonlyArray<SuiteResult>
    }
    expect(latest.quick).toBe(true)
    expect(latest.machine.cpuModel.length).toBeGreaterThan(0)
    expect(latest.machine.cores).toBeGreaterThan(0)
    expect(latest.machine.memoryBytes).toBeGreaterThan(0)
    expect(latest.machine.node).toBe(process.version)
    expect(latest.suites.map((s) => s.suite)).toEqual(suites)

    const files = readdirSync(out)
    for (const result of latest.suites) {
      expect(result.status, `${result.suite}: ${result.error ?? ""}`).not.toBe("failed")
      expect(files.some((f) => f.startsWith(`${result.suite}-`) && f.endsWith(".json"))).toBe(true)
      expect(stdout).toContain(result.title)
      if (result.status === "skipped") {
        expect(stdout).toContain("not available yet")
        continue
      }
      expect(result.tables.length).toBeGreaterThan(0)
      for (const table of result.tables) {
        expect(table.rows.length).toBeGreaterThan(0)
        for (const row of table.rows) expect(row.length).toBe(table.columns.length)
        // the printed table: its title, then its header line with every column
        expect(stdout).toContain(table.title)
        const header = stdout.split("\n").find((line) => table.columns.every((c) => line.includes(c)))
        expect(header, `${table.title}: no header line with ${table.columns.join(", ")}`).toBeDefined()
      }
    }

    // the contenders the issue names are all in the hop table, doing the same work as the raw client
    const hop = latest.suites.find((s) => s.suite === "hop")!
    const labels = hop.tables[0]!.rows.map((row) => String(row[0]))
    for (const name of ["openai client", "Colony", "LangGraph", "OpenAI Agents", "Mastra"]) {
      expect(labels.some((l) => l.includes(name)), `${name} in ${labels.join(", ")}`).toBe(true)
    }
    for (const row of hop.tables[0]!.rows) expect(row.at(-1)).toBe("same requests")

    // the short chaos run: runners killed under load change nothing a caller of a durable agent
    // sees, and a volatile caller gets typed failures only
    const chaos = latest.suites.find((s) => s.suite === "chaos")!.data as {
      readonly rows: ReadonlyArray<{
        readonly kind: string
        readonly answered: number
        readonly failed: number
        readonly hung: number
        readonly lost: number
        readonly duplicated: number
        readonly byTag: Record<string, number>
      }>
    }
    const durable = chaos.rows.find((r) => r.kind === "durable")!
    expect(durable.answered).toBeGreaterThan(0)
    expect({ failed: durable.failed, hung: durable.hung, lost: durable.lost, duplicated: durable.duplicated })
      .toEqual({ failed: 0, hung: 0, lost: 0, duplicated: 0 })
    const volatile = chaos.rows.find((r) => r.kind === "volatile")!
    expect(volatile.hung).toBe(0)
    expect(Object.keys(volatile.byTag).filter((tag) => tag === "interrupt" || tag.startsWith("defect"))).toEqual([])
  }, 480_000)
})
