/**
 * The versioned migrations that create the coordination tables.
 */
import { Migrations } from "@colony/runtime"

/**
 * The coordination tables, as versioned migrations recorded in `colony_coordination_migrations`.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrations = Migrations.make("colony_coordination_migrations", {
  // As the tables were created at start before migrations: a database made then migrates in place.
  "1_coordination": Migrations.statements(
    `CREATE TABLE IF NOT EXISTS colony_locks (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      token BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS colony_topic_subscribers (
      topic TEXT NOT NULL,
      agent TEXT NOT NULL,
      id TEXT NOT NULL,
      via TEXT NOT NULL,
      seq BIGSERIAL,
      PRIMARY KEY (topic, agent, id)
    )`,
    `CREATE TABLE IF NOT EXISTS colony_logical_clocks (
      node TEXT PRIMARY KEY,
      time BIGINT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS colony_2pc_participants (
      participant TEXT NOT NULL,
      tx TEXT NOT NULL,
      phase TEXT NOT NULL,
      vote TEXT NOT NULL,
      reason TEXT,
      PRIMARY KEY (participant, tx)
    )`,
    `CREATE TABLE IF NOT EXISTS colony_2pc_decisions (
      tx TEXT PRIMARY KEY,
      decision TEXT NOT NULL,
      votes TEXT NOT NULL,
      decided_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
  )
})
