/**
 * Summarise a V8 .cpuprofile: self time by function (top N) and by package, so a hotspot can be
 * named with its file and line.
 *
 *   npx tsx bench/src/tools/cpuTop.ts profile.cpuprofile [top]
 */
import { readFileSync } from "node:fs"

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [file, topArg = "40", filter] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file!, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)

const packageOf = (url: string) => {
  if (url === "") return "(native/vm)"
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (m) return m[1]!
  if (url.startsWith("node:")) return "node:" + url.slice(5).split("/")[0]
  const p = url.match(/\/(packages\/[^/]+|bench)\//)
  return p ? p[1]! : url
}

const byFunction = new Map<string, number>()
const byPackage = new Map<string, number>()
for (const [id, time] of self) {
  const node = byId.get(id)!
  const f = node.callFrame
  const where = f.url === "" ? "" : `${f.url.replace(/^file:\/\/.*?node_modules\//, "").replace(/^file:\/\/\/work\/main\//, "")}:${f.lineNumber + 1}`
  const key = `${f.functionName || "(anonymous)"} ${where}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + time)
  byPackage.set(packageOf(f.url), (byPackage.get(packageOf(f.url)) ?? 0) + time)
}
const show = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`)
  for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((time / total) * 100).toFixed(1).padStart(5)} %  ${key}`)
  }
}
// inclusive time: every function on a sample's stack, each counted once per sample
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
const keyOf = (node: Node) => {
  const f = node.callFrame
  const where = f.url === "" ? "" : `${f.url.replace(/^file:\/\/.*?node_modules\//, "").replace(/^file:\/\/\/work\/main\//, "")}:${f.lineNumber + 1}`
  return `${f.functionName || "(anonymous)"} ${where}`
}
const inclusive = new Map<string, number>()
profile.samples.forEach((id, i) => {
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = keyOf(byId.get(at)!)
    if (seen.has(key)) continue
    seen.add(key)
    inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
})
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`)
show("self time by package", byPackage, 25)
show("self time by function", byFunction, Number(topArg))
if (filter !== undefined) {
  show(`inclusive time, functions matching "${filter}"`, new Map([...inclusive].filter(([k]) => k.includes(filter))), Number(topArg))
}
