/**
 * The support desk's specialist agent types: the router, the FAQ and orders specialists with
 * their tools, the critic and a second reviewer, and the lead who coordinates multi-part and hard
 * cases. The desk and escalation agents are in `Desk.ts`, beside the contract they serve.
 *
 * @since 0.1.0
 */
import { Agent } from "@colony/runtime"
import { Tool, Toolkit } from "@effect/ai"
import { Rpc } from "@effect/rpc"
import { Schema } from "effect"
import { Intent, Pattern, SupportError } from "./Desk.js"
import { OrderId } from "./Store.js"

/**
 * The router's structured output. Each choice carries a description that tells the model what it
 * means. `general` comes first: it is the choice when nothing else fits.
 *
 * @since 0.1.0
 * @category models
 */
export const Routing = Schema.Struct({
  intents: Schema.Array(Schema.Union(
    Schema.Literal("general").annotations({
      description: "a question the help centre answers: the shop's policies, returns, accounts or products"
    }),
    Schema.Literal("orders").annotations({
      description: "a question about one of the customer's orders: where it is, its delivery, changing or cancelling it"
    }),
    Schema.Literal("billing").annotations({
      description: "a question about money: payments, charges, refunds, invoices or discounts"
    }),
    Schema.Literal("technical").annotations({
      description: "a problem with a device the shop sells, the website or the app"
    })
  )).pipe(Schema.minItems(1), Schema.maxItems(4)).annotations({
    description: "every topic the message raises, one entry per topic"
  }),
  handling: Schema.Union(
    Schema.Literal("routine").annotations({ description: "an ordinary question assistants answer" }),
    Schema.Literal("human").annotations({ description: "the customer asks to speak to a person" }),
    Schema.Literal("hard").annotations({
      description: "a hard case for a person: an angry customer, a formal complaint or a legal threat"
    })
  ).annotations({ description: "whether the case needs a person" })
}).annotations({ identifier: "Routing" })

/**
 * @since 0.1.0
 * @category models
 */
export type Routing = typeof Routing.Type

/**
 * The router's decision for one message.
 *
 * @since 0.1.0
 * @category models
 */
export class Route extends Schema.Class<Route>("@colony/apps/support/Route")({
  intents: Schema.Array(Intent),
  handling: Schema.Literal("routine", "human", "hard"),
  pattern: Pattern,
  /** whether the pattern was forced by configuration instead of chosen from the message */
  forced: Schema.Boolean,
  simulated: Schema.Boolean,
  totalTokens: Schema.Number,
  cost: Schema.Number
}) {}

/**
 * Route a customer message.
 *
 * @since 0.1.0
 * @category protocol
 */
export const RouteMessage = Rpc.make("RouteMessage", {
  payload: { text: Schema.String, pattern: Schema.optional(Pattern) },
  success: Route,
  error: SupportError
})

/**
 * @since 0.1.0
 * @category agents
 */
export const Triage = Agent.make({
  name: "triage",
  instructions: "You route customer messages of Northwind Goods, an online home and kitchen shop, to the right " +
    "specialists. Name every topic a message raises.",
  capabilities: ["routing"],
  protocol: [RouteMessage]
})

// --- the specialists' tools (their handlers are in Support.ts, where the store is) ---

/**
 * An order tool was asked about an order of another customer than the conversation's. The
 * message tells the model what to answer, and nothing about the order.
 *
 * @since 0.1.0
 * @category errors
 */
export class OrderNotYours extends Schema.TaggedError<OrderNotYours>()("OrderNotYours", { orderId: Schema.String }) {
  override get message() {
    return `order ${this.orderId} is not on the signed-in customer's account, so you can neither see nor change it: ` +
      `tell the customer so, say nothing else about that order, and ask them to check the number or sign in with ` +
      `the account that placed it`
  }
}

/**
 * An order tool was used in a conversation that no verified customer started.
 *
 * @since 0.1.0
 * @category errors
 */
export class CustomerNotVerified extends Schema.TaggedError<CustomerNotVerified>()("CustomerNotVerified", {
  orderId: Schema.String
}) {
  override get message() {
    return `the customer is not signed in, so no order can be looked up or changed in this conversation (asked: ` +
      `${this.orderId}): ask the customer to sign in and start a new conversation`
  }
}

const OrderFailure = Schema.Union(SupportError, OrderNotYours, CustomerNotVerified)

