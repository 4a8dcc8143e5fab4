/**
 * A Postgres-backed colony across real processes: runners started with `colony runner`, killed
 * with SIGKILL and SIGTERM, joined by newcomers, and a Postgres restarted under them.
 */
import { Collaboration, DurableSession } from "@colony/agents"
import { Colony } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, ManagedRuntime, Redacted, Schedule } from "effect"
import { createHmac } from "node:crypto"
import { afterEach, describe, expect, it } from "vitest"
import { Clerk, Debater, Keeper } from "./support/agents.js"
import {
  client,
  freshDatabase,
  heldShards,
  hostOf,
  killAll,
  type RunnerProcess,
  spawnRunner,
  postgresPerFile,
  SECRET
} from "./support/cluster.js"

const postgres = postgresPerFile()

afterEach(() => killAll())

/** Start runners and wait until they hold all 300 shards between them. */
const startRunners = async (databaseUrl: string, count: number, first = 1, modelUrl?: string) => {
  const runners: Array<RunnerProcess> = []
  for (let i = 0; i < count; i++) {
    runners.push(await spawnRunner({ name: `runner-${first + i}`, databaseUrl, ...(modelUrl ? { modelUrl } : {}) }))
  }
  await Promise.all(runners.map((r) => r.waitForStatus((s) => heldShards(s) > 0)))
  return runners
}

const describeOn = (id: string) =>
  Effect.flatMap(Colony.client(Clerk), (clerk) => clerk(id).Describe())

