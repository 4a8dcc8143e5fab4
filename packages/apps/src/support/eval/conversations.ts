/**
 * The evaluation set: 50 scripted conversations with the route, tool calls and escalation each
 * customer message should get. Routes name the intents (as a set) and the pattern; tools are the
 * names of the calls expected, in any order.
 *
 * @since 0.1.0
 */
import type { Intent, Pattern } from "../Desk.js"

/**
 * @since 0.1.0
 */
export interface Expected {
  readonly intents: ReadonlyArray<Intent>
  readonly pattern: Pattern
  readonly tools: ReadonlyArray<string>
  readonly escalated: boolean
}

/**
 * @since 0.1.0
 */
export interface Step {
  readonly customer: string
  readonly expect: Expected
}

/**
 * @since 0.1.0
 */
export interface Conversation {
  readonly id: string
  readonly steps: ReadonlyArray<Step>
}

const faq = (intents: ReadonlyArray<Intent>, pattern: Pattern = "single"): Expected => ({
  intents,
  pattern,
  tools: ["search_knowledge_base"],
  escalated: false
})
const order = (tool: string): Expected => ({ intents: ["orders"], pattern: "single", tools: [tool], escalated: false })
const human: Expected = { intents: ["general"], pattern: "single", tools: [], escalated: true }
const one = (id: string, customer: string, expect: Expected): Conversation => ({ id, steps: [{ customer, expect }] })

/**
 * @since 0.1.0
 */
