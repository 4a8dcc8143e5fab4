/**
 * Suite 8 — chaos: conversations on 3 runners while one runner is killed with SIGKILL every few
 * seconds and a replacement started, as an operator's bad day looks. Half the conversations talk
 * to a durable agent (`keeper`: persisted messages), half to a volatile one (`clerk`), each in a
 * closed loop; every message names its conversation and number, so afterwards each agent's stored
 * transcript is read back and every answered message is looked for: missing is a lost turn, twice is
 * a duplicated one (among the turns the agent keeps: it remembers its last `historyLimit` messages).
 *
 * Reported: sent, answered, failed (by tag: a bare interrupt or defect is counted as such, since a
 * caller cannot act on it), hung (no reply within the deadline), turns lost and duplicated,
 * latency overall and of the calls a kill interrupted; and for the shards: the time from each kill
 * to full coverage by live runners, live runners that lost all their shards, "shard lock storage
 * is unhealthy" errors on live runners, and how long a new runner takes to hold a shard.
 */
import { AgentMemory, Colony } from "@colony/runtime"
import { Cause, Effect, Exit, Option } from "effect"
import * as FakeServer from "../lib/fakeServer.js"
import { Clerk, Keeper } from "../lib/runnerAgents.js"
import * as Cluster from "../lib/runners.js"
import { num, percent, percentile, sleep } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"

/** Shards of the default group: full coverage is every one held by a live runner. */
const SHARDS = 300

/** A call without a reply by then is counted as hung and abandoned. */
const HUNG_MS = 30_000

interface Call {
  readonly kind: "durable" | "volatile"
  readonly conversation: number
  readonly seq: number
  readonly startedAt: number
  readonly endedAt: number
  /** "answered", a failure's tag, "interrupt", "defect: …" or "hung" */
  readonly outcome: string
}

const outcomeOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "answered"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const error = failure.value as { readonly _tag?: string }
    return error._tag === "TimeoutException" ? "hung" : error._tag ?? "failure"
  }
  if (Cause.isInterruptedOnly(exit.cause)) return "interrupt"
  const defect = Option.getOrUndefined(Cause.dieOption(exit.cause)) as { readonly _tag?: string; readonly name?: string } | undefined
  return `defect: ${defect?._tag ?? defect?.name ?? "unknown"}`
}

const messageText = (conversation: number, seq: number) =>
  `Chaos conversation ${conversation}, message ${seq}: note the order number and answer briefly.`

const seqOf = (conversation: number, text: string): number | undefined => {
  const match = /^Chaos conversation (\d+), message (\d+):/.exec(text)
  return match === null || Number(match[1]) !== conversation ? undefined : Number(match[2])
}

