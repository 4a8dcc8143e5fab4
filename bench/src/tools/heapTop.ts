/**
 * Summarise a V8 heap snapshot: objects grouped by constructor (or type and name), with counts
 * and self sizes, largest first. Given the number of agents in the heap, also per agent — the
 * groups whose count is a multiple of the agents are what each agent holds.
 *
 *   BENCH_HEAP_SNAPSHOT=/tmp/idle.heapsnapshot node --expose-gc --conditions=@colony/source --import tsx bench/src/suites/memoryProbe.ts 5000 describe idle 600000
 *   npx tsx bench/src/tools/heapTop.ts /tmp/idle.heapsnapshot 5000 [top]
 */
import { readFileSync } from "node:fs"

const [file, agentsArg = "1", topArg = "40"] = process.argv.slice(2)
const agents = Number(agentsArg)
const snapshot = JSON.parse(readFileSync(file!, "utf8")) as {
  readonly snapshot: { readonly meta: { readonly node_fields: ReadonlyArray<string>; readonly node_types: ReadonlyArray<ReadonlyArray<string> | string> } }
  readonly nodes: ReadonlyArray<number>
  readonly strings: ReadonlyArray<string>
}
const fields = snapshot.snapshot.meta.node_fields
const types = snapshot.snapshot.meta.node_types[0] as ReadonlyArray<string>
const width = fields.length
const typeAt = fields.indexOf("type")
const nameAt = fields.indexOf("name")
const sizeAt = fields.indexOf("self_size")
const groups = new Map<string, { count: number; size: number }>()
let total = 0
for (let i = 0; i < snapshot.nodes.length; i += width) {
  const type = types[snapshot.nodes[i + typeAt]!]!
  const name = snapshot.strings[snapshot.nodes[i + nameAt]!]!
  const size = snapshot.nodes[i + sizeAt]!
  total += size
  const key = type === "object" || type === "closure" ? `${type} ${name}` : type === "string" || type === "concatenated string" || type === "sliced string" ? "string" : `${type} ${name.slice(0, 40)}`
  const group = groups.get(key) ?? { count: 0, size: 0 }
  group.count++
  group.size += size
  groups.set(key, group)
}
console.log(`heap: ${(total / 1024 / 1024).toFixed(1)} MiB in snapshot; ${agents} agents`)
console.log(`${"bytes/agent".padStart(12)} ${"objs/agent".padStart(10)}  group`)
for (const [key, g] of [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, Number(topArg))) {
  console.log(`${(g.size / agents).toFixed(0).padStart(12)} ${(g.count / agents).toFixed(2).padStart(10)}  ${key}`)
}