export const conversations: ReadonlyArray<Conversation> = [
  // order lookups
  one("status-1", "Where is my order A-10023?", order("lookup_order")),
  one("status-2", "Has order A-10024 shipped yet? I need the tracking number", order("lookup_order")),
  one("status-3", "When will my parcel A-10029 arrive?", order("lookup_order")),
  one("status-4", "What is the status of A-10022?", order("lookup_order")),
  // two questions on one order: a part each, both the orders specialist's (who can only look the
  // order up until the customer gives the new address)
  one("status-5", "Where is my order A-10023 and how do I change the address?", {
    intents: ["orders"],
    pattern: "master-slave",
    tools: ["lookup_order", "lookup_order"],
    escalated: false
  }),
  one("status-6", "Where is A-99999? It never came", order("lookup_order")),
  // address changes
  one("address-1", "Please change the delivery address of A-10022 to 5 Park Lane, Leeds LS1 4AB", order("change_address")),
  one("address-2", "I moved. Change address for A-10028 to 12 Keizersgracht, 1015 CX Amsterdam", order("change_address")),
  one("address-3", "Change address of A-10023 to 9 Rua Nova, 4000 Porto", order("change_address")),
  // refunds against an order (money and an order: two intents)
  one("refund-1", "I want a refund for order A-10027, the kettle is broken", {
    intents: ["orders", "billing", "technical"],
    pattern: "master-slave",
    tools: ["request_refund", "search_knowledge_base", "search_knowledge_base"],
    escalated: false
  }),
  one("refund-2", "Please refund order A-10030", {
    intents: ["orders", "billing"],
    pattern: "master-slave",
    tools: ["request_refund", "search_knowledge_base"],
    escalated: false
  }),
  // multi-part questions
  one("multi-1", "Where is my order A-10028 and how do I return an item?", {
    intents: ["general", "orders"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "lookup_order"],
    escalated: false
  }),
  one("multi-2", "Where is my order A-10024, and what is your warranty on appliances?", {
    intents: ["general", "orders"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "lookup_order"],
    escalated: false
  }),
  one("multi-3", "My kettle shows error E3, and can I get an invoice with VAT?", {
    intents: ["billing", "technical"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "search_knowledge_base"],
    escalated: false
  }),
  one("multi-4", "Is order A-10029 shipped? Also, how do I unsubscribe from the newsletter?", {
    intents: ["general", "orders"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "lookup_order"],
    escalated: false
  }),
  // help-centre questions
  one("faq-1", "What is your return policy?", faq(["general"])),
  // two questions: one part each, both the help centre's
  one("faq-2", "Do you ship to Switzerland? What about customs?", {
    ...faq(["general"], "master-slave"),
    tools: ["search_knowledge_base", "search_knowledge_base"]
  }),
  one("faq-3", "How do I reset my password?", faq(["general"])),
  one("faq-4", "What are your opening hours for phone support?", faq(["general"])),
  one("faq-5", "How should I care for linen bedding?", faq(["general"])),
  one("faq-6", "Can I send something as a gift with a message?", faq(["general"])),
  one("faq-7", "Which duvet size fits a queen bed?", faq(["general"])),
  one("faq-8", "How do I unsubscribe from the newsletter?", faq(["general"])),
  one("faq-9", "Do you recycle old towels?", faq(["general"])),
  one("faq-10", "What does your privacy policy say about my data?", faq(["general"])),
  one("faq-11", "Tell me about Northwind Goods", faq(["general"])),
  one("faq-12", "Can I exchange shoes for another size?", faq(["general"])),
  // money questions: peer-reviewed
  one("billing-1", "Which payment methods do you accept? Can I pay with Klarna?", {
    ...faq(["billing"], "master-slave"),
    tools: ["search_knowledge_base", "search_knowledge_base"]
  }),
  one("billing-2", "I was charged twice on my card", faq(["billing"], "peer-review")),
  one("billing-3", "How do I get an invoice for my company?", faq(["billing"], "peer-review")),
  one("billing-4", "My discount code did not work", faq(["billing"], "peer-review")),
  one("billing-5", "When do you charge my card for an item that is not in stock yet?", faq(["billing"], "peer-review")),
  // technical
  one("tech-1", "My smart kettle will not connect to Wi-Fi", faq(["technical"])),
  one("tech-2", "The air purifier filter light is orange", faq(["technical"])),
  one("tech-3", "The grinder jams and the motor hums", faq(["technical"])),
  one("tech-4", "My desk lamp flickers at low brightness", faq(["technical"])),
  one("tech-5", "The app shows an error at checkout", faq(["technical"])),
  // a person, asked for
  one("human-1", "I want to speak to a person please", human),
  one("human-2", "Can I talk to someone real? A human operator", human),
  one("human-3", "Get me a representative", human),
  // hard cases: hybrid, then a team lead
  one("hard-1", "This is unacceptable! I want a refund for A-10026 or my lawyer will sue you", {
    intents: ["billing"],
    pattern: "hybrid",
    tools: ["lookup_order", "search_knowledge_base"],
    escalated: true
  }),
  one("hard-2", "I am furious, your scam shop charged me and I will file a chargeback", {
    intents: ["billing"],
    pattern: "hybrid",
    tools: ["search_knowledge_base"],
    escalated: true
  }),
  one("hard-3", "I'm going to court over this broken grinder, absolutely disgusted", {
    intents: ["technical"],
    pattern: "hybrid",
    tools: ["search_knowledge_base"],
    escalated: true
  }),
  // conversations of several turns
  {
    id: "multi-turn-1",
    steps: [
      { customer: "Where is my order A-10022?", expect: order("lookup_order") },
      { customer: "Change address of A-10022 to 44 Church Street, Leeds LS2 7AA", expect: order("change_address") },
      { customer: "How long does delivery to the UK take?", expect: faq(["orders"]) }
    ]
  },
  {
    id: "multi-turn-2",
    steps: [
      { customer: "My kettle shows error E3", expect: faq(["technical"]) },
      { customer: "I want to speak to a person", expect: human }
    ]
  },
  {
    id: "multi-turn-3",
    steps: [
      { customer: "What is your return policy?", expect: faq(["general"]) },
      { customer: "Where is my order A-10021?", expect: order("lookup_order") }
    ]
  },
  {
    id: "multi-turn-4",
    steps: [
      { customer: "Can I pay with Apple Pay?", expect: faq(["billing"], "peer-review") },
      { customer: "What is the tracking number of A-10024?", expect: order("lookup_order") }
    ]
  },
  one("misc-1", "Hello", faq(["general"])),
  one("misc-3", "Is the smart kettle compatible with Alexa?", faq(["technical"])),
  one("misc-4", "Cancel order A-10028 please", order("lookup_order"))
]
