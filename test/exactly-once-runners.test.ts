/**
 * Exactly-once turns of durable agents across real runner processes. A durable message whose
 * runner is killed with SIGKILL mid-message is replayed from the start on another runner; what
 * the first execution had done (its model and tool steps, its committed turn) is keyed by the
 * message id, so the replay repeats none of it and the caller gets the answer the turn committed.
 */
import * as Runners from "@colony/apps/RunnerProcess"
import { type Agent, Colony } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Deferred, Effect, Exit, Layer, ManagedRuntime, Redacted, Schedule } from "effect"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { freshDatabase, heldShards, killAll, postgresPerFile, SECRET } from "./support/cluster.js"
import { Archivist, Recorder } from "./support/durable-agents.js"

const agentsModule = fileURLToPath(new URL("./support/durable-agents.ts", import.meta.url))

const postgres = postgresPerFile()

afterEach(() => killAll())

/** Start runners hosting the durable agents and wait until each holds its share of the shards. */
const startRunners = async (databaseUrl: string, count: number, modelUrl: string) => {
  const runners: Array<Runners.RunnerProcess> = []
  for (let i = 1; i <= count; i++) {
    runners.push(
      await Runners.spawnRunner({
        name: `runner-${i}`,
        databaseUrl,
        secret: SECRET,
        agentsModule,
        env: { COLONY_MODEL_URL: modelUrl, COLONY_MODEL_KEY: "test-key" }
      })
    )
  }
  // the layout is settled (no shard moving) before a test picks the runner to kill
  await Promise.all(runners.map((r) => r.waitForStatus((s) => heldShards(s) === 300 / count)))
  return runners
}

const clientOf = (databaseUrl: string) =>
  ManagedRuntime.make(
    Colony.declare(Recorder, Archivist).pipe(
      Layer.provideMerge(
        Colony.layerClientOnly({ databaseUrl: Redacted.make(databaseUrl), cluster: { secret: Redacted.make(SECRET) } })
      )
    )
  )

type Database = ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown>

const database = (url: string): Database => ManagedRuntime.make(PgClient.layer({ url: Redacted.make(url) }))

const query = <A extends object>(db: Database, text: string, ...params: Array<string>) =>
  db.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(text, params)))

const transcriptOf = async (db: Database, key: string) => {
  const rows = await query<{ transcript: string }>(db, "SELECT transcript FROM colony_agent_memory WHERE key = $1", key)
  return rows.length === 0 ? [] : (JSON.parse(rows[0]!.transcript) as Array<{ content: string }>).map((m) => m.content)
}

const stepsOf = async (db: Database, key: string, messageId: string) =>
  (await query<{ step: string }>(
    db,
    "SELECT step FROM colony_agent_steps WHERE key = $1 AND message_id = $2 ORDER BY step",
    key,
    messageId
  )).map((row) => row.step)

/** The same message (same id) sent again until a reply comes: a caller's retry after its runner died. */
const askUntilAnswered = <E, R>(ask: Effect.Effect<Agent.Answer, E, R>) =>
  ask.pipe(
    Effect.timeout("10 seconds"),
    Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("60 seconds")))
  )

const answerOf = <E>(exit: Exit.Exit<Agent.Answer, E>): Agent.Answer => {
  if (Exit.isFailure(exit)) throw new Error(`the call was not answered: ${String(exit.cause)}`)
  return exit.value
}

/** Hold a lock on the cluster's reply table: no reply can be stored until it is released. */
const holdReplies = async (db: Database) => {
  const locked = Effect.runSync(Deferred.make<void>())
  const release = Effect.runSync(Deferred.make<void>())
  const done = db.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql.withTransaction(
        sql`LOCK TABLE cluster_replies IN EXCLUSIVE MODE`.pipe(
          Effect.zipRight(Deferred.succeed(locked, undefined)),
          Effect.zipRight(Deferred.await(release))
        )
      ))
  )
  await Effect.runPromise(Deferred.await(locked))
  return async () => {
    await Effect.runPromise(Deferred.succeed(release, undefined))
    await done
  }
}

