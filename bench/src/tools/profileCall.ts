/**
 * Profile one contender's single-agent call: N sequential calls against the fake server (in its
 * own process), after a warm-up. Run it under the profiler and read the result with `cpuTop.ts`:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=@colony/source --import tsx bench/src/tools/profileCall.ts colony 5000
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=@colony/source --import tsx bench/src/tools/profileCall.ts colony 1000 team
 *   npx tsx bench/src/tools/cpuTop.ts /tmp/prof/<file>.cpuprofile
 */
import type { Contender } from "../contenders/Contender.js"
import * as FakeServer from "../lib/fakeServer.js"
import { PROMPT, TASK } from "../lib/workload.js"

const [id = "colony", count = "3000", shape = "single"] = process.argv.slice(2)
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
// "single": one agent answering one prompt; "team": the collaboration suite's coordinator and
// four workers on one task (the same agents every run, like its warm row)
const subject = shape === "team"
  ? await contender.team!({ baseUrl: server.url, maxConcurrency: 64, workers: 4 }).then((team) => ({
    call: () => team.run(TASK, "profile"),
    close: () => team.close()
  }))
  : await contender.singleAgent!({ baseUrl: server.url, maxConcurrency: 64 }).then((agent) => ({
    call: () => agent.call(PROMPT, "profile"),
    close: () => agent.close()
  }))
for (let i = 0; i < 300; i++) await subject.call()
const started = performance.now()
const cpu = process.cpuUsage()
for (let i = 0; i < Number(count); i++) await subject.call()
const elapsed = performance.now() - started
const used = process.cpuUsage(cpu)
const per = (micros: number) => (micros / Number(count)).toFixed(0)
console.log(
  `${id} (${shape}): ${count} calls, ${per(elapsed * 1000)} µs per call, ${per(used.user + used.system)} µs CPU per call`
)
await subject.close()
await server.close()
process.exit(0)