describe("runners on Postgres", () => {
  it("3 runners, 30 agents: every runner hosts some of them", async () => {
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 3)
    const colony = client(url)
    try {
      const placements = await colony.runPromise(
        Effect.forEach(Array.from({ length: 30 }, (_, i) => `customer-${i}`), describeOn, {
          concurrency: 10
        })
      )
      const byRunner = new Map<string, number>()
      for (const p of placements) byRunner.set(p.runner, (byRunner.get(p.runner) ?? 0) + 1)
      expect([...byRunner.keys()].sort()).toEqual(runners.map((r) => r.address).sort())
      for (const count of byRunner.values()) expect(count).toBeGreaterThan(0)
    } finally {
      await colony.dispose()
    }
  }, 120_000)

  it("a runner started with the wrong secret is refused and never joins", async () => {
    const url = await freshDatabase(postgres())
    const [good] = await startRunners(url, 1)
    const intruder = await spawnRunner({ name: "intruder", databaseUrl: url, secret: "not-the-secret-of-this-colony-0123456789" })
    const exit = await intruder.exited
    expect(exit.code).not.toBe(0)
    expect(intruder.output.join("\n")).toContain("COLONY_RUNNER_SECRET does not match")
    const colony = client(url)
    try {
      // the colony still serves, from the good runner only
      const placements = await colony.runPromise(
        Effect.forEach(["a", "b", "c", "d", "e", "f"], describeOn, { concurrency: 6 })
      )
      expect(new Set(placements.map((p) => p.runner))).toEqual(new Set([good!.address]))
    } finally {
      await colony.dispose()
    }
  }, 120_000)

  it("a database whose runner secret table was made at start before migrations keeps its secret, and records the migration", async () => {
    const url = await freshDatabase(postgres())
    const db = ManagedRuntime.make(PgClient.layer({ url: Redacted.make(url) }))
    const query = <A extends object>(text: string) =>
      db.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(text)))
    try {
      // as earlier versions left it: the table made at start, the first runner's verifier in it
      await query(`CREATE TABLE IF NOT EXISTS colony_runner_secret (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        verifier TEXT NOT NULL
      )`)
      const verifier = createHmac("sha256", SECRET).update("colony-runner-secret-v1").digest("hex")
      await query(`INSERT INTO colony_runner_secret (id, verifier) VALUES (1, '${verifier}')`)
      const [good] = await startRunners(url, 1)
      const intruder = await spawnRunner({ name: "intruder", databaseUrl: url, secret: "not-the-secret-of-this-colony-0123456789" })
      expect((await intruder.exited).code).not.toBe(0)
      expect(intruder.output.join("\n")).toContain("COLONY_RUNNER_SECRET does not match")
      const colony = client(url)
      try {
        expect((await colony.runPromise(describeOn("a"))).runner).toBe(good!.address)
      } finally {
        await colony.dispose()
      }
      expect(await query("SELECT migration_id, name FROM colony_migrations ORDER BY migration_id")).toEqual([
        { migration_id: 1, name: "agent_memory" },
        { migration_id: 2, name: "runner_secret" }
      ])
      expect(await query("SELECT verifier FROM colony_runner_secret")).toEqual([{ verifier }])
    } finally {
      await db.dispose()
    }
  }, 120_000)

  it("a killed runner's agents answer from another runner, with their memory", async () => {
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 3)
    const colony = client(url)
    try {
      const keeper = (id: string) => Effect.map(Colony.client(Keeper), (make) => make(id))
      const first = await colony.runPromise(
        Effect.flatMap(keeper("ledger-7"), (k) => k.Ask({ prompt: "remember the number 42" }))
      )
      const victim = runners.find((r) => r.address === first.runner)!
      victim.kill("SIGKILL")
      const killedAt = Date.now()
      const second = await colony.runPromise(
        Effect.flatMap(keeper("ledger-7"), (k) => k.Ask({ prompt: "which number did I give you?" }))
      )
      const recoveryMs = Date.now() - killedAt
      console.log(`time to recovery after kill -9: ${recoveryMs} ms`)
      expect(second.runner).not.toBe(first.runner)
      const description = await colony.runPromise(Effect.flatMap(keeper("ledger-7"), (k) => k.Describe()))
      expect(description.memoryMessages).toBe(4)
      expect(description.runner).toBe(second.runner)
    } finally {
      await colony.dispose()
    }
  }, 120_000)

  it("a killed runner is found through its Postgres connection: its shards move long before its heartbeat expires", async () => {
    const url = await freshDatabase(postgres())
    // No ping health check and a 30 s heartbeat expiration: only the liveness lock can find the dead runner.
    const env = { COLONY_HEALTH_CHECK_INTERVAL: "1 hour", COLONY_SHARD_LOCK_EXPIRATION: "30 seconds" }
    const runners: Array<RunnerProcess> = []
    for (let i = 1; i <= 3; i++) runners.push(await spawnRunner({ name: `runner-${i}`, databaseUrl: url, env }))
    const [victim, ...survivors] = runners as [RunnerProcess, ...Array<RunnerProcess>]
    const total = () => survivors.reduce((sum, r) => sum + heldShards(r.statuses[r.statuses.length - 1]!), 0)
    await Promise.all(runners.map((r) => r.waitForStatus((s) => heldShards(s) > 0)))
    expect(total()).toBeLessThan(300)
    victim.kill("SIGKILL")
    const killedAt = Date.now()
    // whichever survivor reports last completes the count
    await Promise.any(survivors.map((r) => r.waitForStatus(() => total() === 300, 25_000)))
    const movedMs = Date.now() - killedAt
    console.log(`shards of a killed runner held by the others after ${movedMs} ms`)
    expect(movedMs).toBeLessThan(15_000)
  }, 120_000)

  it("a stored message marked read by a runner that no longer delivers it is delivered after COLONY_STALE_READ_AFTER, not ten minutes later", async () => {
    const url = await freshDatabase(postgres())
    const runner = await spawnRunner({ name: "runner-1", databaseUrl: url, env: { COLONY_STALE_READ_AFTER: "2 seconds" } })
    await runner.waitForStatus((s) => heldShards(s) === 300, 60_000)
    const colony = client(url)
    const db = ManagedRuntime.make(PgClient.layer({ url: Redacted.make(url) }))
    const query = <A extends object>(text: string) =>
      db.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(text)))
    try {
      const keeper = Effect.map(Colony.client(Keeper), (make) => make("stale-1"))
      await colony.runPromise(Effect.flatMap(keeper, (k) => k.Ask({ prompt: "first entry" })))
      // Frozen, the runner cannot take the message; it is stored and then marked read, as the late
      // poll of a runner giving the shard up marks it.
      runner.kill("SIGSTOP")
      const answer = colony.runPromise(Effect.flatMap(keeper, (k) => k.Ask({ prompt: "second entry" })))
      await colony.runPromise(
        Effect.promise(() => query<{ n: number }>("SELECT count(*)::int AS n FROM cluster_messages WHERE NOT processed")).pipe(
          Effect.repeat({ until: (rows) => rows[0]!.n > 0, schedule: Schedule.spaced("100 millis") })
        )
      )
      await query("UPDATE cluster_messages SET last_read = NOW() WHERE NOT processed")
      runner.kill("SIGCONT")
      const resumed = Date.now()
      const reply = await answer
      const waitedMs = Date.now() - resumed
      console.log(`a message marked read by a runner that did not deliver it was answered ${waitedMs} ms later`)
      expect(reply.text.length).toBeGreaterThan(0)
      expect(waitedMs).toBeLessThan(30_000)
    } finally {
      runner.kill("SIGCONT")
      await colony.dispose()
      await db.dispose()
    }
  }, 120_000)

  it("a fourth runner takes over shards, and SIGTERM hands a runner's shards over without a failed request", async () => {
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 3)
    const fourth = await spawnRunner({ name: "runner-4", databaseUrl: url })
    // the newcomer gets its share: 300 shards over 4 runners
    await fourth.waitForStatus((s) => heldShards(s) >= 60)
    const colony = client(url)
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `customer-${i}`)
      const ask = (id: string, n: number) =>
        Effect.flatMap(Colony.client(Clerk), (clerk) => clerk(id).Ask({ prompt: `question ${n}` }))
      const before = await colony.runPromise(Effect.forEach(ids, (id) => ask(id, 0), { concurrency: 20 }))
      expect(new Set(before.map((a) => a.runner)).has(fourth.address)).toBe(true)

      // requests keep flowing while runner-1 shuts down gracefully
      let stop = false
      const traffic = colony.runPromise(
        Effect.gen(function*() {
          let n = 1
          const answered: Array<string> = []
          // at least three rounds, and on until the handover is complete
          while (!stop || n <= 3) {
            const round = yield* Effect.forEach(ids, (id) => ask(id, n), { concurrency: 20 })
            answered.push(...round.map((a) => a.runner))
            n++
          }
          return { rounds: n - 1, answered }
        })
      )
      const leaving = runners[0]!
      leaving.kill("SIGTERM")
      const exit = await leaving.exited
      expect(exit.signal === "SIGTERM" || exit.code === 143 || exit.code === 0).toBe(true)
      // keep asking until the leaving runner's shards have been taken over
      await Promise.all([runners[1]!, runners[2]!, fourth].map((r) => r.waitForStatus((s) => heldShards(s) >= 90)))
      stop = true
      const { answered, rounds } = await traffic
      expect(rounds).toBeGreaterThanOrEqual(3)
      expect(answered.length).toBe(rounds * ids.length)
      const after = await colony.runPromise(Effect.forEach(ids, (id) => ask(id, 999), { concurrency: 20 }))
      expect(after.some((a) => a.runner === leaving.address)).toBe(false)
    } finally {
      await colony.dispose()
    }
  }, 180_000)

  it("runners reconnect and go on after Postgres restarts under them", async () => {
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 2)
    const colony = client(url)
    try {
      const keeper = Effect.map(Colony.client(Keeper), (make) => make("journal-1"))
      await colony.runPromise(Effect.flatMap(keeper, (k) => k.Ask({ prompt: "first entry" })))
      await postgres().restart()
      const after = await colony.runPromise(
        Effect.flatMap(keeper, (k) => k.Ask({ prompt: "second entry" })).pipe(
          Effect.retry({ times: 20, schedule: Schedule.spaced("500 millis") })
        )
      )
      expect(after.text.length).toBeGreaterThan(0)
      const description = await colony.runPromise(Effect.flatMap(keeper, (k) => k.Describe()))
      expect(description.memoryMessages).toBe(4)
      for (const runner of runners) expect(runner.child.exitCode).toBeNull()
      // every connection dropped at once, liveness locks included: both runners are still counted
      // alive and share the shards again (neither was left marked unhealthy)
      const shared = () =>
        runners.every((r) => heldShards(r.statuses.at(-1)!) > 0) &&
        runners.reduce((sum, r) => sum + heldShards(r.statuses.at(-1)!), 0) === 300
      await Promise.any(runners.map((r) => r.waitForStatus(shared, 30_000)))
    } finally {
      await colony.dispose()
    }
  }, 120_000)

  it("kill -9 of a runner hosting peers mid-collaboration: it completes, no reply lost or duplicated", async () => {
    const fake = await FakeOpenAI.start({ latencyMs: 300 })
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 3, 1, fake.url)
    const colony = client(url)
    try {
      const peers = ["p1", "p2", "p3", "p4"].map((id) => new Collaboration.AgentRef({ agent: "debater", id })) as [
        Collaboration.AgentRef,
        ...Array<Collaboration.AgentRef>
      ]
      const placements = await colony.runPromise(
        Effect.forEach(peers, (peer) => Effect.flatMap(Colony.client(Debater), (debater) => debater(peer.id).Describe()))
      )
      const victim = runners.find((r) => r.address === placements[0]!.runner)!
      const victimPeers = peers.filter((_, i) => placements[i]!.runner === victim.address).map(String)
      let killedAt = 0
      let recoveredAt = 0
      const pattern = Collaboration.Peer.make({ peers, rounds: 3, stop: "fixed-rounds" })
      const result = await colony.runPromise(
        Collaboration.run(pattern, "Should we ship on Friday? Answer yes or no, with one reason.", {
          onEvent: ({ event }) =>
            Effect.sync(() => {
              // kill while round 2's questions are in flight
              if (event._tag === "MessageSent" && event.step.includes("round-2") && killedAt === 0) {
                killedAt = Date.now()
                victim.kill("SIGKILL")
              }
              if (
                killedAt > 0 && recoveredAt === 0 && event._tag === "ReplyReceived" &&
                victimPeers.includes(event.from) && event.outcome === "success"
              ) recoveredAt = Date.now()
            })
        })
      )
      expect(killedAt).toBeGreaterThan(0)
      console.log(`peer collaboration: time to recovery after kill -9: ${recoveredAt - killedAt} ms`)
      expect(result.complete).toBe(true)
      expect(result.missing).toEqual([])
      // every peer answered every round exactly once
      const steps = result.contributions.filter((c) => c.role === "peer").map((c) => c.step)
      expect(steps).toHaveLength(12)
      expect(new Set(steps).size).toBe(12)
    } finally {
      await colony.dispose()
      await fake.close()
    }
  }, 180_000)

  it("a durable session whose runner is killed resumes on another runner without re-running completed steps", async () => {
    const fake = await FakeOpenAI.start({ latencyMs: 500 })
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 3, 1, fake.url)
    const colony = client(url)
    try {
      const peers = ["d1", "d2", "d3"].map((id) => new Collaboration.AgentRef({ agent: "debater", id })) as [
        Collaboration.AgentRef,
        ...Array<Collaboration.AgentRef>
      ]
      const pattern = Collaboration.Peer.make({ peers, rounds: 4, stop: "fixed-rounds" })
      const task = "Which database should we use? Answer in one line."
      const executionId = await colony.runPromise(DurableSession.start("durable-1", pattern, task))
      // round 1 answered and round 2 under way
      await fake.waitForRequests(4)
      const victim = await colony.runPromise(hostOf(runners, executionId))
      expect(victim).toBeDefined()
      const killedAt = Date.now()
      victim!.kill("SIGKILL")
      const result = await colony.runPromise(DurableSession.result("durable-1", pattern, task))
      console.log(`durable session: resumed and finished ${Date.now() - killedAt} ms after kill -9`)
      expect(result.complete).toBe(true)
      expect(result.contributions.filter((c) => c.role === "peer")).toHaveLength(12)

      // the workflow now lives elsewhere
      await Promise.all(runners.filter((r) => r !== victim).map((r) => r.waitForStatus((s) => heldShards(s) >= 150)))
      const newHost = await colony.runPromise(hostOf(runners, executionId))
      expect(newHost).toBeDefined()
      expect(newHost).not.toBe(victim)

      // steps whose model call had finished before the kill were not asked again
      const requests = fake.requests()
      const promptOf = (r: (typeof requests)[number]) => JSON.stringify(r.body.messages?.at(-1))
      // round 2 starts only after every round-1 reply, so when the 4th request had arrived (before
      // the kill) the first three (round 1) had finished: exact, whatever the machine's speed
      const finishedBeforeKill = [...requests].sort((a, b) => a.receivedAt - b.receivedAt).slice(0, 3)
      expect(finishedBeforeKill.every((r) => r.receivedAt < killedAt)).toBe(true)
      // (in round 1 every debater gets the same prompt, so compare counts, not presence)
      for (const done of finishedBeforeKill) {
        const sameBefore = finishedBeforeKill.filter((r) => promptOf(r) === promptOf(done)).length
        expect(requests.filter((r) => promptOf(r) === promptOf(done))).toHaveLength(sameBefore)
      }
      expect(requests.length).toBeLessThan(12 + 3 + 1)
    } finally {
      await colony.dispose()
      await fake.close()
    }
  }, 180_000)

  it("durable sessions running while a runner is added move with their shards and finish there, each step answered once", async () => {
    // slow model replies keep every session running until the newcomer has its share of the shards
    const fake = await FakeOpenAI.start({ latencyMs: 4_000 })
    const url = await freshDatabase(postgres())
    const [first] = await startRunners(url, 1, 1, fake.url)
    await first!.waitForStatus((s) => heldShards(s) === 300, 60_000)
    const colony = client(url)
    try {
      const sessions = Array.from({ length: 8 }, (_, i) => {
        const peers = ["a", "b", "c"].map((p) => new Collaboration.AgentRef({ agent: "debater", id: `s${i}-${p}` })) as [
          Collaboration.AgentRef,
          ...Array<Collaboration.AgentRef>
        ]
        return { id: `moving-${i}`, pattern: Collaboration.Peer.make({ peers, rounds: 3, stop: "fixed-rounds" }) }
      })
      const task = "Which queue should we use? Answer in one line."
      const executions = await colony.runPromise(
        Effect.forEach(sessions, (s) => DurableSession.start(s.id, s.pattern, task), { concurrency: "unbounded" })
      )
      await fake.waitForRequests(sessions.length)
      const second = await spawnRunner({ name: "runner-2", databaseUrl: url, modelUrl: fake.url })
      await second.waitForStatus((s) => heldShards(s) >= 100, 60_000)
      const moved = []
      for (const execution of executions) {
        if ((await colony.runPromise(hostOf([first!, second], execution))) === second) moved.push(execution)
      }
      console.log(`${moved.length} of ${executions.length} running durable sessions moved to the new runner`)
      expect(moved.length).toBeGreaterThan(0)
      // still running when they moved: no session has had all its 9 steps asked yet
      expect(fake.requests().length).toBeLessThan(sessions.length * 9)
      fake.setLatency(50)
      const results = await colony.runPromise(
        Effect.forEach(sessions, (s) => DurableSession.result(s.id, s.pattern, task), { concurrency: "unbounded" })
      )
      for (const result of results) {
        expect(result.complete).toBe(true)
        expect(result.contributions.filter((c) => c.role === "peer")).toHaveLength(9)
      }
      // a step cut off by the handover is asked again, a finished one never: at most one extra per peer
      expect(fake.requests().length).toBeLessThanOrEqual(sessions.length * (9 + 3))
    } finally {
      await colony.dispose()
      await fake.close()
    }
  }, 180_000)

  it("a plain (volatile) message in flight when its runner is killed is answered by the runner that takes over", async () => {
    const fake = await FakeOpenAI.start({ latencyMs: 1500 })
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 2, 1, fake.url)
    const colony = client(url)
    try {
      const clerk = Effect.map(Colony.client(Clerk), (make) => make("walk-in-1"))
      const before = await colony.runPromise(Effect.flatMap(clerk, (c) => c.Describe()))
      const victim = runners.find((r) => r.address === before.runner)!
      const answer = colony.runPromise(Effect.flatMap(clerk, (c) => c.Ask({ prompt: "are you open today?" })))
      await fake.waitForRequests(1)
      victim.kill("SIGKILL")
      const reply = await answer
      expect(reply.runner).not.toBe(victim.address)
      // the model was asked again by the new owner: volatile messages are re-sent, not deduplicated
      expect(fake.stats().chatRequests).toBe(2)
    } finally {
      await colony.dispose()
      await fake.close()
    }
  }, 120_000)
})
