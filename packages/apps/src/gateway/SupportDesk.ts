/**
 * The support desk on a gateway: its agents hosted in an embedded gateway's colony (with the
 * Postgres its orders and tickets live in), and its pages and API on any gateway.
 *
 * @since 0.1.0
 */
import { type Agent, type Colony, ColonyError } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Effect, Layer } from "effect"
import type * as A2A from "./A2A.js"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as DevPostgres from "../DevPostgres.js"
import * as Desk from "../support/Desk.js"
import * as Support from "../support/Support.js"
import * as SupportWeb from "../support/web/SupportWeb.js"

/**
 * Where an embedded gateway's support desk keeps its orders and tickets.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** a Postgres the desk's tables go in; unset: an embedded Postgres started with the gateway */
  readonly databaseUrl?: string | undefined
  /** the embedded Postgres's data directory, kept across runs; unset: a throw-away directory */
  readonly dataDir?: string | undefined
}

/**
 * The support desk's agent types, for the gateway's `agents`.
 *
 * @since 0.1.0
 */
export const agents = Support.agents

/**
 * The support desk's pages and API, for the gateway's `routes`.
 *
 * @since 0.1.0
 */
export const routes = SupportWeb.routes

/**
 * The support desk as an A2A agent (`/a2a/support-desk`): another framework's agent talks to the
 * desk as a customer would, the A2A context id being the conversation. A reply that hands the case
 * to a person says so, with the ticket.
 *
 * @since 0.1.0
 */
export const application: A2A.Application = {
  name: "support-desk",
  description: "Northwind Goods customer service: orders (status, address changes, refunds), billing, " +
    "technical help and the help centre, with a person taking over when needed. One A2A context is one " +
    "customer conversation.",
  tags: ["customer-service", "orders", "billing", "technical"],
  examples: ["Where is my order A-10023?", "How long do refunds take?"],
  answer: (conversation, text, caller) =>
    Desk.send(conversation, text, { customer: caller.customer ?? undefined }).pipe(
      Effect.map((reply) =>
        reply.escalation === null
          ? reply.text
          : `${reply.text}\n\n(handed to a person: ticket ${reply.escalation.id}; the answer will join this conversation)`
      ),
      Effect.mapError((error) => ({ _tag: error._tag, message: error.message }))
    )
}

const DATABASE = "support"

/** An embedded Postgres for the desk's tables, for as long as the layer lives. */
const embeddedDatabase = (dataDir: string | undefined) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        DevPostgres.start({
          dataDir: dataDir ?? join(mkdtempSync(join(tmpdir(), "colony-gateway-")), "postgres"),
          persistent: dataDir !== undefined,
          databases: [DATABASE]
        }),
      catch: (error) =>
        new ColonyError.StartFailed({
          reason: `cannot start the support desk's embedded Postgres: ${String(error)}. ` +
            `Point it at a running Postgres instead (DATABASE_URL with --embedded), or run without the desk (--no-support)`
        })
    }),
    (server) => Effect.promise(() => server.stop())
  )

/**
 * The support agents hosted in this process, with their database.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHosted = (
  options: Options = {}
): Layer.Layer<never, ColonyError.StartFailed, Agent.Requirements | Colony.Services | Sharding> => {
  const database = Layer.unwrapScoped(Effect.map(
    options.databaseUrl === undefined
      ? Effect.map(embeddedDatabase(options.dataDir), (server) => server.url(DATABASE))
      : Effect.succeed(options.databaseUrl),
    Support.layerStore
  ))
  return Support.layer.pipe(
    Layer.provide(database),
    Layer.mapError((error) =>
      error instanceof ColonyError.StartFailed ? error : new ColonyError.StartFailed({ reason: error.reason })
    )
  )
}
