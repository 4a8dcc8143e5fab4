/**
 * One memory measurement in a process of its own (started by the memory suite with
 * `--expose-gc`): an embedded colony activates N agents by sending each one message, and the
 * heap is read after full collections — before, with the agents idle, and (with `passivate`)
 * once the cluster has passivated them all. Prints one JSON line.
 *
 *   node --expose-gc --conditions=@colony/source --import tsx memoryProbe.ts <count> <ask|describe|bare> <idle|passivate> <budgetMs>
 *
 * `bare` activates plain `@effect/cluster` entities instead of agents: the cluster's own share.
 */
import { Agent, Colony } from "@colony/runtime"
import { writeHeapSnapshot } from "node:v8"
import * as Entity from "@effect/cluster/Entity"
import * as Rpc from "@effect/rpc/Rpc"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Schema } from "effect"
import { colonyLayer } from "../contenders/colony.js"
import * as FakeServer from "../lib/fakeServer.js"
import { sleep } from "../lib/stats.js"
import { INSTRUCTIONS, MODEL_ID, PROMPT } from "../lib/workload.js"

const [countArg = "10000", message = "describe", mode = "idle", budgetArg = "600000"] = process.argv.slice(2)
const count = Number(countArg)
const budgetMs = Number(budgetArg)
const gc = globalThis.gc
if (gc === undefined) throw new Error("run with --expose-gc")

const fullGc = async () => {
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(50)
  }
}

// Passivation is the cluster's reaper: it runs every max(5 s, min(30 s, maxIdleTime)).
const Resident = Agent.make({
  name: "resident",
  instructions: INSTRUCTIONS,
  model: MODEL_ID,
  maxIdleTime: mode === "passivate" ? "5 seconds" : "1 hour"
})

// The floor: a bare @effect/cluster entity with one RPC and no Colony around it, on the same
// sharding layer, so the table can say how much of an agent's footprint is the cluster's.
const Ping = Rpc.make("Ping", { success: Schema.String })
const Bare = Entity.make("bare", [Ping])
const BareLive = Bare.toLayer(Effect.succeed({ Ping: () => Effect.succeed("pong") }), {
  maxIdleTime: mode === "passivate" ? "5 seconds" : "1 hour"
})

const server = await FakeServer.start({ latencyMs: 0 })
const runtime = ManagedRuntime.make(
  Layer.merge(Agent.toLayer(Resident), BareLive).pipe(
    Layer.provideMerge(colonyLayer({ baseUrl: server.url, maxConcurrency: 256 })),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
  )
)
const resident = await runtime.runPromise(Colony.client(Resident))
const bare = await runtime.runPromise(Bare.client)
const activate = (id: string) =>
  message === "ask"
    ? Effect.asVoid(resident(id).Ask({ prompt: PROMPT }))
    : message === "bare"
    ? Effect.asVoid(Effect.orDie(bare(id).Ping()))
    : Effect.asVoid(resident(id).Describe())
const active = () => runtime.runPromise(Effect.map(Colony.status, (s) => s.activeAgents))

// warm the code paths and the connection pool, then let those agents go (they are not counted)
await runtime.runPromise(Effect.forEach(Array.from({ length: 50 }, (_, i) => `warm-${i}`), activate, { concurrency: 10 }))
await fullGc()
const before = process.memoryUsage()
const activeBefore = await active()

const started = performance.now()
let activated = 0
let timedOut = false
const batch = 256
for (let from = 0; from < count; from += batch) {
  if (performance.now() - started > budgetMs) {
    timedOut = true
    break
  }
  const ids = Array.from({ length: Math.min(batch, count - from) }, (_, i) => `agent-${from + i}`)
  await runtime.runPromise(Effect.forEach(ids, activate, { concurrency: batch, discard: true }))
  activated += ids.length
}
const activationMs = performance.now() - started
await fullGc()
const idle = process.memoryUsage()
const activeIdle = await active()
// for profiling: `BENCH_HEAP_SNAPSHOT=/tmp/idle.heapsnapshot` writes the heap with the agents idle
if (process.env["BENCH_HEAP_SNAPSHOT"] !== undefined) writeHeapSnapshot(process.env["BENCH_HEAP_SNAPSHOT"])

let passivated: NodeJS.MemoryUsage | undefined
let passivationMs: number | undefined
let activeAfter: number | undefined
if (mode === "passivate") {
  const waitStart = performance.now()
  while ((await active()) > 0 && performance.now() - waitStart < 120_000) await sleep(250)
  passivationMs = performance.now() - waitStart
  activeAfter = await active()
  await fullGc()
  passivated = process.memoryUsage()
}

console.log(JSON.stringify({
  count,
  activated,
  timedOut,
  message,
  mode,
  activationMs,
  activeBefore,
  activeIdle,
  activeAfter: activeAfter ?? null,
  passivationMs: passivationMs ?? null,
  heapBefore: before.heapUsed,
  heapIdle: idle.heapUsed,
  heapPassivated: passivated?.heapUsed ?? null,
  rssBefore: before.rss,
  rssIdle: idle.rss,
  rssPassivated: passivated?.rss ?? null,
  idleBytesPerAgent: activated === 0 ? null : (idle.heapUsed - before.heapUsed) / activated,
  passivatedBytesPerAgent: passivated === undefined || activated === 0 ? null : (passivated.heapUsed - before.heapUsed) / activated
}))
await runtime.dispose()
await server.close()
process.exit(0)
