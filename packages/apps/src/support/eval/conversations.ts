/**
 * The evaluation set: 52 scripted conversations with the route, tool calls and escalation each
 * customer message should get. Routes name the intents (as a set) and the pattern; tools are the
 * names of the calls expected, in any order. Each conversation names the customer signed in (or
 * none): the order tools act only on that customer's orders, and a message about another
 * customer's order, or any order when no one is signed in, expects the tool's refusal.
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
  /** an order tool refuses: the order is not the signed-in customer's, or no one is signed in */
  readonly refused: boolean
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
  /** the verified customer's e-mail address; `null` when the customer is not signed in */
  readonly signedIn: string | null
  readonly steps: ReadonlyArray<Step>
}

const faq = (intents: ReadonlyArray<Intent>, pattern: Pattern = "single"): Expected => ({
  intents,
  pattern,
  tools: ["search_knowledge_base"],
  escalated: false,
  refused: false
})
const order = (tool: string): Expected => ({
  intents: ["orders"],
  pattern: "single",
  tools: [tool],
  escalated: false,
  refused: false
})
const refused = (tool: string): Expected => ({ ...order(tool), refused: true })
const human: Expected = { intents: ["general"], pattern: "single", tools: [], escalated: true, refused: false }
const one = (id: string, signedIn: string | null, customer: string, expect: Expected): Conversation => ({
  id,
  signedIn,
  steps: [{ customer, expect }]
})

// the customers of the seeded orders (Store.seedOrders), and no one signed in
const maya = "maya@example.com" // A-10021
const tom = "tom.okafor@example.com" // A-10022
const ana = "ana.ribeiro@example.com" // A-10023, A-10031
const jonas = "jonas.weber@example.com" // A-10024
const priya = "priya.n@example.com" // A-10025
const sam = "sam.carter@example.com" // A-10026
const lea = "lea.rossi@example.com" // A-10027
const kenji = "kenji.sato@example.com" // A-10028
const olivia = "olivia.brown@example.com" // A-10029
const diego = "diego.f@example.com" // A-10030
const none = null

/**
 * @since 0.1.0
 */
