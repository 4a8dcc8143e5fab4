/**
 * The colony's tables come from versioned migrations (`@effect/sql`'s Migrator): the runtime's in
 * `colony_migrations`, `@colony/agents`' coordination tables in `colony_coordination_migrations`,
 * the support desk's in `support_migrations`, each on first use of its storage.
 */
import { CoordinationStorage } from "@colony/agents"
import { AgentMemory, LanguageModel, Migrations } from "@colony/runtime"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DevPostgres from "../src/runner/DevPostgres.js"
import * as Store from "../src/support/Store.js"

let pg: DevPostgres.Server
beforeAll(async () => {
  pg = await DevPostgres.start({ dataDir: join(mkdtempSync(join(tmpdir(), "colony-migrations-")), "pg"), persistent: false })
}, 60_000)
afterAll(() => pg?.stop())

let databases = 0
const freshDatabase = async () => {
  const name = `migrations_${process.pid}_${++databases}`
  await pg.createDatabase(name)
  return pg.url(name)
}

/** A process's storage on `url`, with its own connection pool. */
const storage = (url: string) =>
  ManagedRuntime.make(
    Layer.mergeAll(AgentMemory.layerSql, CoordinationStorage.layerSql, Store.layer).pipe(
      Layer.provideMerge(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 }))
    )
  )

/** The first use of each storage, which migrates it. */
const useEach = Effect.gen(function*() {
  const memory = yield* AgentMemory.AgentMemory
  yield* memory.save("faq/c1", [LanguageModel.ChatMessage.user("hello")])
  const coordination = yield* CoordinationStorage.CoordinationStorage
  yield* coordination.acquire("a-lock", "owner-1", 60_000)
  const store = yield* Store.Store
  return yield* store.order("A-10023")
})

const recorded = (table: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ migration_id: number; name: string }>`SELECT migration_id, name FROM ${sql(table)} ORDER BY migration_id`)

const everyMigration = Effect.all({
  colony: recorded("colony_migrations"),
  coordination: recorded("colony_coordination_migrations"),
  support: recorded("support_migrations")
})

const expected = {
  colony: [{ migration_id: 1, name: "agent_memory" }, { migration_id: 2, name: "runner_secret" }],
  coordination: [{ migration_id: 1, name: "coordination" }],
  support: [{ migration_id: 1, name: "support_tables" }, { migration_id: 2, name: "demo_orders" }]
}

describe("colony tables by versioned migrations", () => {
  it("a fresh database gets every table on first use, each migration recorded once in its owner's table", async () => {
    const colony = storage(await freshDatabase())
    try {
      const order = await colony.runPromise(useEach)
      expect(order.id).toBe("A-10023")
      expect(await colony.runPromise(everyMigration)).toEqual(expected)
      // the cluster's bookkeeping is not touched
      const cluster = await colony.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ found: string | null }>`SELECT to_regclass('cluster_migrations')::text AS found`))
      expect(cluster[0]!.found).toBeNull()
    } finally {
      await colony.dispose()
    }
  }, 60_000)

  it("a database whose tables were made by CREATE TABLE IF NOT EXISTS before migrations migrates in place, keeping its rows", async () => {
    const url = await freshDatabase()
    const before = storage(url)
    try {
      // what earlier versions created at start, with rows in them
      await before.runPromise(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // the first migrations hold those statements as they were
        yield* CoordinationStorage.migrations.migrations["1_coordination"]!
        yield* Store.migrations.migrations["1_support_tables"]!
        yield* sql`CREATE TABLE IF NOT EXISTS colony_agent_memory (
          key TEXT PRIMARY KEY, transcript TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now())`
        yield* sql`INSERT INTO colony_agent_memory (key, transcript) VALUES ('faq/old', '[{"role":"user","content":"kept"}]')`
        yield* sql`INSERT INTO colony_locks (name, owner, token, expires_at) VALUES ('old-lock', 'old-owner', 7, 0)`
        yield* sql`INSERT INTO orders (id, customer, email, items, total_cents, status, address, placed_on)
          VALUES ('A-10023', 'Changed', 'ana.ribeiro@example.com', 'x', 1, 'shipped', '1 Old Road', '2026-01-01')`
      }))
    } finally {
      await before.dispose()
    }

    const after = storage(url)
    try {
      const order = await after.runPromise(useEach)
      // the seed does not overwrite an order that is already there
      expect(order.customer).toBe("Changed")
      expect(await after.runPromise(everyMigration)).toEqual(expected)
      const kept = await after.runPromise(Effect.gen(function*() {
        const memory = yield* AgentMemory.AgentMemory
        const sql = yield* SqlClient.SqlClient
        return {
          memory: Option.map(yield* memory.load("faq/old"), (t) => t.map((m) => m.content)),
          lock: (yield* sql<{ token: string }>`SELECT token FROM colony_locks WHERE name = 'old-lock'`)[0]?.token,
          steps: (yield* sql<{ found: string | null }>`SELECT to_regclass('colony_agent_steps')::text AS found`)[0]?.found
        }
      }))
      expect(kept).toEqual({ memory: Option.some(["kept"]), lock: "7", steps: "colony_agent_steps" })
    } finally {
      await after.dispose()
    }
  }, 60_000)

  it("processes starting together on an empty database all migrate it, and each migration runs once", async () => {
    const url = await freshDatabase()
    const processes = Array.from({ length: 6 }, () => storage(url))
    try {
      const orders = await Promise.all(processes.map((p) => p.runPromise(useEach)))
      expect(orders.map((o) => o.id)).toEqual(Array(6).fill("A-10023"))
      expect(await processes[0]!.runPromise(everyMigration)).toEqual(expected)
    } finally {
      await Promise.all(processes.map((p) => p.dispose()))
    }
  }, 60_000)

  it("a later migration runs on a database that has the earlier ones, and a misnamed one is refused", async () => {
    const colony = storage(await freshDatabase())
    const first = Migrations.make("test_migrations", {
      "1_notes": Migrations.statements("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    })
    const second = Migrations.make("test_migrations", {
      ...first.migrations,
      "2_note_text": Migrations.statements("ALTER TABLE notes ADD COLUMN text TEXT")
    })
    try {
      expect(await colony.runPromise(Migrations.run(first))).toEqual([[1, "notes"]])
      expect(await colony.runPromise(Migrations.run(first))).toEqual([])
      expect(await colony.runPromise(Migrations.run(second))).toEqual([[2, "note_text"]])
      const misnamed = await colony.runPromise(
        Effect.flip(Migrations.run(Migrations.make("test_migrations", { "notes-3": Migrations.statements("SELECT 1") })))
      )
      expect(misnamed.message).toContain("must be keyed <id>_<name>, not notes-3")
    } finally {
      await colony.dispose()
    }
  }, 60_000)
})
