/**
 * One suite in a process of its own (started by `main.ts` with `--expose-gc`): runs it and writes
 * its result as JSON to the file named on the command line. Progress goes to stderr.
 *
 *   node --expose-gc --conditions=@colony/source --import tsx src/runSuite.ts <suite> <result.json> [--quick]
 */
import { writeFileSync } from "node:fs"
import type { SuiteResult } from "./lib/Suite.js"
import { suites } from "./suites/index.js"

const [id, out] = process.argv.slice(2)
const quick = process.argv.includes("--quick")
const entry = suites.find((s) => s.id === id)
if (entry === undefined || out === undefined) {
  console.error(`usage: runSuite <${suites.map((s) => s.id).join("|")}> <result.json> [--quick]`)
  process.exit(2)
}

const startedAt = new Date()
const base = { suite: entry.id, title: entry.title, quick, startedAt: startedAt.toISOString() }
let result: SuiteResult
try {
  const suite = await entry.load()
  const body = await suite.run({ quick, log: (line) => console.error(`  ${line}`) })
  result = { ...base, status: "ok", ...body, durationMs: Date.now() - startedAt.getTime() }
} catch (error) {
  result = {
    ...base,
    status: "failed",
    error: error instanceof Error ? error.stack ?? error.message : String(error),
    durationMs: Date.now() - startedAt.getTime(),
    tables: [],
    data: null
  }
}
writeFileSync(out, JSON.stringify(result, null, 2))
// Whatever a framework left running (timers, sockets) must not keep the suite alive.
process.exit(0)