export const conversations: ReadonlyArray<Conversation> = [
  // order lookups
  one("status-1", ana, "Where is my order A-10023?", order("lookup_order")),
  one("status-2", jonas, "Has order A-10024 shipped yet? I need the tracking number", order("lookup_order")),
  one("status-3", olivia, "When will my parcel A-10029 arrive?", order("lookup_order")),
  one("status-4", tom, "What is the status of A-10022?", order("lookup_order")),
  // two questions on one order: a part each, both the orders specialist's (who can only look the
  // order up until the customer gives the new address)
  one("status-5", ana, "Where is my order A-10023 and how do I change the address?", {
    intents: ["orders"],
    pattern: "master-slave",
    tools: ["lookup_order", "lookup_order"],
    escalated: false,
    refused: false
  }),
  one("status-6", diego, "Where is A-99999? It never came", order("lookup_order")),
  // address changes
  one("address-1", tom, "Please change the delivery address of A-10022 to 5 Park Lane, Leeds LS1 4AB", order("change_address")),
  one("address-2", kenji, "I moved. Change address for A-10028 to 12 Keizersgracht, 1015 CX Amsterdam", order("change_address")),
  one("address-3", ana, "Change address of A-10023 to 9 Rua Nova, 4000 Porto", order("change_address")),
  // refunds against an order (money and an order: two intents)
  one("refund-1", lea, "I want a refund for order A-10027, the kettle is broken", {
    intents: ["orders", "billing", "technical"],
    pattern: "master-slave",
    tools: ["request_refund", "search_knowledge_base", "search_knowledge_base"],
    escalated: false,
    refused: false
  }),
  one("refund-2", diego, "Please refund order A-10030", {
    intents: ["orders", "billing"],
    pattern: "master-slave",
    tools: ["request_refund", "search_knowledge_base"],
    escalated: false,
    refused: false
  }),
  // multi-part questions
  one("multi-1", kenji, "Where is my order A-10028 and how do I return an item?", {
    intents: ["general", "orders"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "lookup_order"],
    escalated: false,
    refused: false
  }),
  one("multi-2", jonas, "Where is my order A-10024, and what is your warranty on appliances?", {
    intents: ["general", "orders"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "lookup_order"],
    escalated: false,
    refused: false
  }),
  one("multi-3", lea, "My kettle shows error E3, and can I get an invoice with VAT?", {
    intents: ["billing", "technical"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "search_knowledge_base"],
    escalated: false,
    refused: false
  }),
  one("multi-4", olivia, "Is order A-10029 shipped? Also, how do I unsubscribe from the newsletter?", {
    intents: ["general", "orders"],
    pattern: "master-slave",
    tools: ["search_knowledge_base", "lookup_order"],
    escalated: false,
    refused: false
  }),
  // help-centre questions
  one("faq-1", none, "What is your return policy?", faq(["general"])),
  // two questions: one part each, both the help centre's
  one("faq-2", none, "Do you ship to Switzerland? What about customs?", {
    ...faq(["general"], "master-slave"),
    tools: ["search_knowledge_base", "search_knowledge_base"]
  }),
  one("faq-3", none, "How do I reset my password?", faq(["general"])),
  one("faq-4", none, "What are your opening hours for phone support?", faq(["general"])),
  one("faq-5", maya, "How should I care for linen bedding?", faq(["general"])),
  one("faq-6", none, "Can I send something as a gift with a message?", faq(["general"])),
  one("faq-7", maya, "Which duvet size fits a queen bed?", faq(["general"])),
  one("faq-8", none, "How do I unsubscribe from the newsletter?", faq(["general"])),
  one("faq-9", none, "Do you recycle old towels?", faq(["general"])),
  one("faq-10", priya, "What does your privacy policy say about my data?", faq(["general"])),
  one("faq-11", none, "Tell me about Northwind Goods", faq(["general"])),
  one("faq-12", diego, "Can I exchange shoes for another size?", faq(["general"])),
  // money questions: peer-reviewed
  one("billing-1", none, "Which payment methods do you accept? Can I pay with Klarna?", {
    ...faq(["billing"], "master-slave"),
    tools: ["search_knowledge_base", "search_knowledge_base"]
  }),
  one("billing-2", priya, "I was charged twice on my card", faq(["billing"], "peer-review")),
  one("billing-3", none, "How do I get an invoice for my company?", faq(["billing"], "peer-review")),
  one("billing-4", sam, "My discount code did not work", faq(["billing"], "peer-review")),
  one("billing-5", none, "When do you charge my card for an item that is not in stock yet?", faq(["billing"], "peer-review")),
  // technical
  one("tech-1", lea, "My smart kettle will not connect to Wi-Fi", faq(["technical"])),
  one("tech-2", olivia, "The air purifier filter light is orange", faq(["technical"])),
  one("tech-3", ana, "The grinder jams and the motor hums", faq(["technical"])),
  one("tech-4", sam, "My desk lamp flickers at low brightness", faq(["technical"])),
  one("tech-5", none, "The app shows an error at checkout", faq(["technical"])),
  // a person, asked for
  one("human-1", none, "I want to speak to a person please", human),
  one("human-2", tom, "Can I talk to someone real? A human operator", human),
  one("human-3", none, "Get me a representative", human),
  // hard cases: hybrid, then a team lead
  one("hard-1", sam, "This is unacceptable! I want a refund for A-10026 or my lawyer will sue you", {
    intents: ["billing"],
    pattern: "hybrid",
    tools: ["lookup_order", "search_knowledge_base"],
    escalated: true,
    refused: false
  }),
  one("hard-2", priya, "I am furious, your scam shop charged me and I will file a chargeback", {
    intents: ["billing"],
    pattern: "hybrid",
    tools: ["search_knowledge_base"],
    escalated: true,
    refused: false
  }),
  one("hard-3", ana, "I'm going to court over this broken grinder, absolutely disgusted", {
    intents: ["technical"],
    pattern: "hybrid",
    tools: ["search_knowledge_base"],
    escalated: true,
    refused: false
  }),
  // conversations of several turns
  {
    id: "multi-turn-1",
    signedIn: tom,
    steps: [
      { customer: "Where is my order A-10022?", expect: order("lookup_order") },
      { customer: "Change address of A-10022 to 44 Church Street, Leeds LS2 7AA", expect: order("change_address") },
      { customer: "How long does delivery to the UK take?", expect: faq(["orders"]) }
    ]
  },
  {
    id: "multi-turn-2",
    signedIn: none,
    steps: [
      { customer: "My kettle shows error E3", expect: faq(["technical"]) },
      { customer: "I want to speak to a person", expect: human }
    ]
  },
  {
    id: "multi-turn-3",
    signedIn: maya,
    steps: [
      { customer: "What is your return policy?", expect: faq(["general"]) },
      { customer: "Where is my order A-10021?", expect: order("lookup_order") }
    ]
  },
  {
    id: "multi-turn-4",
    signedIn: jonas,
    steps: [
      { customer: "Can I pay with Apple Pay?", expect: faq(["billing"], "peer-review") },
      { customer: "What is the tracking number of A-10024?", expect: order("lookup_order") }
    ]
  },
  one("misc-1", none, "Hello", faq(["general"])),
  one("misc-3", none, "Is the smart kettle compatible with Alexa?", faq(["technical"])),
  one("misc-4", kenji, "Cancel order A-10028 please", order("lookup_order")),
  // other customers' orders: refused, whatever the customer asks
  {
    id: "others-1",
    signedIn: ana,
    steps: [
      { customer: "Where is my order A-10023?", expect: order("lookup_order") },
      { customer: "Has order A-10024 shipped yet? I need the tracking number", expect: refused("lookup_order") },
      { customer: "Please change the delivery address of A-10022 to 5 Park Lane, Leeds LS1 4AB", expect: refused("change_address") }
    ]
  },
  // no one signed in: no order at all
  one("signed-out-1", none, "Where is my order A-10023?", refused("lookup_order"))
]
