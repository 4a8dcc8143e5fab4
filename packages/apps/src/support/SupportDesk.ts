/**
 * The support desk as an application: its agents (hosted with the Postgres its orders and tickets
 * live in), its customer chat, operator dashboard and API (`/support/`), and its A2A card.
 *
 * @since 0.1.0
 */
import { ColonyError } from "@colony/runtime"
import { Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Application from "../Application.js"
import * as DevPostgres from "../runner/DevPostgres.js"
import type * as A2A from "../gateway/A2A.js"
import { Credentials } from "../gateway/Auth.js"
import * as Desk from "./Desk.js"
import * as KnowledgeBaseTasks from "./eval/KnowledgeBaseTasks.js"
import * as Script from "./Script.js"
import * as Support from "./Support.js"
import * as SupportWeb from "./web/SupportWeb.js"

/**
 * Where the desk keeps its orders and tickets when this process hosts it.
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
 * The support desk's agent types.
 *
 * @since 0.1.0
 */
export const agents = Support.agents

/**
 * The support desk's pages and API.
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
export const card: A2A.Application = {
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
export const layerHosted = (options: Options = {}): Application.Hosted => {
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

/**
 * The support desk on a gateway. Its agents work behind its own pages, API and A2A card, so none
 * is served to callers by name. It offers `colony eval` the task set `support-kb`
 * (`KnowledgeBaseTasks`). Hosted in this process, it keeps its tables in `options`' Postgres,
 * else in an embedded one started with it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const application = (options: Options = {}): Application.Application =>
  Application.make({
    name: "support",
    hosted: layerHosted(options),
    agents,
    routes: [routes],
    a2aCards: [card],
    home: "/support/dashboard",
    taskSets: KnowledgeBaseTasks.taskSets
  })

/**
 * Where the desk's pages are on a gateway that just started at `address`. Started for a try-out
 * (an embedded colony, no keys of its own), also a chat link as the demo's customer, whose orders
 * the desk's tools may show; the token lives as long as the sign-in cookie.
 *
 * @since 0.1.0
 */
export const gatewayNotes = (started: { readonly address: string; readonly embedded: boolean; readonly tryOut: boolean }) =>
  Effect.gen(function*() {
    const { address } = started
    const lines = [
      `support desk: chat ${address}/support/#token=<customer token from POST /auth/tokens>   operator dashboard ${address}/support/dashboard`
    ]
    if (started.tryOut && started.embedded) {
      const credentials = yield* Credentials
      const { token } = yield* credentials.mintToken(Script.customer, 12 * 3600)
      lines.push(`chat as the demo's customer (${Script.customer}): ${address}/support/#token=${token}`)
    }
    return lines
  })
