/**
 * Suite 1 — hop overhead: what one single-agent call costs on top of the model call itself. The
 * fake model answers at once (latency 0), in its own process, so what is left is the framework:
 * building the request, the HTTP round trip every contender shares, parsing, and whatever
 * machinery the framework runs around it (for Colony: the typed client, the cluster's routing and
 * serialization, the agent entity's mailbox, memory and events).
 *
 * Contenders run in the same process, interleaved: each round runs a batch of sequential calls
 * per contender in a shuffled order, so drift in the machine's load falls on all of them.
 */
import { type Contender, type SingleAgent } from "../contenders/Contender.js"
import { contenders } from "../contenders/index.js"
import * as FakeServer from "../lib/fakeServer.js"
import * as SameWork from "../lib/sameWork.js"
import * as SideBySide from "../lib/sideBySide.js"
import { num, ratio, summarize, type Summary } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"
import { PROMPT } from "../lib/workload.js"

interface Measured {
  readonly contender: Contender
  readonly agent: SingleAgent | undefined
  readonly problem: string | undefined
  work?: SameWork.Work
  readonly samples: Array<number>
  cpuMicros: number
}

export const suite: Suite = {
  id: "hop",
  title: "1. Hop overhead: one single-agent call, fake model at 0 ms latency",
  run: async ({ log, quick }) => {
    const plan = quick ? { warmup: 50, rounds: 4, batch: 50 } : { warmup: 500, rounds: 20, batch: 200 }
    const server = await FakeServer.start({ latencyMs: 0 })
    try {
      const measured: Array<Measured> = []
      for (const contender of contenders.filter((c) => c.singleAgent !== undefined)) {
        const reason = contender.unavailable?.()
        if (reason !== undefined) {
          measured.push({ contender, agent: undefined, problem: reason, samples: [], cpuMicros: 0 })
          continue
        }
        try {
          const agent = await contender.singleAgent!({ baseUrl: server.url, maxConcurrency: 64 })
          measured.push({ contender, agent, problem: undefined, samples: [], cpuMicros: 0 })
        } catch (error) {
          measured.push({ contender, agent: undefined, problem: `failed to start: ${String(error)}`, samples: [], cpuMicros: 0 })
        }
      }
      const live = measured.filter((m) => m.agent !== undefined)

      for (const m of live) {
        log(`hop: ${m.contender.id}: checking the request it sends, warming up (${plan.warmup} calls)`)
        m.work = await SameWork.observe(server, () => m.agent!.call(PROMPT, "hop"))
        for (let i = 0; i < plan.warmup; i++) await m.agent!.call(PROMPT, "hop")
      }
      const results = await SideBySide.measure(
        live.map((m) => ({ id: m.contender.id, operation: () => m.agent!.call(PROMPT, "hop") })),
        { warmup: 0, rounds: plan.rounds, batch: plan.batch },
        { log: (line) => log(`hop: ${line}`), between: () => server.reset() }
      )
      for (const m of live) {
        const r = results.get(m.contender.id)!
        m.samples.push(...r.samples)
        m.cpuMicros = r.cpuMicrosPerOp * r.samples.length
      }
      for (const m of live) await m.agent!.close()

      const summaries = new Map<string, Summary>(live.map((m) => [m.contender.id, summarize(m.samples)]))
      const rawWork = live.find((m) => m.contender.id === "raw")?.work
      const raw = summaries.get("raw")
      const ours = summaries.get("colony")
      const data = measured.map((m) => {
        const s = summaries.get(m.contender.id)
        return {
          contender: m.contender.id,
          label: m.contender.label,
          version: m.contender.version,
          problem: m.problem ?? null,
          samples: s?.n ?? 0,
          p50Us: s?.p50 ?? null,
          p99Us: s?.p99 ?? null,
          meanUs: s?.mean ?? null,
          cpuUsPerCall: s === undefined ? null : m.cpuMicros / s.n,
          overheadP50Us: s !== undefined && raw !== undefined ? s.p50 - raw.p50 : null,
          overheadP99Us: s !== undefined && raw !== undefined ? s.p99 - raw.p99 : null,
          timesRaw: s !== undefined && raw !== undefined ? s.p50 / raw.p50 : null,
          colonyOverheadRatio: s !== undefined && raw !== undefined && ours !== undefined && m.contender.id !== "raw" && m.contender.id !== "colony"
            ? (ours.p50 - raw.p50) / (s.p50 - raw.p50)
            : null,
          modelCallsPerOp: m.work?.calls ?? null,
          streamed: m.work?.streamed ?? null,
          sameWork: m.work !== undefined && rawWork !== undefined ? SameWork.compare(m.work, rawWork) : null,
          messages: m.work === undefined ? null : SameWork.shape(m.work)
        }
      })
      const rows = data.map((d) => [
        d.label,
        d.problem === null ? num(d.p50Us!) : d.problem,
        d.problem === null ? num(d.p99Us!) : null,
        d.problem === null ? num(d.overheadP50Us!) : null,
        d.problem === null ? num(d.overheadP99Us!) : null,
        d.problem === null ? num(d.cpuUsPerCall!) : null,
        d.timesRaw === null ? null : ratio(d.timesRaw),
        d.colonyOverheadRatio === null ? null : ratio(d.colonyOverheadRatio),
        d.modelCallsPerOp,
        d.sameWork
      ])
      return {
        tables: [{
          title: "Hop overhead — one call to one agent, model answers in 0 ms (µs, sequential calls)",
          columns: ["contender", "p50 µs", "p99 µs", "overhead p50", "overhead p99", "CPU µs/call", "× raw p50", "Colony overhead ÷ this", "model calls", "work vs raw"],
          rows,
          notes: [
            `${live[0]?.samples.length ?? 0} calls per contender in ${plan.rounds} interleaved rounds after ${plan.warmup} warm-up calls; fake server in its own process.`,
            "overhead = contender − raw client at the same percentile; CPU µs/call = this process's CPU time per call (the server's is not counted).",
            "Colony overhead ÷ this < 1 means Colony adds less than that framework.",
            ...data.filter((d) => d.problem === null).map((d) => `${d.label}: ${d.version}`)
          ]
        }],
        data
      }
    } finally {
      await server.close()
    }
  }
}
