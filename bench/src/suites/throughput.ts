/**
 * Suite 3 — throughput against concurrency: C sessions at once, each asking its own agent one
 * question after another (a closed loop), the fake model answering after 200 ms. No contender can
 * finish more than C ÷ 200 ms sessions a second — the latency bound — and the table says how close
 * each comes. The raw client is measured the same way, so the share of the bound lost to this
 * machine (one fake server process, one client process, two cores) is visible next to Colony's.
 */
import type { Contender } from "../contenders/Contender.js"
import { contenders } from "../contenders/index.js"
import * as FakeServer from "../lib/fakeServer.js"
import { num, percent, percentile, sleep } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"
import { PROMPT } from "../lib/workload.js"

const LATENCY_MS = 200
const MEASURED = ["raw", "colony"]
const RAMP_PER_SECOND = 2_000
/** past this, the window starts anyway: a contender that cannot answer every session once in a minute is measured as it is */
const RAMP_LIMIT_MS = 60_000

interface Load {
  readonly contender: string
  readonly concurrency: number
  readonly sessionsPerSecond: number
  readonly bound: number
  readonly ofBound: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly failures: number
  readonly windowMs: number
  /** time until every session had its first answer */
  readonly rampMs: number
  /** sessions that had their first answer before the window started */
  readonly rampedSessions: number
  readonly heapUsedBytes: number
}

export const load = async (contender: Contender, baseUrl: string, concurrency: number, windowMs: number, log: (line: string) => void): Promise<Load> => {
  const agent = await contender.singleAgent!({ baseUrl, maxConcurrency: concurrency })
  let stop = false
  let completed = 0
  let failures = 0
  let lastError: unknown
  let window: { start: number; end: number } | undefined
  const latencies: Array<number> = []
  const started = performance.now()
  const session = async (i: number) => {
    const name = `session-${i}`
    while (!stop) {
      const t0 = performance.now()
      try {
        await agent.call(PROMPT, name)
        const t1 = performance.now()
        completed++
        if (window !== undefined && t1 >= window.start && t1 <= window.end) latencies.push(t1 - t0)
      } catch (error) {
        if (stop) return
        failures++
        lastError = error
        await sleep(10)
      }
    }
  }
  // sessions start at RAMP_PER_SECOND, as a load generator ramps: opening 10,000 connections in
  // one go overflows the listen backlog and measures the kernel, not the contender
  const sessions = Array.from({ length: concurrency }, (_, i) =>
    sleep(Math.floor(i / (RAMP_PER_SECOND / 10)) * 100).then(() => session(i)))
  // ramp: every session has had an answer (all agents active, all connections open)
  const rampDeadline = started + RAMP_LIMIT_MS
  while (completed < concurrency && performance.now() < rampDeadline) await sleep(20)
  const rampMs = performance.now() - started
  const rampedSessions = Math.min(completed, concurrency)
  await sleep(LATENCY_MS)
  const before = completed
  const start = performance.now()
  window = { start, end: start + windowMs }
  await sleep(windowMs)
  const elapsed = performance.now() - start
  const done = completed - before
  const heapUsedBytes = process.memoryUsage().heapUsed
  stop = true
  // sessions finish their call in flight; a contender far behind would take minutes to drain, so
  // after a grace period closing it interrupts what is left
  await Promise.race([Promise.all(sessions), sleep(5_000)])
  await agent.close()
  await Promise.all(sessions)
  if (failures > 0) log(`throughput: ${contender.id} at ${concurrency}: ${failures} failures, last: ${String(lastError)}`)
  const sessionsPerSecond = (done / elapsed) * 1000
  const bound = concurrency / (LATENCY_MS / 1000)
  return {
    contender: contender.id,
    concurrency,
    sessionsPerSecond,
    bound,
    ofBound: sessionsPerSecond / bound,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures,
    windowMs: elapsed,
    rampMs,
    rampedSessions,
    heapUsedBytes
  }
}

export const suite: Suite = {
  id: "throughput",
  title: "3. Throughput against concurrency: sessions/s, fake model at 200 ms",
  run: async ({ log, quick }) => {
    const levels = quick ? [100, 1_000] : [100, 1_000, 10_000]
    const windowMs = quick ? 2_000 : 10_000
    const server = await FakeServer.start({ latencyMs: LATENCY_MS })
    const measured = contenders.filter((c) => MEASURED.includes(c.id) && c.singleAgent !== undefined)
    try {
      const data: Array<Load> = []
      const fullOnly = quick ? [10_000] : []
      for (const concurrency of levels) {
        for (const contender of measured) {
          log(`throughput: ${contender.id} at ${concurrency} concurrent sessions`)
          data.push(await load(contender, server.url, concurrency, windowMs, log))
          await server.reset()
          global.gc?.()
          await sleep(500)
        }
      }
      const label = (id: string) => contenders.find((c) => c.id === id)?.label ?? id
      const raw = (concurrency: number) => data.find((d) => d.contender === "raw" && d.concurrency === concurrency)
      return {
        tables: [{
          title: `Throughput — concurrent sessions, each a closed loop of single-agent calls, model latency ${LATENCY_MS} ms`,
          columns: ["sessions", "contender", "sessions/s", "bound/s", "% of bound", "% of raw", "p50 ms", "p99 ms", "failures", "ramp s"],
          rows: [...data.map((d) => [
            num(d.concurrency),
            label(d.contender),
            num(d.sessionsPerSecond),
            num(d.bound),
            percent(d.ofBound),
            d.contender === "raw" ? null : percent(d.sessionsPerSecond / raw(d.concurrency)!.sessionsPerSecond),
            num(d.p50Ms, 0),
            num(d.p99Ms, 0),
            d.failures,
            d.rampedSessions < d.concurrency ? `cut at ${num(d.rampMs / 1000, 0)}` : num(d.rampMs / 1000, 1)
          ]), ...fullOnly.map((c) => [num(c), "(all)", "full run only", num(c / (LATENCY_MS / 1000)), null, null, null, null, null, null])],
          notes: [
            `bound = sessions ÷ ${LATENCY_MS} ms: what a contender with zero overhead would reach; measured over ${windowMs / 1000} s after every session had its first answer.`,
            `Sessions start at ${num(RAMP_PER_SECOND)} a second; "ramp" is the time until all of them had their first answer ("cut": the window started after ${RAMP_LIMIT_MS / 1000} s regardless).`,
            "Each Colony session is its own agent (one agent per session, so 10,000 sessions = 10,000 active agents); Colony's model concurrency limit is raised to the number of sessions.",
            "The fake server runs in one Node process: at high concurrency it, not the contender, can be what limits the raw client."
          ]
        }],
        data
      }
    } finally {
      await server.close()
    }
  }
}
