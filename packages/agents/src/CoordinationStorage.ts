/**
 * Where the coordination entities keep their state: lock leases, topic subscriptions, Lamport
 * clocks, two-phase-commit participant records and coordinator decisions. An entity's own memory
 * is rebuilt empty on the runner that takes its shard over — after a crash and after a graceful
 * rebalance alike — and for a short while two instances of the same entity can coexist on two
 * runners. So the state lives here, and every change is a single statement (or an atomic update
 * in memory) whose result decides: acquiring a lease is an `INSERT … ON CONFLICT … WHERE expired
 * RETURNING`, so two owners can never both be granted it, whichever instance asks.
 *
 * `layerMemory` keeps it in the process (the embedded colony: one process, nothing to survive);
 * `layerSql` keeps it in the colony's SQL database (Postgres on runners), with its tables created
 * on first use. `layer` picks the way the runtime's agent memory does: memory in the embedded
 * colony, SQL anywhere else.
 *
 * Lease expiry on SQL uses the database's clock, the one clock every runner shares; in memory it
 * uses the Effect `Clock`, so tests drive it with `TestClock`.
 *
 * @since 0.1.0
 */
export { layer } from "./internal/coordination/layer.js"
export { layerMemory } from "./internal/coordination/memory.js"
export { migrations } from "./internal/coordination/migrations.js"
export {
  CoordinationStorage,
  DecisionRecord,
  type LeaseRow,
  type ParticipantRecord,
  type Service,
  StorageError,
  type SubscriberRow
} from "./internal/coordination/service.js"
export { layerSql } from "./internal/coordination/sql.js"
