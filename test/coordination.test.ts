/**
 * Coordination state across real runner processes on Postgres: lock leases, topic subscriptions,
 * prepared 2PC participants and coordinator decisions survive their entity's shard moving to
 * another runner — when a runner joins (a graceful rebalance) and when the hosting runner is
 * killed with SIGKILL.
 */
import { CoordinationStorage, Lock, Topic, TwoPhaseCommit } from "@colony/agents"
import * as Runners from "@colony/apps/RunnerProcess"
import { Colony } from "@colony/runtime"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Layer, ManagedRuntime, Option, Redacted, Schedule } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { fileURLToPath } from "node:url"
import { freshDatabase, heldShards, hostOf, killAll, postgresPerFile, type RunnerProcess, SECRET } from "./support/cluster.js"
import { Account, Reader } from "./support/coordination.js"

const agentsModule = fileURLToPath(new URL("./support/coordination.ts", import.meta.url))

const postgres = postgresPerFile()

afterEach(() => killAll())

const spawn = (name: string, databaseUrl: string) =>
  Runners.spawnRunner({ name, databaseUrl, secret: SECRET, agentsModule })

/** A client-only colony knowing the test agents, with the coordination storage on the same database. */
const client = (databaseUrl: string) =>
  ManagedRuntime.make(
    Layer.mergeAll(Colony.declare(Reader, Account.agent), CoordinationStorage.layerSql).pipe(
      Layer.provideMerge(
        Colony.layerClientOnly({ databaseUrl: Redacted.make(databaseUrl), cluster: { secret: Redacted.make(SECRET) } })
      ),
      Layer.provide(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 2 }))
    )
  )

type Client = ReturnType<typeof client>

/** A call made while shards move: a defect or interrupt (a dropped socket) is tried again; typed errors are answers. */
const patiently = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.sandbox,
    Effect.retry({
      schedule: Schedule.spaced("500 millis"),
      times: 20,
      while: (cause) => cause._tag !== "Fail"
    }),
    Effect.unsandbox
  )

/** Wait until every runner reports at least 100 shards and together they report all 300. */
const settled = async (runners: ReadonlyArray<RunnerProcess>) => {
  const held = () => runners.map((r) => r.statuses.length === 0 ? 0 : heldShards(r.statuses.at(-1)!))
  for (let i = 0; i < 120; i++) {
    const counts = held()
    if (counts.every((n) => n >= 100) && counts.reduce((a, b) => a + b, 0) === 300) return
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`shards never settled: ${held().join(", ")}`)
}

const ids = Array.from({ length: 12 }, (_, i) => i)
const lockName = (i: number) => `ledger-${i}`
const topicName = (i: number) => `news-${i}`
const account = (i: number) => `acct-${i}`
const transaction = (i: number) => `tx-${i}`

/**
 * Before the move: a 30-minute lease on every lock, a subscriber on every topic, and for every
 * account a prepared transaction whose coordinator recorded "committed" and then died before
 * telling anyone.
 */
const setUp = (colony: Client) =>
  colony.runPromise(
    Effect.gen(function*() {
      const storage = yield* CoordinationStorage.CoordinationStorage
      return yield* Effect.forEach(ids, (i) =>
        Effect.gen(function*() {
          const lease = yield* Lock.tryAcquire(lockName(i), "owner-a", "30 minutes")
          yield* Topic.subscribe(topicName(i), "reader", `r-${i}`)
          const vote = yield* Colony.send("account", account(i), "Prepare", { transaction: transaction(i), action: "debit:5", clock: 1 })
          expect(vote).toMatchObject({ vote: "commit" })
          yield* storage.decide(
            transaction(i),
            new CoordinationStorage.DecisionRecord({
              decision: "committed",
              votes: [{ participant: `account/${account(i)}`, vote: "commit" }]
            })
          )
          return lease
        }), { concurrency: 4 })
    })
  )

/** Which of the ids live on `runner` now, for each kind of entity. */
const hostedOn = (colony: Client, runners: ReadonlyArray<RunnerProcess>, runner: RunnerProcess) =>
  colony.runPromise(
    Effect.gen(function*() {
      const on = (name: (i: number) => string) =>
        Effect.filter(ids, (i) => Effect.map(hostOf(runners, name(i)), (host) => host === runner))
      return { locks: yield* on(lockName), topics: yield* on(topicName), accounts: yield* on(account) }
    })
  )

