/**
 * Profile one contender's single-agent call: N sequential calls against the fake server (in its
 * own process), after a warm-up. Run it under the profiler and read the result with `cpuTop.ts`:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/src/tools/profileCall.ts colony 5000
 *   npx tsx bench/src/tools/cpuTop.ts /tmp/prof/<file>.cpuprofile
 */
import type { Contender } from "../contenders/Contender.js"
import * as FakeServer from "../lib/fakeServer.js"
import { PROMPT } from "../lib/workload.js"

const [id = "colony", count = "3000"] = process.argv.slice(2)
// only the contender profiled is loaded, so the profile holds no other framework's start-up
const modules: Record<string, readonly [string, string]> = {
  raw: ["../contenders/raw.js", "raw"],
  colony: ["../contenders/colony.js", "colony"],
  langgraph: ["../contenders/langgraph.js", "langgraph"],
  "openai-agents": ["../contenders/openaiAgents.js", "openaiAgents"],
  mastra: ["../contenders/mastra.js", "mastra"]
}
const entry = modules[id]
if (entry === undefined) throw new Error(`no contender ${id}; contenders: ${Object.keys(modules).join(", ")}`)
const contender = (await import(entry[0]))[entry[1]] as Contender
const server = await FakeServer.start({ latencyMs: 0 })
const agent = await contender.singleAgent!({ baseUrl: server.url, maxConcurrency: 64 })
for (let i = 0; i < 300; i++) await agent.call(PROMPT, "profile")
const started = performance.now()
for (let i = 0; i < Number(count); i++) await agent.call(PROMPT, "profile")
const elapsed = performance.now() - started
console.log(`${id}: ${count} calls, ${((elapsed * 1000) / Number(count)).toFixed(0)} µs per call`)
await agent.close()
await server.close()
process.exit(0)
