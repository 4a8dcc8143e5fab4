/**
 * The runtime's own tables in the colony's database, as versioned migrations recorded in
 * `colony_migrations`. Every process that joins a colony (runner or client) runs them before it
 * checks the runner secret; storage that may be used without joining (agent memory) runs them on
 * first use.
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
  ),
  // Created at start before this migration, by runners checking the secret: a database made then
  // migrates in place, keeping its verifier.
  "2_runner_secret": Migrations.statements(
    `CREATE TABLE IF NOT EXISTS colony_runner_secret (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      verifier TEXT NOT NULL
    )`
  )
})
