/**
 * Colony against another copy of itself, in one process: this tree's Colony contender and the
 * one of another tree (an earlier commit), interleaved batch by batch, so the machine's load falls
 * on both alike. For before/after figures of a change on a busy machine, where two separate runs
 * of a suite are not comparable.
 *
 *   mkdir -p /tmp/before/node_modules && git archive <commit> | tar -x -C /tmp/before
 *   for e in node_modules/* node_modules/.bin; do [ "$e" = node_modules/@colony ] || ln -s "$PWD/$e" /tmp/before/$e; done
 *   cp -a node_modules/@colony /tmp/before/node_modules/  # relative links: its own packages
 *   node --expose-gc --conditions=@colony/source --import tsx bench/src/tools/abTrees.ts /tmp/before single 12 200
 *   node --expose-gc --conditions=@colony/source --import tsx bench/src/tools/abTrees.ts /tmp/before team 12 30
 *
 * Both trees share this process's `effect` and `@effect/*` (the other tree's node_modules link to
 * this one's), each with its own `@colony` packages and its own embedded colony.
 */
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { colony as thisTree } from "../contenders/colony.js"
import type { Contender } from "../contenders/Contender.js"
import * as FakeServer from "../lib/fakeServer.js"
import { PROMPT, TASK } from "../lib/workload.js"

const [other, shape = "single", roundsArg = "12", batchArg = "200"] = process.argv.slice(2)
if (other === undefined) throw new Error("usage: abTrees.ts <other tree> [single|team] [rounds] [batch]")
const rounds = Number(roundsArg)
const batch = Number(batchArg)
const otherTree = (await import(pathToFileURL(join(resolve(other), "bench/src/contenders/colony.ts")).href))
  .colony as Contender

const server = await FakeServer.start({ latencyMs: 0 })
const setUp = async (contender: Contender, label: string) => {
  const subject = shape === "team"
    ? await contender.team!({ baseUrl: server.url, maxConcurrency: 64, workers: 4 }).then((team) => ({
      call: () => team.run(TASK, "ab"),
      close: () => team.close()
    }))
    : await contender.singleAgent!({ baseUrl: server.url, maxConcurrency: 64 }).then((agent) => ({
      call: () => agent.call(PROMPT, "ab"),
      close: () => agent.close()
    }))
  return { label, ...subject, cpuMicros: 0, samples: [] as Array<number> }
}
const subjects = [await setUp(otherTree, `other tree (${other})`), await setUp(thisTree, "this tree")]
for (const s of subjects) for (let i = 0; i < batch; i++) await s.call()
for (let round = 0; round < rounds; round++) {
  for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
    global.gc?.()
    const cpu = process.cpuUsage()
    for (let i = 0; i < batch; i++) {
      const started = performance.now()
      await s.call()
      s.samples.push((performance.now() - started) * 1000)
    }
    const used = process.cpuUsage(cpu)
    s.cpuMicros += used.user + used.system
  }
}
const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
for (const s of subjects) {
  const sorted = [...s.samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
  console.log(
    `${shape} ${s.label}: p50 ${fmt(at(0.5))} µs, p99 ${fmt(at(0.99))} µs, CPU ${fmt(s.cpuMicros / s.samples.length)} µs per call ` +
      `(${s.samples.length} calls in ${rounds} interleaved rounds)`
  )
}
for (const s of subjects) await s.close()
await server.close()
process.exit(0)
