/**
 * The support desk's public contract: what a customer-facing program (the chat page, the operator
 * dashboard, the CLI, the demo) calls, and the shapes it gets back. Each conversation is one
 * durable `desk` agent whose entity id is the conversation id; the desk routes every customer
 * message to the specialist agents and answers with a `Reply`. Escalated cases become `Ticket`s a
 * human answers with `answerEscalation`; the answer joins the conversation's transcript. A
 * conversation belongs to the verified customer who started it (or to none): `owner` says whose
 * it is, and the desk refuses anyone else's message with `ConversationNotYours`.
 *
 * Everything here needs only a colony that hosts (or reaches) the support agents:
 * `Colony.Services | Sharding`. The agents themselves are hosted by `Support.layer`.
 *
 * @since 0.1.0
 */
import { Agent, AgentError, Colony, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Rpc } from "@effect/rpc"
import { Effect, type Option, PrimaryKey, Schema } from "effect"
import { randomUUID } from "node:crypto"

// --- the contract's shapes ---

/**
 * What a customer message is about.
 *
 * @since 0.1.0
 * @category models
 */
export const Intent = Schema.Literal("orders", "billing", "technical", "general")

/**
 * @since 0.1.0
 * @category models
 */
export type Intent = typeof Intent.Type

/**
 * How the desk's agents worked on one message: one specialist (`single`), a coordinator over one
 * specialist per intent (`master-slave`), a specialist's draft debated by two reviewers
 * (`peer-review`), or teams of peers under a coordinator for hard cases (`hybrid`).
 *
 * @since 0.1.0
 * @category models
 */
export const Pattern = Schema.Literal("single", "master-slave", "peer-review", "hybrid")

/**
 * @since 0.1.0
 * @category models
 */
export type Pattern = typeof Pattern.Type

/**
 * A case handed to a human operator.
 *
 * @since 0.1.0
 * @category models
 */
export class Ticket extends Schema.Class<Ticket>("@colony/apps/support/Ticket")({
  id: Schema.String,
  conversationId: Schema.String,
  question: Schema.String,
  reason: Schema.String,
  status: Schema.Literal("open", "answered"),
  reply: Schema.NullOr(Schema.String),
  /** epoch ms */
  openedAt: Schema.Number,
  /** epoch ms */
  answeredAt: Schema.NullOr(Schema.Number)
}) {}

/**
 * One turn of a conversation, as the customer and the operator see it.
 *
 * @since 0.1.0
 * @category models
 */
export class Turn extends Schema.Class<Turn>("@colony/apps/support/Turn")({
  role: Schema.Literal("customer", "agent", "human"),
  text: Schema.String,
  /** epoch ms */
  at: Schema.Number,
  /** "customer", an agent address like "orders/conv-1", or "operator" */
  by: Schema.String
}) {}

/**
 * The desk's answer to one customer message, with how it was reached.
 *
 * @since 0.1.0
 * @category models
 */
export class Reply extends Schema.Class<Reply>("@colony/apps/support/Reply")({
  conversationId: Schema.String,
  /** what the customer sees */
  text: Schema.String,
  intents: Schema.Array(Intent),
  pattern: Pattern,
  /** agent addresses that contributed */
  handledBy: Schema.Array(Schema.String),
  /** every tool call made for this reply */
  tools: Schema.Array(Agent.ToolUse),
  /** the ticket opened, when the case went to a human */
  escalation: Schema.NullOr(Ticket),
  simulated: Schema.Boolean,
  totalTokens: Schema.Number,
  cost: Schema.Number
}) {}

/**
 * The desk could not do what was asked; `reason` says why and what to do instead.
 *
 * @since 0.1.0
 * @category errors
 */
export class SupportError extends Schema.TaggedError<SupportError>()("SupportError", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

/**
 * A message reached a conversation that belongs to someone else: it was started by another
 * signed-in customer, or by a signed-in customer while this sender is not signed in, or without a
 * signed-in customer while this sender is one. The message is not stored or answered. The message
 * never names the conversation's customer. A web layer answers it as "not found" (or "forbidden"):
 * the conversation is not the sender's.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConversationNotYours extends Schema.TaggedError<ConversationNotYours>()("ConversationNotYours", {
  conversationId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/**
 * A verified customer's identity: their e-mail address, as in the `orders.email` column. Compared
 * without regard to case, and kept lower-case.
 *
 * @since 0.1.0
 * @category models
 */
export const Customer = Schema.String.pipe(
  Schema.pattern(/^[^\s@]+@[^\s@]+$/),
  Schema.maxLength(320),
  Schema.annotations({ description: "the verified customer's e-mail address, like ana.ribeiro@example.com" })
)

// --- the agents behind the contract ---

/**
 * The payload of `Send`: a customer message. Its id makes a message sent twice (a retry after a
 * crash) answered once.
 *
 * @since 0.1.0
 * @category protocol
 */
export class SendPayload extends Schema.Class<SendPayload>("@colony/apps/support/SendPayload")({
  text: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(8000)),
  messageId: Schema.optionalWith(Schema.String, { default: () => randomUUID() }),
  /** the verified customer sending it; absent when the sender is not signed in as a customer */
  customer: Schema.optional(Customer)
}) {
  // The customer is part of the key: a message id answers once per sender, so someone who learns
  // the id of another customer's message gets a refusal, not that customer's stored reply.
  [PrimaryKey.symbol]() {
    return this.customer === undefined ? this.messageId : `${this.messageId}/${this.customer}`
  }
}

