/**
 * Suite 4 — memory per idle agent: the heap an agent instance holds while active and idle, at
 * 10,000 and 100,000 agents, and what is left once the cluster has passivated them. Each row is a
 * process of its own (`memoryProbe.ts`), so nothing else lives in the heap it reads.
 *
 * An agent is activated by one message: `Describe` (the agent alone: entity, mailbox, state) or
 * `Ask` (plus one exchange of conversation memory and one model call's accounting). A bare
 * `@effect/cluster` entity is measured the same way, as the floor Colony builds on. Passivation keeps the conversation memory (in `AgentMemory`; in-process for an embedded colony), so
 * "after passivation" is what a passivated agent still costs.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { bytes, num } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"

const probe = fileURLToPath(new URL("./memoryProbe.ts", import.meta.url))

interface Probe {
  readonly count: number
  readonly activated: number
  readonly timedOut: boolean
  readonly message: "ask" | "describe" | "bare"
  readonly mode: "idle" | "passivate"
  readonly activationMs: number
  readonly activeIdle: number
  readonly activeAfter: number | null
  readonly passivationMs: number | null
  readonly heapBefore: number
  readonly heapIdle: number
  readonly heapPassivated: number | null
  readonly rssBefore: number
  readonly rssIdle: number
  readonly idleBytesPerAgent: number | null
  readonly passivatedBytesPerAgent: number | null
}

const run = (count: number, message: string, mode: string, budgetMs: number): Promise<Probe> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=12288", "--conditions=@colony/source", "--import", "tsx", probe, String(count), message, mode, String(budgetMs)],
      { stdio: ["ignore", "pipe", "inherit"] }
    )
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
    })
    child.once("exit", (code) => {
      const line = out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1)
      if (line === undefined) return reject(new Error(`memory probe (${count} ${message} ${mode}) exited ${code} without a result:\n${out}`))
      resolve(JSON.parse(line) as Probe)
    })
  })

export const suite: Suite = {
  id: "memory",
  title: "4. Memory per idle agent, and after passivation",
  run: async ({ log, quick }) => {
    const plan: ReadonlyArray<readonly [number, Probe["message"], Probe["mode"]]> = quick
      ? [[5_000, "bare", "idle"], [5_000, "describe", "idle"], [1_000, "ask", "passivate"]]
      : [
        [10_000, "bare", "idle"],
        [10_000, "describe", "idle"],
        [10_000, "ask", "idle"],
        [100_000, "bare", "idle"],
        [100_000, "describe", "idle"],
        [100_000, "ask", "idle"],
        [10_000, "describe", "passivate"],
        [10_000, "ask", "passivate"]
      ]
    const budgetMs = quick ? 60_000 : 120_000
    const data: Array<Probe> = []
    for (const [count, message, mode] of plan) {
      log(`memory: ${num(count)} agents, activated with ${message}, ${mode}`)
      data.push(await run(count, message, mode, budgetMs))
    }
    return {
      tables: [{
        title: "Memory per agent — heap after full GC, embedded colony",
        columns: ["instances", "what, activated by", "active when idle", "heap / idle agent", "activation s", "agents/s", "after passivation", "heap / passivated agent", "passivation s"],
        rows: data.map((d) => [
          d.timedOut ? `${num(d.activated)} of ${num(d.count)} (time-boxed)` : num(d.count),
          d.message === "ask" ? "agent, one Ask" : d.message === "describe" ? "agent, Describe" : "bare cluster entity",
          num(d.activeIdle),
          d.idleBytesPerAgent === null ? null : bytes(d.idleBytesPerAgent),
          num(d.activationMs / 1000, 1),
          num(d.activated / (d.activationMs / 1000)),
          d.mode === "passivate" ? `${num(d.activeAfter ?? Number.NaN)} active` : "–",
          d.passivatedBytesPerAgent === null ? null : bytes(d.passivatedBytesPerAgent),
          d.passivationMs === null ? null : num(d.passivationMs / 1000, 1)
        ]),
        notes: [
          "bare cluster entity: an @effect/cluster entity with one RPC and no Colony code, on the same sharding layer — the cluster's own share of an agent.",
          "heap / agent = (heapUsed with the agents − heapUsed before them) ÷ agents, both after full collections (global.gc).",
          "Passivation: maxIdleTime 5 s (the cluster's reaper then runs every 5 s); the idle rows use 1 hour so nothing is passivated.",
          `Activation is time-boxed at ${budgetMs / 1000} s; a row that hit the box says how many agents it reached.`
        ]
      }],
      data
    }
  }
}