export const suite: Suite = {
  id: "chaos",
  title: "8. Chaos: conversations on 3 runners while one is killed with SIGKILL every few seconds",
  run: async ({ log, quick }) => {
    const plan = quick
      ? { conversations: 20, seconds: 16, killEvery: 6 }
      : {
        conversations: Number(process.env["COLONY_CHAOS_CONVERSATIONS"] ?? 300),
        seconds: Number(process.env["COLONY_CHAOS_SECONDS"] ?? 120),
        killEvery: Number(process.env["COLONY_CHAOS_KILL_EVERY"] ?? 10)
      }
    const model = await FakeServer.start({ latencyMs: 50 })
    log("chaos: starting the embedded Postgres")
    const pg = await Cluster.startPostgres()
    const runners: Array<Cluster.RunnerProcess> = []
    const dead = new Set<Cluster.RunnerProcess>()
    try {
      const url = await Cluster.freshDatabase(pg)
      const env = { COLONY_MODEL_URL: model.url, COLONY_MODEL_KEY: "x", COLONY_MODEL_MAX_CONCURRENCY: "256" }
      let named = 0
      const start = async () => {
        const runner = await Cluster.spawnRunner({ name: `runner-${++named}`, databaseUrl: url, env })
        runners.push(runner)
        return runner
      }
      log("chaos: starting 3 runners")
      const first = await Promise.all([start(), start(), start()])
      await Promise.all(first.map((r) => r.waitForStatus((s) => Cluster.heldShards(s) > 0, 60_000)))
      const colony = Cluster.client(url)
      try {
        const [keeper, clerk] = await colony.runPromise(Effect.all([Colony.client(Keeper), Colony.client(Clerk)]))
        const calls: Array<Call> = []
        const t0 = performance.now()
        const now = () => performance.now() - t0
        let stop = false

        // --- the shards, watched from the runners' status lines ---
        const latest = (runner: Cluster.RunnerProcess) => runner.statuses[runner.statuses.length - 1]
        const heldByLive = () => {
          const held = new Set<string>()
          for (const runner of runners) {
            if (dead.has(runner)) continue
            const status = latest(runner)
            if (status === undefined) continue
            for (const [group, ids] of Object.entries(status.shardIds)) for (const id of ids) held.add(`${group}:${id}`)
          }
          return held
        }
        const lostAll: Array<{ runner: string; at: number }> = []
        const watching = (async () => {
          const seen = new Map<Cluster.RunnerProcess, number>()
          while (!stop) {
            for (const runner of runners) {
              if (dead.has(runner)) continue
              const status = latest(runner)
              const held = status === undefined ? 0 : Cluster.heldShards(status)
              const before = seen.get(runner) ?? 0
              if (before > 0 && held === 0 && !dead.has(runner)) lostAll.push({ runner: runner.name, at: now() })
              seen.set(runner, held)
            }
            await sleep(100)
          }
        })()

        // --- the conversations ---
        log(`chaos: ${plan.conversations} conversations for ${plan.seconds} s, a runner killed every ${plan.killEvery} s`)
        const conversation = async (index: number) => {
          const kind = index % 2 === 0 ? "durable" as const : "volatile" as const
          const id = `chaos-${index}`
          let seq = 0
          while (!stop) {
            seq++
            const prompt = messageText(index, seq)
            const startedAt = now()
            const call = kind === "durable" ? keeper(id).Ask({ prompt }) : clerk(id).Ask({ prompt })
            const exit = await colony.runPromiseExit(call.pipe(Effect.timeout(HUNG_MS)))
            calls.push({ kind, conversation: index, seq, startedAt, endedAt: now(), outcome: outcomeOf(exit) })
          }
        }
        const talking = Promise.all(Array.from({ length: plan.conversations }, (_, i) => conversation(i)))

        // --- the kills ---
        const kills: Array<{
          at: number
          /** Date.now() at the kill, to read the runners' log times against */
          wallAt: number
          victimAddress: string
          victim: string
          victimShards: number
          movedAfterMs: number | undefined
          coveredAfterMs: number | undefined
          newRunnerMs: number | undefined
        }> = []
        const deadline = plan.seconds * 1000
        while (now() + plan.killEvery * 1000 <= deadline) {
          await sleep(plan.killEvery * 1000)
          const alive = runners.filter((r) => !dead.has(r))
          const victim = alive[Math.floor(Math.random() * alive.length)]!
          const at = now()
          const victimShards = new Set(
            Object.entries(latest(victim)?.shardIds ?? {}).flatMap(([group, ids]) => ids.map((id) => `${group}:${id}`))
          )
          dead.add(victim)
          victim.kill("SIGKILL")
          const spawned = now()
          const replacement = await start()
          const kill = {
            at,
            wallAt: Date.now(),
            victimAddress: victim.address,
            victim: victim.name,
            victimShards: victimShards.size,
            movedAfterMs: undefined as number | undefined,
            coveredAfterMs: undefined as number | undefined,
            newRunnerMs: undefined as number | undefined
          }
          kills.push(kill)
          void replacement.waitForStatus((s) => Cluster.heldShards(s) > 0, 60_000).then(
            () => (kill.newRunnerMs = now() - spawned),
            () => undefined
          )
          void (async () => {
            // covered again: every shard held by a live runner (the victim's last report no longer counts)
            while (now() - at < 60_000 && kill.coveredAfterMs === undefined) {
              const held = heldByLive()
              if (kill.movedAfterMs === undefined && [...victimShards].every((shard) => held.has(shard))) {
                kill.movedAfterMs = now() - at
              }
              if (held.size === SHARDS) kill.coveredAfterMs = now() - at
              await sleep(50)
            }
          })()
          log(`chaos: killed ${victim.name} at ${num(at / 1000, 1)} s; ${replacement.name} started`)
        }
        await sleep(Math.max(0, deadline - now()))
        stop = true
        log("chaos: stopping; waiting for the calls in flight")
        await talking
        await watching
        // give the last kill's coverage and new-runner timers a moment to report
        const settle = now()
        while (now() - settle < 10_000 && kills.some((k) => k.coveredAfterMs === undefined || k.movedAfterMs === undefined || k.newRunnerMs === undefined)) await sleep(100)

        // --- transcripts ---
        log("chaos: reading every conversation's transcript back")
        const turns = { durable: { lost: 0, duplicated: 0 }, volatile: { lost: 0, duplicated: 0 } }
        const memory = await colony.runPromise(AgentMemory.AgentMemory)
        for (let index = 0; index < plan.conversations; index++) {
          const kind = index % 2 === 0 ? "durable" as const : "volatile" as const
          const key = `${kind === "durable" ? Keeper.type : Clerk.type}/chaos-${index}`
          const transcript = Option.getOrElse(await colony.runPromise(memory.load(key)), () => [])
          const counts = new Map<number, number>()
          for (const message of transcript) {
            const seq = message.role === "user" ? seqOf(index, message.content) : undefined
            if (seq !== undefined) counts.set(seq, (counts.get(seq) ?? 0) + 1)
          }
          // an agent keeps its last `historyLimit` messages: turns older than the oldest one kept
          // were trimmed, not lost
          const oldest = Math.min(...counts.keys())
          for (const call of calls) {
            if (call.conversation !== index || call.outcome !== "answered" || call.seq < oldest) continue
            const seen = counts.get(call.seq) ?? 0
            if (seen === 0) turns[kind].lost++
            if (seen > 1) turns[kind].duplicated++
          }
        }

        // --- when the survivors found each victim dead (their log line's time) ---
        const msOfDay = (date: Date) =>
          ((date.getHours() * 60 + date.getMinutes()) * 60 + date.getSeconds()) * 1000 + date.getMilliseconds()
        const foundAfter = kills.flatMap((kill) => {
          const times = runners.flatMap((runner) =>
            runner.output.flatMap((line) => {
              if (!line.includes(`Runner ${kill.victimAddress} lost its connection`)) return []
              const match = /^\[(\d\d):(\d\d):(\d\d)\.(\d{3})\]/.exec(line)
              if (match === null) return []
              const [h, m, sec, ms] = match.slice(1).map(Number) as [number, number, number, number]
              return [((h * 60 + m) * 60 + sec) * 1000 + ms - msOfDay(new Date(kill.wallAt))]
            })
          )
          return times.length === 0 ? [] : [Math.min(...times)]
        })

        // --- live runners' complaints: a dead process logs nothing, so every such line is a live runner's ---
        const unhealthy = runners.reduce(
          (sum, runner) => sum + runner.output.filter((line) => line.includes("Shard lock storage is unhealthy")).length,
          0
        )

        const rows = (["durable", "volatile"] as const).map((kind) => {
          const mine = calls.filter((c) => c.kind === kind)
          const answered = mine.filter((c) => c.outcome === "answered")
          const failed = mine.filter((c) => c.outcome !== "answered" && c.outcome !== "hung")
          const hung = mine.filter((c) => c.outcome === "hung").length
          const byTag = new Map<string, number>()
          for (const c of failed) byTag.set(c.outcome, (byTag.get(c.outcome) ?? 0) + 1)
          const latencies = answered.map((c) => c.endedAt - c.startedAt)
          const aroundKills = answered
            .filter((c) => kills.some((k) => c.startedAt <= k.at && c.endedAt >= k.at))
            .map((c) => c.endedAt - c.startedAt)
          return {
            kind,
            sent: mine.length,
            answered: answered.length,
            failed: failed.length,
            failedShare: mine.length === 0 ? 0 : failed.length / mine.length,
            byTag: Object.fromEntries(byTag),
            hung,
            lost: turns[kind].lost,
            duplicated: turns[kind].duplicated,
            p50: percentile(latencies, 50),
            p99: percentile(latencies, 99),
            max: latencies.length === 0 ? 0 : Math.max(...latencies),
            aroundKillsP99: percentile(aroundKills, 99)
          }
        })
        const coverage = kills.map((k) => k.coveredAfterMs).filter((ms): ms is number => ms !== undefined)
        const moved = kills.map((k) => k.movedAfterMs).filter((ms): ms is number => ms !== undefined)
        const fresh = kills.map((k) => k.newRunnerMs).filter((ms): ms is number => ms !== undefined)
        const shards = {
          kills: kills.length,
          foundP50: percentile(foundAfter, 50),
          foundP99: percentile(foundAfter, 99),
          foundOf: foundAfter.length,
          movedP50: percentile(moved, 50),
          movedP99: percentile(moved, 99),
          movedMax: moved.length === 0 ? 0 : Math.max(...moved),
          neverCovered: kills.length - coverage.length,
          coverageP50: percentile(coverage, 50),
          coverageP99: percentile(coverage, 99),
          coverageMax: coverage.length === 0 ? 0 : Math.max(...coverage),
          liveRunnersLostAll: lostAll.length,
          unhealthy,
          newRunnerP50: percentile(fresh, 50),
          newRunnerMax: fresh.length === 0 ? 0 : Math.max(...fresh)
        }
        return {
          tables: [
            {
              title: `Conversations under kill -9 — ${plan.conversations} conversations, ${plan.seconds} s, a kill every ${plan.killEvery} s (fake model at 50 ms)`,
              columns: ["agents", "sent", "answered", "failed", "failed by tag", "hung", "turns lost", "turns twice", "p50 ms", "p99 ms", "max ms", "p99 ms, calls across a kill"],
              rows: rows.map((r) => [
                r.kind,
                r.sent,
                r.answered,
                `${r.failed} (${percent(r.failedShare)})`,
                Object.entries(r.byTag).map(([tag, n]) => `${tag} ${n}`).join(", ") || "–",
                r.hung,
                r.lost,
                r.duplicated,
                num(r.p50),
                num(r.p99),
                num(r.max),
                num(r.aroundKillsP99)
              ]),
              notes: [
                "3 runners on one embedded Postgres, the fake model in its own process, callers in this process (client-only colony); all on this machine.",
                "A turn is lost when the caller got an answer but the agent's stored transcript lacks the message; twice when the transcript holds it more than once.",
                `hung: no reply within ${HUNG_MS / 1000} s. interrupt / defect: failures a caller cannot act on.`
              ]
            },
            {
              title: "Shards under kill -9",
              columns: ["kills", "victim found dead p50 s", "p99 s", "victim's shards held again p50 s", "p99 s", "max s", "full coverage after a kill p50 s", "p99 s", "max s", "never covered", "live runners that lost all shards", "'lock storage unhealthy' on live runners", "new runner to first shard p50 s", "max s"],
              rows: [[
                shards.foundOf === shards.kills ? shards.kills : `${shards.kills} (${shards.kills - shards.foundOf} found otherwise)`,
                num(shards.foundP50 / 1000, 1),
                num(shards.foundP99 / 1000, 1),
                num(shards.movedP50 / 1000, 1),
                num(shards.movedP99 / 1000, 1),
                num(shards.movedMax / 1000, 1),
                num(shards.coverageP50 / 1000, 1),
                num(shards.coverageP99 / 1000, 1),
                num(shards.coverageMax / 1000, 1),
                shards.neverCovered,
                shards.liveRunnersLostAll,
                shards.unhealthy,
                num(shards.newRunnerP50 / 1000, 1),
                num(shards.newRunnerMax / 1000, 1)
              ]],
              notes: [
                "Found dead: the first survivor's log line marking the victim unhealthy (liveness lock gone), from the kill; found otherwise: the ping health check marked it first, or it died before it registered.",
                "From the runners' status lines (one a second, on change). Victim's shards: every shard the killed runner held, held by a live runner again (failover).",
                "Full coverage: all 300 shards held by live runners; it waits for the replacement runner too, whose arrival moves shards again (a rebalance releases a shard before its new owner takes it)."
              ]
            }
          ],
          data: {
            plan,
            rows,
            shards,
            kills,
            lostAll,
            // the slowest calls, each with the last kill before it started: where the tail comes from
            slowest: [...calls].sort((a, b) => (b.endedAt - b.startedAt) - (a.endedAt - a.startedAt)).slice(0, 20).map((c) => {
              const kill = [...kills].reverse().find((k) => k.at <= c.startedAt)
              return {
                ...c,
                ms: Math.round(c.endedAt - c.startedAt),
                startedAfterKillMs: kill === undefined ? undefined : Math.round(c.startedAt - kill.at),
                victim: kill?.victim
              }
            })
          }
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
