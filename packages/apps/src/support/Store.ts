/**
 * The shop's data the support agents work on, in Postgres: the `orders` table (seeded with demo
 * orders), the `support_conversations` table of which customer each conversation belongs to, and
 * the `support_tickets` table of cases handed to humans. The versioned migrations recorded in
 * `support_migrations` create the tables and seed the demo orders on first use, so a fresh
 * database needs no migration step.
 *
 * @since 0.1.0
 */
import { Migrations } from "@colony/runtime"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { SupportError, Ticket } from "./Desk.js"

/**
 * An order id: "A-" and five digits.
 *
 * @since 0.1.0
 * @category models
 */
export const OrderId = Schema.String.pipe(
  Schema.pattern(/^A-\d{5}$/),
  Schema.annotations({ description: "the order number, like A-10023" })
)

/**
 * @since 0.1.0
 * @category models
 */
export const OrderStatus = Schema.Literal("processing", "shipped", "delivered", "cancelled", "returned")

/**
 * @since 0.1.0
 * @category models
 */
export class Order extends Schema.Class<Order>("@colony/apps/support/Order")({
  id: Schema.String,
  customer: Schema.String,
  email: Schema.String,
  items: Schema.String,
  totalCents: Schema.Number,
  status: OrderStatus,
  carrier: Schema.NullOr(Schema.String),
  tracking: Schema.NullOr(Schema.String),
  address: Schema.String,
  placedOn: Schema.String,
  expectedOn: Schema.NullOr(Schema.String),
  refund: Schema.NullOr(Schema.String)
}) {}

/**
 * The store's operations.
 *
 * @since 0.1.0
 * @category tags
 */
export class Store extends Context.Tag("@colony/apps/support/Store")<Store, {
  readonly order: (id: string) => Effect.Effect<Order, SupportError>
  readonly changeAddress: (id: string, address: string) => Effect.Effect<Order, SupportError>
  readonly requestRefund: (id: string, reason: string) => Effect.Effect<Order, SupportError>
  /**
   * Bind a conversation to its customer (`null`: started without a signed-in customer) unless it
   * is bound already, and return the customer it is bound to.
   */
  readonly bindConversation: (conversationId: string, customer: string | null) => Effect.Effect<string | null, SupportError>
  /** the customer a conversation is bound to; `None` when it has not started */
  readonly conversationOwner: (conversationId: string) => Effect.Effect<Option.Option<string | null>, SupportError>
  readonly openTicket: (
    ticket: { readonly conversationId: string; readonly question: string; readonly reason: string }
  ) => Effect.Effect<Ticket, SupportError>
  readonly openTickets: Effect.Effect<ReadonlyArray<Ticket>, SupportError>
  readonly ticket: (id: string) => Effect.Effect<Ticket, SupportError>
  readonly answerTicket: (id: string, reply: string) => Effect.Effect<Ticket, SupportError>
  /** a conversation's answered tickets, in the order they were answered */
  readonly answeredTickets: (conversationId: string) => Effect.Effect<ReadonlyArray<Ticket>, SupportError>
}>() {}

// id, customer, email, items, total (cents), status, carrier, tracking, address, placed, expected
type Seed = readonly [string, string, string, string, number, Order["status"], string | null, string | null, string, string, string | null]

/**
 * The demo orders: every status, so each tool has something to say.
 *
 * @since 0.1.0
 */