/** Check a condition (a database row, a request the fake model received) until it holds. */
const waitFor = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe("exactly-once turns of durable agents on real runners", () => {
  it("a durable message whose runner is killed after its turn was committed, before its reply was stored, is answered with the committed answer by another runner", async () => {
    const fake = await FakeOpenAI.start()
    fake.script("the first answer", "a second answer")
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 2, fake.url)
    const colony = clientOf(url)
    const db = database(url)
    try {
      const recorder = Effect.map(Colony.client(Recorder), (make) => make("ledger-1"))
      const host = (await colony.runPromise(Effect.flatMap(recorder, (r) => r.Describe()))).runner
      const victim = runners.find((r) => r.address === host)!
      // the turn can be committed, its reply cannot be stored: the runner dies in between
      const releaseReplies = await holdReplies(db)
      const ask = Effect.flatMap(recorder, (r) => r.Ask({ prompt: "record entry 1", messageId: "entry-1" }))
      const first = colony.runPromiseExit(Effect.timeout(ask, "20 seconds"))
      await waitFor(
        async () => (await transcriptOf(db, "recorder/ledger-1")).includes("the first answer"),
        "the turn committed"
      )
      victim.kill("SIGKILL")
      await victim.exited
      await releaseReplies()

      // the caller's own call is answered: no retry, no interrupt
      const answer = answerOf(await first)
      // the answer the killed runner committed, not a second one
      expect(answer.text).toBe("the first answer")
      expect(answer.runner).toBe(victim.address)
      expect(fake.stats().chatRequests).toBe(1)
      // the same message sent again gets the same answer, still without asking the model
      const again = await colony.runPromise(askUntilAnswered(ask))
      expect(again.text).toBe("the first answer")
      // a new message is answered by the new owner, after the one turn in memory
      const next = await colony.runPromise(
        askUntilAnswered(Effect.flatMap(recorder, (r) => r.Ask({ prompt: "record entry 2", messageId: "entry-2" })))
      )
      expect(next.runner).not.toBe(victim.address)
      expect(next.text).toBe("a second answer")
      expect(fake.stats().chatRequests).toBe(2)
      expect(await transcriptOf(db, "recorder/ledger-1")).toEqual([
        "record entry 1",
        "the first answer",
        "record entry 2",
        "a second answer"
      ])
    } finally {
      await colony.dispose()
      await db.dispose()
      await fake.close()
    }
  }, 180_000)

  it("a durable message whose runner is killed mid tool loop resumes on another runner without asking the model or running the tool again for completed steps", async () => {
    const fake = await FakeOpenAI.start({ latencyMs: 300 })
    fake.script({ toolCalls: [{ name: "file_note", arguments: { note: "invoice 7" } }] }, "filed the invoice", "filed it again")
    const url = await freshDatabase(postgres())
    const runners = await startRunners(url, 2, fake.url)
    const colony = clientOf(url)
    const db = database(url)
    try {
      const archivist = Effect.map(Colony.client(Archivist), (make) => make("archive-1"))
      const host = (await colony.runPromise(Effect.flatMap(archivist, (a) => a.Describe()))).runner
      const victim = runners.find((r) => r.address === host)!
      const ask = Effect.flatMap(archivist, (a) => a.Ask({ prompt: "file invoice 7", messageId: "file-7" }))
      const first = colony.runPromiseExit(Effect.timeout(ask, "30 seconds"))
      // the first model call has drawn its (absent) fault and is waiting out its latency: the
      // next call, the one after the tool ran, never answers
      await waitFor(() => fake.requests().length >= 1, "the first model call received")
      fake.inject("hang")
      await fake.waitForRequests(2)
      // the model step that asked for the tool and the tool's result were recorded before the call
      expect(await stepsOf(db, "archivist/archive-1", "file-7")).toEqual(["model-1", "tool-1"])
      victim.kill("SIGKILL")

      const answer = answerOf(await first)
      expect(answer.runner).not.toBe(victim.address)
      expect(answer.text).toBe("filed the invoice")
      // the tool ran once, on the runner that was killed
      expect(answer.tools.map((t) => t.output)).toEqual([`filed "invoice 7" in process ${victim.child.pid}`])
      // the replay's only model call was the one that had not answered, with the tool's result
      const requests = fake.requests()
      expect(requests.map((r) => r.fault)).toEqual([undefined, "hang", undefined])
      expect(requests[2]!.body.messages?.some((m) => m.role === "tool")).toBe(true)
      expect(await transcriptOf(db, "archivist/archive-1")).toEqual(["file invoice 7", "filed the invoice"])
      expect(await stepsOf(db, "archivist/archive-1", "file-7")).toEqual(["answer"])
    } finally {
      await colony.dispose()
      await db.dispose()
      await fake.close()
    }
  }, 180_000)
})