/**
 * The payload of `HumanReply`: an operator's answer to a ticket; one ticket is answered once.
 *
 * @since 0.1.0
 * @category protocol
 */
export class HumanReplyPayload extends Schema.Class<HumanReplyPayload>("@colony/apps/support/HumanReplyPayload")({
  ticketId: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9-]{1,40}$/)),
  text: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(8000))
}) {
  [PrimaryKey.symbol]() {
    return this.ticketId
  }
}

/**
 * The errors a desk message may end with.
 *
 * @since 0.1.0
 * @category protocol
 */
export const DeskError = Schema.Union(SupportError, ConversationNotYours, AgentError.AgentError, LanguageModel.ModelError)

/**
 * A customer message: route, answer (or escalate), reply.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Send = Rpc.make("Send", { payload: SendPayload, success: Reply, error: DeskError })

/**
 * The conversation so far.
 *
 * @since 0.1.0
 * @category protocol
 */
export const GetTranscript = Rpc.make("GetTranscript", { success: Schema.Array(Turn), error: SupportError })

/**
 * Record an operator's answer in the conversation now; an answer to the same ticket is recorded
 * once. Answers given with `answerEscalation` need not be sent: the desk reads them with their
 * tickets.
 *
 * @since 0.1.0
 * @category protocol
 */
export const HumanReply = Rpc.make("HumanReply", { payload: HumanReplyPayload, success: Turn, error: SupportError })

/**
 * One conversation with the shop's support. Durable: a customer message is stored before it is
 * handled and survives the death of the runner handling it.
 *
 * @since 0.1.0
 * @category agents
 */
export const DeskAgent = Agent.make({
  name: "desk",
  instructions: "You are the front desk of Northwind Goods' customer support. You keep the conversation " +
    "and hand each message to the right specialists.",
  capabilities: ["conversation"],
  protocol: [Send, GetTranscript, HumanReply],
  durable: true,
  // a conversation's transcript is what the customer and the operator read back: keep it whole
  historyLimit: 400
})

/**
 * Open a ticket for a conversation.
 *
 * @since 0.1.0
 * @category protocol
 */
export const OpenTicket = Rpc.make("OpenTicket", {
  payload: { question: Schema.String, reason: Schema.String },
  success: Ticket,
  error: SupportError
})

/**
 * The open tickets, oldest first.
 *
 * @since 0.1.0
 * @category protocol
 */
export const ListTickets = Rpc.make("ListTickets", { success: Schema.Array(Ticket), error: SupportError })

/**
 * One ticket by id.
 *
 * @since 0.1.0
 * @category protocol
 */
export const FindTicket = Rpc.make("FindTicket", {
  payload: { ticketId: Schema.String },
  success: Ticket,
  error: SupportError
})

/**
 * Answer a ticket: the ticket is closed with the reply, which the conversation's desk reads on its
 * next turn or transcript. The escalation agent never waits on the desk, which may be waiting on
 * it to open a ticket.
 *
 * @since 0.1.0
 * @category protocol
 */
export const AnswerTicket = Rpc.make("AnswerTicket", {
  payload: { ticketId: Schema.String, text: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(8000)) },
  success: Ticket,
  error: Schema.Union(SupportError, AgentError.AgentError)
})

/**
 * Hands cases to humans: its instance per conversation opens and answers that conversation's
 * tickets; the `queue` instance lists and finds tickets across conversations.
 *
 * @since 0.1.0
 * @category agents
 */
export const EscalationAgent = Agent.make({
  name: "escalation",
  instructions: "You hand support cases that need a person to the human operators, and pass their answers back.",
  capabilities: ["escalation"],
  protocol: [OpenTicket, ListTickets, FindTicket, AnswerTicket]
})

/**
 * The escalation instance that serves the whole ticket queue.
 *
 * @since 0.1.0
 * @category agents
 */
export const queueId = "queue"

/**
 * Whose a conversation is: `None` for a conversation that has not started, `Some(null)` for one
 * started without a signed-in customer, `Some(email)` for a customer's.
 *
 * @since 0.1.0
 * @category protocol
 */
export const GetOwner = Rpc.make("GetOwner", {
  payload: { conversationId: Schema.String },
  success: Schema.Option(Schema.NullOr(Schema.String)),
  error: SupportError
})

/**
 * Knows which customer each conversation belongs to. Not the desk itself: a desk answers one
 * message at a time, and a check before showing a transcript or an event stream must not wait for
 * the message in progress.
 *
 * @since 0.1.0
 * @category agents
 */
export const OwnershipAgent = Agent.make({
  name: "ownership",
  instructions: "You know which signed-in customer each support conversation belongs to.",
  capabilities: ["ownership"],
  protocol: [GetOwner]
})

