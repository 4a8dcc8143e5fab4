/**
 * `npm run bench [-- --quick] [-- --only hop,memory] [-- --out DIR]`: runs every suite, each in a
 * process of its own, one after the other on this machine; prints each suite's tables as it
 * finishes and writes `<suite>-<timestamp>.json` per suite plus `latest.json` (all suites and the
 * machine) under `bench/results/` (or DIR).
 */
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as Machine from "./lib/machine.js"
import type { SuiteResult } from "./lib/Suite.js"
import { render } from "./lib/table.js"
import { suites } from "./suites/index.js"

const args = process.argv.slice(2)
const flag = (name: string) => {
  const index = args.findIndex((a) => a === name || a.startsWith(`${name}=`))
  if (index === -1) return undefined
  const arg = args[index]!
  return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[index + 1]
}
const quick = args.includes("--quick")
const only = flag("--only")?.split(",").map((s) => s.trim()).filter((s) => s !== "")
const outDir = resolve(flag("--out") ?? fileURLToPath(new URL("../results", import.meta.url)))

if (args.includes("--help")) {
  console.log(`npm run bench [-- --quick] [--only ${suites.map((s) => s.id).join(",")}] [--out DIR]`)
  process.exit(0)
}
const unknown = (only ?? []).filter((id) => !suites.some((s) => s.id === id))
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(", ")}; suites: ${suites.map((s) => s.id).join(", ")}`)
  process.exit(2)
}
const selected = suites.filter((s) => only === undefined || only.includes(s.id))

const runnerEntry = fileURLToPath(new URL("./runSuite.ts", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "colony-bench-"))

const runOne = (id: string, title: string): Promise<SuiteResult> =>
  new Promise((done) => {
    const file = join(scratch, `${id}.json`)
    const started = Date.now()
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=8192", "--conditions=@colony/source", "--import", "tsx", runnerEntry, id, file, ...(quick ? ["--quick"] : [])],
      { stdio: ["ignore", "inherit", "inherit"] }
    )
    child.once("exit", (code, signal) => {
      try {
        done(JSON.parse(readFileSync(file, "utf8")) as SuiteResult)
      } catch {
        done({
          suite: id,
          title,
          status: "failed",
          error: `the suite's process exited (${signal ?? code}) without a result`,
          quick,
          startedAt: new Date(started).toISOString(),
          durationMs: Date.now() - started,
          tables: [],
          data: null
        })
      }
    })
  })

const machine = Machine.describe()
const startedAt = new Date()
const stamp = startedAt.toISOString().replace(/[:.]/g, "-")
console.log(`Colony benchmarks${quick ? " (quick)" : ""} — ${startedAt.toISOString()}`)
console.log(`machine: ${Machine.oneLine(machine)}`)
console.log("Ratios come from contenders measured side by side in one run; absolute times are for reference only.\n")

mkdirSync(outDir, { recursive: true })
const results: Array<SuiteResult> = []
for (const suite of selected) {
  console.error(`▶ ${suite.title}`)
  const result = await runOne(suite.id, suite.title)
  results.push(result)
  console.log(`\n== ${suite.title}${result.status === "ok" ? "" : ` — ${result.status.toUpperCase()}`} (${(result.durationMs / 1000).toFixed(1)} s)\n`)
  if (result.status === "skipped") {
    console.log(`${render({ title: suite.title, columns: ["suite", "status", "why"], rows: [[suite.id, "not available yet", result.skipped ?? ""]] })}\n`)
  }
  if (result.status === "failed") console.log(`${result.error}\n`)
  for (const table of result.tables) console.log(`${render(table)}\n`)
  writeFileSync(join(outDir, `${suite.id}-${stamp}.json`), JSON.stringify({ machine, result }, null, 2))
}
const summary = {
  startedAt: startedAt.toISOString(),
  durationMs: Date.now() - startedAt.getTime(),
  quick,
  machine,
  suites: results
}
writeFileSync(join(outDir, "latest.json"), JSON.stringify(summary, null, 2))
rmSync(scratch, { recursive: true, force: true })
console.log(`results: ${join(outDir, "latest.json")} and ${selected.length} per-suite file(s) (${(summary.durationMs / 1000).toFixed(0)} s)`)
process.exit(results.some((r) => r.status === "failed") ? 1 : 0)