/**
 * The order specialist's tools: look an order up, change its address, request a refund, each on
 * the conversation's own customer's orders only.
 *
 * @since 0.1.0
 * @category tools
 */
export const OrdersToolkit = Toolkit.make(
  Tool.make("lookup_order", {
    description: "Look up where an order is: status, tracking number, carrier, expected delivery date, shipping address",
    parameters: { orderId: OrderId },
    success: Schema.String,
    failure: OrderFailure
  }),
  Tool.make("change_address", {
    description: "Change delivery address of an order still processing to a new street address",
    parameters: {
      orderId: OrderId,
      newAddress: Schema.String.pipe(Schema.pattern(/^\d+\w? [A-Z][^,]+, .+$/)).annotations({
        description: "the new address, house number first, then street, postcode and city: 5 Park Lane, Leeds LS1 4AB"
      })
    },
    success: Schema.String,
    failure: OrderFailure
  }),
  Tool.make("request_refund", {
    description: "Request a refund for an order: cancel it or email a prepaid label, then pay money back",
    parameters: {
      orderId: OrderId,
      reason: Schema.String.annotations({ description: "why the customer wants the refund, in their words" })
    },
    success: Schema.String,
    failure: OrderFailure
  })
)

/**
 * The help-centre specialist's tool: search the knowledge base.
 *
 * @since 0.1.0
 * @category tools
 */
export const FaqToolkit = Toolkit.make(
  Tool.make("search_knowledge_base", {
    description: "Search the help-centre articles about shipping, returns, payments, accounts, products and devices",
    parameters: {
      query: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(2000)).annotations({
        description: "what to look for, in the customer's words"
      })
    },
    success: Schema.String
  })
)

/**
 * @since 0.1.0
 * @category agents
 */
export const Faq = Agent.make({
  name: "faq",
  instructions: "You answer questions of Northwind Goods customers from the help centre. Always search the " +
    "knowledge base first and answer only from the articles you find, briefly, naming the article. If nothing " +
    "relevant is found, say so and offer to pass the question to a person.",
  capabilities: ["general", "billing", "technical"],
  toolkit: FaqToolkit,
  maxToolSteps: 4
})

/**
 * @since 0.1.0
 * @category agents
 */
export const Orders = Agent.make({
  name: "orders",
  instructions: "You handle Northwind Goods customers' orders with your tools: look an order up before you " +
    "answer about it, change its delivery address, or request a refund. Order numbers look like A-10023; if " +
    "the customer gave none, ask for it. Report exactly what the tools return; never invent order data.",
  capabilities: ["orders"],
  toolkit: OrdersToolkit,
  maxToolSteps: 4
})

/**
 * A draft reply the critic checks against the written policy.
 *
 * @since 0.1.0
 * @category models
 */
export class Verdict extends Schema.Class<Verdict>("@colony/apps/support/Verdict")({
  approved: Schema.Boolean,
  /** the policy rules the draft breaks */
  violations: Schema.Array(Schema.String),
  simulated: Schema.Boolean,
  totalTokens: Schema.Number,
  cost: Schema.Number
}) {}

/**
 * Check a draft against the policy.
 *
 * @since 0.1.0
 * @category protocol
 */
export const CheckDraft = Rpc.make("CheckDraft", {
  payload: { question: Schema.String, draft: Schema.String },
  success: Verdict,
  error: SupportError
})

/**
 * @since 0.1.0
 * @category agents
 */
export const Critic = Agent.make({
  name: "critic",
  instructions: "You check support replies of Northwind Goods against the written support policy before they " +
    "are sent. Approve a reply that follows it; otherwise name the rules it breaks.",
  capabilities: ["review", "policy"],
  protocol: [CheckDraft]
})

/**
 * @since 0.1.0
 * @category agents
 */
export const Reviewer = Agent.make({
  name: "reviewer",
  instructions: "You review support replies of Northwind Goods for accuracy, tone and completeness, as a " +
    "second pair of eyes beside the policy critic.",
  capabilities: ["review"]
})

/**
 * @since 0.1.0
 * @category agents
 */
export const Lead = Agent.make({
  name: "lead",
  instructions: "You lead Northwind Goods' support assistants: you combine their answers into one short, " +
    "friendly reply to the customer, without repeating yourself and without adding facts.",
  capabilities: ["coordination", "synthesis"]
})