/** After the move: every moved entity still knows what it knew. */
const checkMoved = async (
  colony: Client,
  leases: ReadonlyArray<Lock.Lease>,
  moved: { readonly locks: ReadonlyArray<number>; readonly topics: ReadonlyArray<number>; readonly accounts: ReadonlyArray<number> }
) => {
  expect(moved.locks.length).toBeGreaterThan(0)
  expect(moved.topics.length).toBeGreaterThan(0)
  expect(moved.accounts.length).toBeGreaterThan(0)
  await colony.runPromise(
    Effect.gen(function*() {
      for (const i of moved.locks) {
        // a second would-be owner is refused: the lease, with its 30 minutes, is still there
        const refused = yield* Effect.flip(patiently(Lock.tryAcquire(lockName(i), "owner-b", "30 minutes")))
        expect.soft(refused, `lock ${lockName(i)}`).toMatchObject({ _tag: "LockHeld" })
        const holder = yield* patiently(Lock.current(lockName(i)))
        expect.soft(holder, `lock ${lockName(i)}`).toMatchObject({ owner: "owner-a", token: leases[i]!.token })
      }
      for (const i of moved.topics) {
        const delivery = yield* patiently(Topic.publish(topicName(i), "after the move"))
        expect.soft(delivery.delivered, `topic ${topicName(i)}`).toEqual([`reader/r-${i}`])
      }
      for (const i of moved.accounts) {
        // the participant is still prepared; the recorded decision is what a recovering coordinator sends
        const ack = yield* patiently(Colony.send("account", account(i), "Commit", { transaction: transaction(i), clock: 2 }))
        expect(ack).toMatchObject({ state: "committed" })
        const decision = yield* TwoPhaseCommit.decision(transaction(i))
        expect(Option.map(decision, (d) => d.decision)).toEqual(Option.some("committed"))
        const outcome = yield* patiently(TwoPhaseCommit.run(transaction(i), [{ agent: "account", id: account(i), action: "debit:5" }]))
        expect(outcome.decision).toBe("committed")
        expect(outcome.participants[0]).toMatchObject({ vote: "commit", acknowledged: true })
      }
    })
  )
}

describe("coordination state on runners", () => {
  it("owners racing for one lock through separate connections, on tables not yet created: exactly one is granted", async () => {
    const url = await freshDatabase(postgres())
    const store = () =>
      ManagedRuntime.make(
        CoordinationStorage.layerSql.pipe(Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 4 })))
      )
    const stores = [store(), store(), store()]
    try {
      const owners = Array.from({ length: 24 }, (_, i) => `owner-${i}`)
      const outcomes = await Promise.all(owners.map((owner, i) =>
        stores[i % stores.length]!.runPromise(
          Effect.flatMap(CoordinationStorage.CoordinationStorage, (storage) => storage.acquire("contested", owner, 60_000))
        )
      ))
      const granted = outcomes.flatMap((o) => "granted" in o ? [o.granted] : [])
      expect(granted).toHaveLength(1)
      for (const o of outcomes) if ("heldBy" in o) expect(o.heldBy.owner).toBe(granted[0]!.owner)
    } finally {
      await Promise.all(stores.map((s) => s.dispose()))
    }
  }, 60_000)

  it("leases, subscriptions, prepared participants and decisions survive a graceful rebalance to a new runner", async () => {
    const url = await freshDatabase(postgres())
    const first = await spawn("runner-1", url)
    await first.waitForStatus((s) => heldShards(s) === 300, 60_000)
    const colony = client(url)
    try {
      const leases = await setUp(colony)
      const second = await spawn("runner-2", url)
      await settled([first, second])
      const moved = await hostedOn(colony, [first, second], second)
      console.log(`rebalance moved ${moved.locks.length} locks, ${moved.topics.length} topics, ${moved.accounts.length} participants`)
      await checkMoved(colony, leases, moved)
    } finally {
      await colony.dispose()
    }
  }, 180_000)

  it("leases, subscriptions, prepared participants and decisions survive kill -9 of the runner hosting them", async () => {
    const url = await freshDatabase(postgres())
    const runners = [await spawn("runner-1", url), await spawn("runner-2", url)]
    // a settled layout, so the shards hosting what the test sets up stay where they are until the kill
    await settled(runners)
    const colony = client(url)
    try {
      const leases = await setUp(colony)
      const victim = (await colony.runPromise(hostOf(runners, lockName(0))))!
      expect(victim).toBeDefined()
      const hosted = await hostedOn(colony, runners, victim)
      console.log(`the killed runner hosted ${hosted.locks.length} locks, ${hosted.topics.length} topics, ${hosted.accounts.length} participants`)
      const survivor = runners.find((r) => r !== victim)!
      victim.kill("SIGKILL")
      await victim.exited
      await survivor.waitForStatus((s) => heldShards(s) === 300, 60_000)
      await checkMoved(colony, leases, hosted)
    } finally {
      await colony.dispose()
    }
  }, 180_000)
})
