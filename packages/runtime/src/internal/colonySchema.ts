/**
 * The runtime's own tables in the colony's database, as versioned migrations recorded in
 * `colony_migrations`.
 */
import * as Migrations from "../Migrations.js"

export const colonyMigrations = Migrations.make("colony_migrations", {
  // As the tables were created at start before migrations: a database made then migrates in place.
  "1_agent_memory": Migrations.statements(
    `CREATE TABLE IF NOT EXISTS colony_agent_memory (
      key TEXT PRIMARY KEY,
      transcript TEXT NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS colony_agent_steps (
      key TEXT NOT NULL,
      message_id TEXT NOT NULL,
      step TEXT NOT NULL,
      value TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (key, message_id, step)
    )`,
    `CREATE TABLE IF NOT EXISTS colony_agent_memory_quarantine (
      id BIGSERIAL PRIMARY KEY,
      key TEXT NOT NULL,
      transcript TEXT NOT NULL,
      reason TEXT NOT NULL,
      quarantined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      released_at TIMESTAMPTZ
    )`
  )
})
