/**
 * The support desk's specialist agent types: the router, the FAQ and orders specialists with
 * their tools, the critic and a second reviewer, and the lead who coordinates multi-part and hard
 * cases. The desk and escalation agents are in `Desk.ts`, beside the contract they serve.
 *
 * @since 0.1.0
 */
import { Agent } from "@colony/runtime"
import { Rpc } from "@effect/rpc"
import { Schema } from "effect"
import { Intent, Pattern, SupportError } from "./Desk.js"

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
  tools: ["search_knowledge_base"],
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
  tools: ["lookup_order", "change_address", "request_refund"],
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
