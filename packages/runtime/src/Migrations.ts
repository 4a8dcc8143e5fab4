/**
 * Versioned schema migrations for the tables colony code keeps in the colony's Postgres database,
 * run by `@effect/sql`'s Migrator. The runtime's own tables (agent memory, the runner secret) are
 * recorded in `colony_migrations`; a package or an application that keeps tables of its own gives
 * them a migrations table of its own (`@colony/agents` coordination state, the support desk). The
 * Migrator runs every migration numbered above the highest one its table records, so one table
 * holds one owner's sequence: owners that shared one could skip each other's migrations. The
 * cluster's tables stay the cluster's (`cluster_migrations`).
 *
 * ```ts
 * const schema = Migrations.make("support_migrations", {
 *   "1_tickets": Migrations.statements("CREATE TABLE IF NOT EXISTS tickets (id TEXT PRIMARY KEY)")
 * })
 * yield* Migrations.run(schema)
 * ```
 *
 * A migration, once released, never changes; a change to a table is a new migration. The first
 * migration of a set that replaced `CREATE TABLE IF NOT EXISTS` at start keeps those statements,
 * so a database made before the set existed migrates in place.
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"

/**
 * One owner's migrations: its bookkeeping table, and its migrations keyed `<id>_<name>`
 * (`"1_agent_memory"`), run in the order of their ids.
 *
 * @since 0.1.0
 * @category models
 */
export interface Migrations {
  readonly table: string
  readonly migrations: Readonly<Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>>>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  table: string,
  migrations: Readonly<Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>>>
): Migrations => ({ table, migrations })

/**
 * A migration of plain statements, run in order.
 *
 * @since 0.1.0
 * @category constructors
 */
export const statements = (...ddl: ReadonlyArray<string>): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.forEach(ddl, (statement) => sql.unsafe(statement), { discard: true }))

const migrator = Migrator.make({})

/**
 * Run the migrations the database has not recorded yet; returns those it ran (none when another
 * process ran them first).
 *
 * Processes starting together (runners) take turns under a transaction-level advisory lock named
 * after the table, the same way runners serialise their other set-up: the Migrator's own check
 * for its table and the first `CREATE TABLE IF NOT EXISTS` race otherwise. The table is created
 * under the lock with the Migrator's definition, so the Migrator finds it.
 *
 * @since 0.1.0
 */
export const run = (
  migrations: Migrations
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, Migrator.MigrationError | SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    // the Migrator skips keys it cannot read; a misnamed migration would never run
    const misnamed = Object.keys(migrations.migrations).filter((key) => !/^\d+_.+$/.test(key))
    if (misnamed.length > 0) {
      return yield* new Migrator.MigrationError({
        reason: "import-error",
        message: `migrations of ${migrations.table} must be keyed <id>_<name>, not ${misnamed.join(", ")}`
      })
    }
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`SELECT pg_advisory_xact_lock(hashtext(${migrations.table}))`
      yield* sql`CREATE TABLE IF NOT EXISTS ${sql(migrations.table)} (
        migration_id integer primary key,
        created_at timestamp with time zone not null default now(),
        name text not null
      )`
      return yield* migrator({ loader: Migrator.fromRecord({ ...migrations.migrations }), table: migrations.table })
    }))
  }).pipe(
    // the Migrator makes a failed migration a defect; it is an error its caller can report
    Effect.catchSomeDefect((defect) =>
      defect instanceof Migrator.MigrationError ? Option.some(Effect.fail(defect)) : Option.none()
    )
  )

/**
 * An effect that runs `migrations` the first time it succeeds and does nothing after, for storage
 * that migrates on first use: a process may start before its database is up, and building its
 * layer must not fail for that.
 *
 * @since 0.1.0
 */
export const once = (
  migrations: Migrations
): Effect.Effect<void, Migrator.MigrationError | SqlError, SqlClient.SqlClient> => {
  let done = false
  return Effect.suspend(() =>
    done ? Effect.void : Effect.asVoid(Effect.tap(run(migrations), () => {
      done = true
    }))
  )
}