export const seedOrders: ReadonlyArray<Seed> = [
  ["A-10021", "Maya Lindqvist", "maya@example.com", "Linen duvet cover (queen), 2 pillowcases", 11900, "delivered", "PostNord", "PN48213377SE", "Storgatan 12, 114 51 Stockholm, Sweden", "2026-10-28", "2026-11-03"],
  ["A-10022", "Tom Okafor", "tom.okafor@example.com", "Cast-iron skillet 28 cm", 5400, "processing", null, null, "14 Elm Road, Leeds LS6 2AB, United Kingdom", "2026-11-20", "2026-11-27"],
  ["A-10023", "Ana Ribeiro", "ana.ribeiro@example.com", "Espresso grinder, 1 kg house blend", 18950, "shipped", "DHL", "JD014600006281", "Rua das Flores 88, 4050-262 Porto, Portugal", "2026-11-18", "2026-11-26"],
  ["A-10024", "Jonas Weber", "jonas.weber@example.com", "Wool throw, oak serving board", 9800, "shipped", "DPD", "01905 5521 7789", "Lindenstrasse 3, 10969 Berlin, Germany", "2026-11-19", "2026-11-25"],
  ["A-10025", "Priya Natarajan", "priya.n@example.com", "Ceramic dinner set (12 pieces)", 14500, "cancelled", null, null, "22 Rue Oberkampf, 75011 Paris, France", "2026-11-02", null],
  ["A-10026", "Sam Carter", "sam.carter@example.com", "Desk lamp, USB-C charger", 7600, "returned", "UPS", "1Z999AA10123456784", "301 Pine Street, Seattle, WA 98101, USA", "2026-10-15", "2026-10-22"],
  ["A-10027", "Lea Rossi", "lea.rossi@example.com", "Smart kettle", 8900, "delivered", "GLS", "GLS 8830 2211 04", "Via Torino 45, 20123 Milano, Italy", "2026-11-05", "2026-11-10"],
  ["A-10028", "Kenji Sato", "kenji.sato@example.com", "Bamboo bath towels (set of 4)", 6200, "processing", null, null, "Keizersgracht 210, 1016 DZ Amsterdam, Netherlands", "2026-11-21", "2026-11-28"],
  ["A-10029", "Olivia Brown", "olivia.brown@example.com", "Air purifier, 2 spare filters", 22900, "shipped", "Royal Mail", "RM 4471 9902 6GB", "7 Castle Street, Edinburgh EH2 3AH, United Kingdom", "2026-11-17", "2026-11-24"],
  ["A-10030", "Diego Fernández", "diego.f@example.com", "Running shoes (EU 43)", 11000, "delivered", "SEUR", "SE2266041", "Calle Mayor 10, 28013 Madrid, Spain", "2026-11-01", "2026-11-06"],
  ["A-10031", "Ana Ribeiro", "ana.ribeiro@example.com", "Milk frother, 4 cappuccino cups", 6400, "processing", null, null, "Rua das Flores 88, 4050-262 Porto, Portugal", "2026-11-22", "2026-11-29"]
]

const now = () => Date.now()

interface OrderRow {
  readonly id: string
  readonly customer: string
  readonly email: string
  readonly items: string
  readonly total_cents: number
  readonly status: Order["status"]
  readonly carrier: string | null
  readonly tracking: string | null
  readonly address: string
  readonly placed_on: string
  readonly expected_on: string | null
  readonly refund: string | null
}

interface TicketRow {
  readonly id: string
  readonly conversation_id: string
  readonly question: string
  readonly reason: string
  readonly status: "open" | "answered"
  readonly reply: string | null
  readonly opened_at: string | number
  readonly answered_at: string | number | null
}

const toOrder = (row: OrderRow) =>
  new Order({
    id: row.id,
    customer: row.customer,
    email: row.email,
    items: row.items,
    totalCents: Number(row.total_cents),
    status: row.status,
    carrier: row.carrier,
    tracking: row.tracking,
    address: row.address,
    placedOn: row.placed_on,
    expectedOn: row.expected_on,
    refund: row.refund
  })

const toTicket = (row: TicketRow) =>
  new Ticket({
    id: row.id,
    conversationId: row.conversation_id,
    question: row.question,
    reason: row.reason,
    status: row.status,
    reply: row.reply,
    openedAt: Number(row.opened_at),
    answeredAt: row.answered_at === null ? null : Number(row.answered_at)
  })

const unavailable = (error: SqlError) =>
  new SupportError({ reason: `the support database is unavailable (${error.message}); try again shortly` })

