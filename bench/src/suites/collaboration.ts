/**
 * Suite 2 — collaboration overhead: a coordinator and four workers answer one task master-slave
 * style (split into four subtasks, four worker calls in parallel, one synthesis call), fake model
 * at 0 ms. Colony's `Collaboration.MasterSlave` against LangGraph's orchestrator-worker graph
 * (the `Send` fan-out its docs give for this pattern), with the raw client doing the same five
 * calls by hand as the floor. Colony runs twice: with fresh agent ids per run (a team per request:
 * five agents activated every run) and with the same warm team every run.
 */
import type { Contender, Team } from "../contenders/Contender.js"
import { contenders } from "../contenders/index.js"
import * as FakeServer from "../lib/fakeServer.js"
import * as SameWork from "../lib/sameWork.js"
import * as SideBySide from "../lib/sideBySide.js"
import { num, ratio, summarize } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"
import { TASK } from "../lib/workload.js"

const WORKERS = 4

export const suite: Suite = {
  id: "collaboration",
  title: "2. Collaboration overhead: coordinator + 4 workers, master-slave",
  run: async ({ log, quick }) => {
    const plan = quick ? { warmup: 20, rounds: 4, batch: 25 } : { warmup: 200, rounds: 15, batch: 100 }
    const server = await FakeServer.start({ latencyMs: 0 })
    try {
      const teams: Array<{ contender: Contender; team: Team; work: SameWork.Work }> = []
      for (const contender of contenders.filter((c) => c.team !== undefined)) {
        const team = await contender.team!({ baseUrl: server.url, maxConcurrency: 64, workers: WORKERS })
        const work = await SameWork.observe(server, () => team.run(TASK, `${contender.id}-check`))
        teams.push({ contender, team, work })
      }
      log(`collaboration: ${teams.map((t) => t.contender.id).join(", ")}; warm-up ${plan.warmup} runs each`)
      const results = await SideBySide.measure(
        teams.map(({ contender, team }) => ({ id: contender.id, operation: (n) => team.run(TASK, `run-${n}`) })),
        plan,
        { log: (line) => log(`collaboration: ${line}`), between: () => server.reset() }
      )
      for (const { team } of teams) await team.close()

      const raw = summarize(results.get("raw")!.samples)
      const ours = summarize(results.get("colony")!.samples)
      const warm = summarize(results.get("colony-warm")!.samples)
      const rawWork = teams.find((t) => t.contender.id === "raw")!.work
      const data = teams.map(({ contender, work }) => {
        const r = results.get(contender.id)!
        const s = summarize(r.samples)
        return {
          contender: contender.id,
          label: contender.label,
          version: contender.version,
          runs: s.n,
          p50Us: s.p50,
          p99Us: s.p99,
          meanUs: s.mean,
          cpuUsPerRun: r.cpuMicrosPerOp,
          overheadP50Us: s.p50 - raw.p50,
          overheadP99Us: s.p99 - raw.p99,
          timesRaw: s.p50 / raw.p50,
          colonyOverheadRatio: contender.id === "raw" || contender.id.startsWith("colony") ? null : (ours.p50 - raw.p50) / (s.p50 - raw.p50),
          colonyWarmOverheadRatio: contender.id === "raw" || contender.id.startsWith("colony") ? null : (warm.p50 - raw.p50) / (s.p50 - raw.p50),
          modelCallsPerRun: work.calls,
          sameWork: SameWork.compare(work, rawWork)
        }
      })
      return {
        tables: [{
          title: `Collaboration overhead — 1 coordinator + ${WORKERS} workers, one task, model answers in 0 ms (µs per run)`,
          columns: ["contender", "p50 µs", "p99 µs", "overhead p50", "overhead p99", "CPU µs/run", "× raw p50", "Colony (fresh) ÷ this", "Colony (warm) ÷ this", "model calls", "work vs raw"],
          rows: data.map((d) => [
            d.label.replace("Ask (embedded)", "MasterSlave, fresh agents").replace("StateGraph", "orchestrator-worker (Send)").replace("(raw)", "(raw, by hand)"),
            num(d.p50Us),
            num(d.p99Us),
            num(d.overheadP50Us),
            num(d.overheadP99Us),
            num(d.cpuUsPerRun),
            ratio(d.timesRaw),
            d.colonyOverheadRatio === null ? null : ratio(d.colonyOverheadRatio),
            d.colonyWarmOverheadRatio === null ? null : ratio(d.colonyWarmOverheadRatio),
            d.modelCallsPerRun,
            d.sameWork
          ]),
          notes: [
            `${data[0]?.runs ?? 0} runs per contender in ${plan.rounds} interleaved rounds after ${plan.warmup} warm-up runs.`,
            "Colony ÷ this: Colony's overhead over the raw client divided by this contender's (fresh: five agents activated per run; warm: the same team every run).",
            "Every contender splits the task with the same function (4 subtasks), calls 4 workers in parallel, then 1 synthesis call.",
            "OpenAI Agents SDK and Mastra are not in this table: the issue compares against LangGraph's supervisor pattern."
          ]
        }],
        data
      }
    } finally {
      await server.close()
    }
  }
}
