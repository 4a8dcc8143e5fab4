/**
 * The storage a process uses: the one in its context, else memory in the embedded colony, else SQL.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { Colony } from "@colony/runtime"
import { Config, Effect, Layer, Option } from "effect"
import { layerMemory } from "./memory.js"
import { CoordinationStorage } from "./service.js"
import { layerSql } from "./sql.js"

/**
 * A small pool of its own on the colony's database (`DATABASE_URL`), for a runner whose context
 * does not carry the runtime's `SqlClient`.
 */
const ownPool: Layer.Layer<SqlClient.SqlClient> = PgClient.layerConfig({
  url: Colony.databaseConfig,
  maxConnections: Config.succeed(4)
}).pipe(Layer.orDie)

/**
 * The storage for this process: one already in the context if there is one (a test sharing a
 * store between colonies, a program choosing its own); else in memory in the embedded colony,
 * where there is nothing to survive; else in SQL — through the `SqlClient` in the context if there
 * is one, else through a small pool on `DATABASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CoordinationStorage, never, Colony.Placement> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const given = yield* Effect.serviceOption(CoordinationStorage)
    if (Option.isSome(given)) return Layer.succeed(CoordinationStorage, given.value)
    const sql = yield* Effect.serviceOption(SqlClient.SqlClient)
    if (Option.isSome(sql)) return Layer.provide(layerSql, Layer.succeed(SqlClient.SqlClient, sql.value))
    const placement = yield* Colony.Placement
    return placement.address === "embedded" ? layerMemory : Layer.provide(layerSql, ownPool)
  })
)