/**
 * The desk's tables, as versioned migrations recorded in `support_migrations`.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrations = Migrations.make("support_migrations", {
  // As the tables were created at start before migrations: a database made then migrates in place.
  "1_support_tables": Migrations.statements(
    `CREATE TABLE IF NOT EXISTS orders (
      id TEXT PRIMARY KEY,
      customer TEXT NOT NULL,
      email TEXT NOT NULL,
      items TEXT NOT NULL,
      total_cents INTEGER NOT NULL,
      status TEXT NOT NULL,
      carrier TEXT,
      tracking TEXT,
      address TEXT NOT NULL,
      placed_on TEXT NOT NULL,
      expected_on TEXT,
      refund TEXT
    )`,
    `CREATE TABLE IF NOT EXISTS support_conversations (
      id TEXT PRIMARY KEY,
      customer TEXT,
      started_at BIGINT NOT NULL
    )`,
    `CREATE SEQUENCE IF NOT EXISTS support_ticket_numbers START 1001`,
    `CREATE TABLE IF NOT EXISTS support_tickets (
      id TEXT PRIMARY KEY,
      conversation_id TEXT NOT NULL,
      question TEXT NOT NULL,
      reason TEXT NOT NULL,
      status TEXT NOT NULL,
      reply TEXT,
      opened_at BIGINT NOT NULL,
      answered_at BIGINT
    )`,
    `CREATE INDEX IF NOT EXISTS support_tickets_conversation ON support_tickets (conversation_id)`
  ),
  // the demo's orders; an order already there is left as it is
  "2_demo_orders": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forEach(seedOrders, ([id, customer, email, items, total, status, carrier, tracking, address, placed, expected]) =>
      sql`INSERT INTO orders (id, customer, email, items, total_cents, status, carrier, tracking, address, placed_on, expected_on)
        VALUES (${id}, ${customer}, ${email}, ${items}, ${total}, ${status}, ${carrier}, ${tracking}, ${address}, ${placed}, ${expected})
        ON CONFLICT (id) DO NOTHING`, { discard: true }))
})

/**
 * The store on the colony's (or any) Postgres `SqlClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Store, never, SqlClient.SqlClient> = Layer.effect(
  Store,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // Migrated on first use, and again after a failure: a runner may start before the database is up.
    const ready = Effect.provideService(Migrations.once(migrations), SqlClient.SqlClient, sql)
    const withSchema = <A>(effect: Effect.Effect<A, SqlError | SupportError>): Effect.Effect<A, SupportError> =>
      ready.pipe(
        Effect.catchTag("MigrationError", (error) =>
          Effect.fail(new SupportError({ reason: `the support tables could not be migrated: ${error.message}` }))),
        Effect.zipRight(effect),
        Effect.catchTag("SqlError", (error) => Effect.fail(unavailable(error)))
      )

    const findOrder = (id: string) =>
      Effect.flatMap(sql<OrderRow>`SELECT * FROM orders WHERE id = ${id}`, (rows) =>
        Option.match(Option.fromNullable(rows[0]), {
          onNone: () =>
            Effect.fail(
              new SupportError({ reason: `there is no order ${id}; ask the customer to check the number in their confirmation email` })
            ),
          onSome: (row) => Effect.succeed(toOrder(row))
        }))

    const findTicket = (id: string) =>
      Effect.flatMap(sql<TicketRow>`SELECT * FROM support_tickets WHERE id = ${id}`, (rows) =>
        Option.match(Option.fromNullable(rows[0]), {
          onNone: () =>
            Effect.fail(new SupportError({ reason: `there is no ticket ${id}; list the open tickets to find its id` })),
          onSome: (row) => Effect.succeed(toTicket(row))
        }))

    return {
      order: (id) => withSchema(findOrder(id)),
      changeAddress: (id, address) =>
        withSchema(Effect.gen(function*() {
          const order = yield* findOrder(id)
          if (order.status !== "processing") {
            return yield* new SupportError({
              reason: `order ${id} is ${order.status}, so its address can no longer be changed; ` +
                (order.status === "shipped"
                  ? `the customer can redirect the parcel with ${order.carrier} using tracking number ${order.tracking}`
                  : "a new order is needed")
            })
          }
          const rows = yield* sql<OrderRow>`UPDATE orders SET address = ${address} WHERE id = ${id} RETURNING *`
          return toOrder(rows[0]!)
        })),
      requestRefund: (id, reason) =>
        withSchema(Effect.gen(function*() {
          const order = yield* findOrder(id)
          if (order.refund !== null) return order
          if (order.status === "cancelled") {
            return yield* new SupportError({ reason: `order ${id} was cancelled and was never charged; there is nothing to refund` })
          }
          const note = order.status === "processing"
            ? `refund requested ${new Date(now()).toISOString().slice(0, 10)}: the order is cancelled and the payment ` +
              `returned within 3 business days (${reason})`
            : `refund requested ${new Date(now()).toISOString().slice(0, 10)}: a prepaid return label is emailed; the ` +
              `refund is issued within 5 business days of the return arriving (${reason})`
          const rows = yield* sql<OrderRow>`UPDATE orders SET refund = ${note} WHERE id = ${id} RETURNING *`
          return toOrder(rows[0]!)
        })),
      bindConversation: (conversationId, customer) =>
        withSchema(Effect.gen(function*() {
          // The first binding wins, so a message handled again after a crash, or two first
          // messages racing, leave the conversation with one customer.
          yield* sql`INSERT INTO support_conversations (id, customer, started_at)
            VALUES (${conversationId}, ${customer}, ${now()}) ON CONFLICT (id) DO NOTHING`
          const rows = yield* sql<{ customer: string | null }>`SELECT customer FROM support_conversations WHERE id = ${conversationId}`
          return rows[0]!.customer
        })),
      conversationOwner: (conversationId) =>
        withSchema(
          Effect.map(
            sql<{ customer: string | null }>`SELECT customer FROM support_conversations WHERE id = ${conversationId}`,
            (rows) => Option.map(Option.fromNullable(rows[0]), (row) => row.customer)
          )
        ),
      openTicket: ({ conversationId, question, reason }) =>
        withSchema(Effect.gen(function*() {
          const [next] = yield* sql<{ n: string | number }>`SELECT nextval('support_ticket_numbers') AS n`
          const id = `T-${next!.n}`
          const rows = yield* sql<TicketRow>`INSERT INTO support_tickets
            (id, conversation_id, question, reason, status, reply, opened_at, answered_at)
            VALUES (${id}, ${conversationId}, ${question}, ${reason}, 'open', NULL, ${now()}, NULL) RETURNING *`
          return toTicket(rows[0]!)
        })),
      openTickets: withSchema(
        Effect.map(
          sql<TicketRow>`SELECT * FROM support_tickets WHERE status = 'open' ORDER BY opened_at, id`,
          (rows) => rows.map(toTicket)
        )
      ),
      ticket: (id) => withSchema(findTicket(id)),
      answeredTickets: (conversationId) =>
        withSchema(
          Effect.map(
            sql<TicketRow>`SELECT * FROM support_tickets WHERE conversation_id = ${conversationId}
              AND status = 'answered' ORDER BY answered_at, id`,
            (rows) => rows.map(toTicket)
          )
        ),
      answerTicket: (id, reply) =>
        withSchema(Effect.gen(function*() {
          const rows = yield* sql<TicketRow>`UPDATE support_tickets SET status = 'answered', reply = ${reply},
            answered_at = ${now()} WHERE id = ${id} AND status = 'open' RETURNING *`
          if (rows[0] !== undefined) return toTicket(rows[0])
          const ticket = yield* findTicket(id)
          return yield* new SupportError({
            reason: `ticket ${id} was already answered at ${new Date(ticket.answeredAt ?? 0).toISOString()}; ` +
              `send the customer a new message through the conversation instead`
          })
        }))
    }
  })
)