/**
 * The ownership instance that answers for every conversation.
 *
 * @since 0.1.0
 * @category agents
 */
export const ownershipId = "conversations"

// --- the contract's operations ---

/**
 * What the operations need: a colony hosting or reaching the support agents.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = Colony.Services | Sharding

const CONVERSATION_ID = /^[A-Za-z0-9][A-Za-z0-9_:-]{0,127}$/

const checkConversation = (conversationId: string): Effect.Effect<void, SupportError> =>
  CONVERSATION_ID.test(conversationId)
    ? Effect.void
    : Effect.fail(
      new SupportError({
        reason: `invalid conversation id "${conversationId}": use 1 to 128 letters, digits, "_", ":" or "-", ` +
          `starting with a letter or digit (a "." would be read as a collaboration session of another conversation)`
      })
    )

const checkText = (text: string): Effect.Effect<void, SupportError> =>
  text.trim().length === 0
    ? Effect.fail(new SupportError({ reason: "the message is empty: write what the customer needs" }))
    : text.length > 8000
    ? Effect.fail(new SupportError({ reason: `the message has ${text.length} characters; the limit is 8000` }))
    : Effect.void

const checkCustomer = (customer: string | undefined): Effect.Effect<string | undefined, SupportError> =>
  customer === undefined
    ? Effect.succeed(undefined)
    : Schema.is(Customer)(customer.trim())
    ? Effect.succeed(customer.trim().toLowerCase())
    : Effect.fail(
      new SupportError({
        reason: `invalid customer "${customer.slice(0, 80)}": give the verified customer's e-mail address, ` +
          `or no customer when the sender is not signed in as one`
      })
    )

/**
 * Send a message to a conversation and get the desk's reply. `customer` is the verified
 * customer sending it (their e-mail address, as in the orders); leave it out when the sender is
 * not signed in as a customer (staff, a key without a customer). The first message binds the
 * conversation to its customer (or to none): a later message from anyone else fails with
 * `ConversationNotYours`, and the order tools act only on the bound customer's orders. Give
 * `messageId` to make a retried send (after a timeout or a crash) answered once.
 *
 * @since 0.1.0
 */
export const send = (
  conversationId: string,
  text: string,
  options?: { readonly messageId?: string | undefined; readonly customer?: string | undefined }
): Effect.Effect<
  Reply,
  SupportError | ConversationNotYours | AgentError.AgentError | LanguageModel.ModelError,
  Requirements
> =>
  Effect.gen(function*() {
    yield* checkConversation(conversationId)
    yield* checkText(text)
    const customer = yield* checkCustomer(options?.customer)
    const desk = yield* Colony.client(DeskAgent)
    return yield* desk(conversationId).Send({
      text,
      ...(options?.messageId === undefined ? {} : { messageId: options.messageId }),
      ...(customer === undefined ? {} : { customer })
    })
  })

/**
 * Whose a conversation is, to check before showing its transcript or events: `None` when it has
 * not started, `Some(null)` when it was started without a signed-in customer, `Some(email)` (lower
 * case) when a customer started it. Answers at once, even while the conversation's desk is busy
 * with a message.
 *
 * @since 0.1.0
 */
export const owner = (
  conversationId: string
): Effect.Effect<Option.Option<string | null>, SupportError | AgentError.AgentError, Requirements> =>
  Effect.gen(function*() {
    yield* checkConversation(conversationId)
    const ownership = yield* Colony.client(OwnershipAgent)
    return yield* ownership(ownershipId).GetOwner({ conversationId })
  })

/**
 * A conversation's turns, oldest first (empty for a conversation that never started).
 *
 * @since 0.1.0
 */
export const transcript = (
  conversationId: string
): Effect.Effect<ReadonlyArray<Turn>, SupportError | AgentError.AgentError, Requirements> =>
  Effect.gen(function*() {
    yield* checkConversation(conversationId)
    const desk = yield* Colony.client(DeskAgent)
    return yield* desk(conversationId).GetTranscript()
  })

/**
 * The open tickets, oldest first.
 *
 * @since 0.1.0
 */
export const escalations: Effect.Effect<
  ReadonlyArray<Ticket>,
  SupportError | AgentError.AgentError,
  Requirements
> = Effect.gen(function*() {
  const escalation = yield* Colony.client(EscalationAgent)
  return yield* escalation(queueId).ListTickets()
})

/**
 * Answer a ticket as the human operator: the reply joins the conversation's transcript (role
 * `"human"`) and the ticket is closed. A ticket is answered once; answering it again fails with a
 * `SupportError`.
 *
 * @since 0.1.0
 */
export const answerEscalation = (
  ticketId: string,
  text: string
): Effect.Effect<Ticket, SupportError | AgentError.AgentError, Requirements> =>
  Effect.gen(function*() {
    yield* checkText(text)
    const escalation = yield* Colony.client(EscalationAgent)
    const ticket = yield* escalation(queueId).FindTicket({ ticketId })
    return yield* escalation(ticket.conversationId).AnswerTicket({ ticketId, text })
  })
