/**
 * The support desk hosted: every support agent type with its handlers and tools. `layer` goes
 * wherever the agents run (an embedded colony, or each runner through an `--agents` module); it
 * needs a Postgres `SqlClient` for the `orders` and `support_tickets` tables, which `layerStore`
 * makes from `DATABASE_URL` or an explicit URL.
 *
 * How a customer message is handled (the desk's `Send`):
 * 0. the conversation is bound to the sender's verified customer on its first message, and a
 *    message from anyone else is refused (`ConversationNotYours`); the order tools act only on
 *    the bound customer's orders (`OrderNotYours`, `CustomerNotVerified`);
 * 1. the router (`triage/<conversation>`) names the message's intents and whether it needs a person,
 *    and picks the pattern (or takes the one configuration forces);
 * 2. `single`: one specialist answers (orders for order questions, FAQ for the rest);
 *    `master-slave`: the lead coordinates one specialist per intent (the router's intents are the
 *    decomposition), or for several questions on one topic one part per question, and combines
 *    their parts; `peer-review`: a specialist drafts, the critic and
 *    the reviewer debate the draft; `hybrid` (hard cases): a team of specialists and a team of
 *    reviewers deliberate as peers under the lead;
 * 3. the critic checks the draft against the written policy; a rejected draft is revised once,
 *    then escalated;
 * 4. a case that needs a person opens a ticket (`escalation/<conversation>`); the operator's
 *    answer joins the conversation.
 *
 * @since 0.1.0
 */
import { Collaboration } from "@colony/agents"
import { Agent, AgentError, Colony, Events, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import type * as Toolkit from "@effect/ai/Toolkit"
import { PgClient } from "@effect/sql-pg"
import type * as SqlClient from "@effect/sql/SqlClient"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Agents from "./Agents.js"
import { TicketOpened } from "./DeskEvents.js"
import {
  ConversationNotYours,
  DeskAgent,
  EscalationAgent,
  type Intent,
  OwnershipAgent,
  type Pattern,
  Pattern as PatternSchema,
  queueId,
  Reply,
  SupportError,
  type Ticket,
  Turn
} from "./Desk.js"
import * as KnowledgeBase from "./KnowledgeBase.js"
import * as Policy from "./Policy.js"
import * as Store from "./Store.js"

/**
 * Every support agent type, for `Colony.declare` in processes that call the desk without hosting it.
 *
 * @since 0.1.0
 */
export const agents = [
  DeskAgent,
  EscalationAgent,
  OwnershipAgent,
  Agents.Triage,
  Agents.Faq,
  Agents.Orders,
  Agents.Critic,
  Agents.Reviewer,
  Agents.Lead
] as const

/**
 * How the desk works.
 *
 * @since 0.1.0
 */
export interface Options {
  /** use this pattern for every message instead of the router's choice */
  readonly pattern?: Pattern | undefined
}

/**
 * `COLONY_SUPPORT_PATTERN`: a pattern to force for every message (unset: the router chooses).
 *
 * @since 0.1.0
 * @category config
 */
export const patternConfig: Config.Config<Option.Option<Pattern>> = Config.option(
  Config.literal("single", "master-slave", "peer-review", "hybrid")("COLONY_SUPPORT_PATTERN")
)

// --- tools ---

const money = (cents: number) => (cents / 100).toFixed(2)

const describeOrder = (order: Store.Order) =>
  [
    `order ${order.id} (${order.items}, ${money(order.totalCents)}), placed ${order.placedOn}: ${order.status}`,
    order.carrier === null ? undefined : `carrier ${order.carrier}, tracking ${order.tracking}`,
    order.expectedOn === null ? undefined : `${order.status === "delivered" ? "delivered" : "expected"} ${order.expectedOn}`,
    `ships to ${order.address}`,
    order.refund === null ? undefined : order.refund
  ].filter((part) => part !== undefined).join("; ")

export { CustomerNotVerified, OrderNotYours } from "./Agents.js"

/**
 * The order, when it is the conversation's customer's. Tools are shared by every conversation;
 * the agent instance's id is its conversation's (every agent on a conversation uses it), and the
 * desk bound that conversation to its verified customer before any specialist ran.
 */
const ownOrder = (orderId: string) =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    const { id } = yield* Agent.CurrentAgent
    const customer = Option.getOrNull(yield* store.conversationOwner(id))
    // checked before the order is read, so an unverified sender learns nothing, not even whether it exists
    if (customer === null) return yield* new Agents.CustomerNotVerified({ orderId })
    const order = yield* store.order(orderId)
    if (order.email.toLowerCase() !== customer.toLowerCase()) return yield* new Agents.OrderNotYours({ orderId })
    return order
  })

const ordersTools = {
  lookup_order: ({ orderId }) => Effect.map(ownOrder(orderId), describeOrder),
  change_address: ({ newAddress, orderId }) =>
    Effect.gen(function*() {
      yield* ownOrder(orderId)
      const order = yield* Effect.flatMap(Store.Store, (store) => store.changeAddress(orderId, newAddress))
      return `the delivery address of order ${order.id} is now ${order.address}`
    }),
  request_refund: ({ orderId, reason }) =>
    Effect.gen(function*() {
      yield* ownOrder(orderId)
      const order = yield* Effect.flatMap(Store.Store, (store) => store.requestRefund(orderId, reason.slice(0, 300)))
      return `order ${order.id}: ${order.refund}`
    })
} satisfies Agent.ToolHandlers<Toolkit.Tools<typeof Agents.OrdersToolkit>>

const faqTools = {
  search_knowledge_base: ({ query }) => {
    const hits = KnowledgeBase.search(query, { limit: 3 })
    return Effect.succeed(
      hits.length === 0
        ? "no article matches"
        : hits.map((hit) => `[${hit.id}] ${hit.title} (${hit.category}): ${hit.body}`).join("\n\n")
    )
  }
} satisfies Agent.ToolHandlers<Toolkit.Tools<typeof Agents.FaqToolkit>>

// --- structured model calls made by handlers (the router and the critic) ---

const structured = <A, I>(agent: Agent.AgentContext, prompt: string, schema: Schema.Schema<A, I, never>) =>
  Effect.gen(function*() {
    const started = yield* Events.now
    const result = yield* LanguageModel.generateObject({
      model: agent.definition.model,
      messages: [LanguageModel.ChatMessage.system(agent.definition.instructions), LanguageModel.ChatMessage.user(prompt)],
      schema
    }).pipe(
      LanguageModel.withAttribution({ agent: `${agent.agent}/${agent.id}` }),
      Effect.mapError((error) => new SupportError({ reason: `${agent.agent} could not decide: ${error.message}` }))
    )
    const at = yield* Events.now
    yield* Events.publish(
      new Events.ModelCalled({
        agent: agent.agent,
        id: agent.id,
        at,
        model: result.response.model,
        modelId: result.response.modelId,
        simulated: result.response.simulated,
        usage: result.usage,
        cost: result.cost,
        retries: result.response.retries,
        durationMs: at - started
      })
    )
    return result
  })

const questionWords = "how|what|where|when|why|which|who|can|could|do|does|did|is|are|will|would|should"
const questionStart = new RegExp(`^(?:${questionWords})\\b`, "i")
const questionBreak = new RegExp(`\\?|[.;!]\\s+|,?\\s+and\\s+(?=(?:${questionWords})\\b)`, "i")

/**
 * The questions a message asks: "Where is my order A-10023 and how do I change the address?"
 * asks two, "Hi, where is my order?" one. A message of several questions is multi-part even when
 * they are all one specialist's.
 *
 * @since 0.1.0
 */
export const questionsIn = (text: string): ReadonlyArray<string> =>
  text.split(questionBreak).map((part) => part.trim()).filter((part) => questionStart.test(part))

/**
 * The pattern for a routed message: hard cases go hybrid, a message of several intents or several
 * questions master-slave, a money question gets its answer peer-reviewed, the rest is one
 * specialist's.
 *
 * @since 0.1.0
 */
export const choosePattern = (routing: Agents.Routing, questions = 1): Pattern =>
  routing.handling === "hard"
    ? "hybrid"
    : routing.handling === "human"
    ? "single"
    : routing.intents.length > 1 || questions > 1
    ? "master-slave"
    : routing.intents[0] === "billing"
    ? "peer-review"
    : "single"

const dedupe = <A>(items: ReadonlyArray<A>): ReadonlyArray<A> => [...new Set(items)]

const TriageLive = Agent.toLayer(Agents.Triage, {
  RouteMessage: ({ pattern, text }, agent) =>
    Effect.gen(function*() {
      const { response, usage, cost, value } = yield* structured(agent, text, Agents.Routing)
      const routing = { ...value, intents: dedupe(value.intents) }
      return new Agents.Route({
        intents: routing.intents,
        handling: routing.handling,
        pattern: pattern ?? choosePattern(routing, questionsIn(text).length),
        forced: pattern !== undefined,
        simulated: response.simulated,
        totalTokens: usage.totalTokens,
        cost
      })
    })
})

const Judgement = Schema.Struct({
  verdict: Schema.Union(
    Schema.Literal("approve").annotations({ description: "the reply follows every rule of the policy" }),
    Schema.Literal("reject").annotations({ description: "the reply breaks at least one rule of the policy" })
  ),
  broken: Schema.Array(Schema.String).annotations({ description: "the numbers of the rules the reply breaks" })
}).annotations({ identifier: "Judgement" })

const CriticLive = Agent.toLayer(Agents.Critic, {
  CheckDraft: ({ draft, question }, agent) =>
    Effect.gen(function*() {
      const broken = Policy.violations(draft).map((rule) => rule.id)
      const judged = yield* structured(
        agent,
        `The support policy:\n${Policy.text}\n\nThe customer wrote:\n${question}\n\nThe draft reply:\n${draft}\n\n` +
          `Does the draft follow the policy?`,
        Judgement
      )
      // A simulated judgement only echoes words of the prompt, so offline the written rules decide alone.
      const modelRejects = !judged.response.simulated && judged.value.verdict === "reject"
      const violations = modelRejects && broken.length === 0
        ? judged.value.broken.map((n) => Policy.rules[Number(n) - 1]?.id ?? `policy rule ${n}`)
        : broken
      return new Agents.Verdict({
        approved: violations.length === 0,
        violations,
        simulated: judged.response.simulated,
        totalTokens: judged.usage.totalTokens,
        cost: judged.cost
      })
    })
})

const FaqLive = Agent.toLayer(Agents.Faq, {}, { toolHandlers: faqTools })

const OrdersLive = Agent.toLayer(Agents.Orders, {}, { toolHandlers: ordersTools })

const OwnershipLive = Agent.toLayer(OwnershipAgent, {
  GetOwner: ({ conversationId }) => Effect.flatMap(Store.Store, (store) => store.conversationOwner(conversationId))
})

const EscalationLive = Agent.toLayer(EscalationAgent, {
  OpenTicket: ({ question, reason }, agent) =>
    Effect.gen(function*() {
      const store = yield* Store.Store
      const ticket = yield* store.openTicket({ conversationId: agent.id, question, reason })
      const at = yield* Events.now
      yield* Events.publish(new TicketOpened({ agent: EscalationAgent.type, id: agent.id, at, ticketId: ticket.id, reason }))
      return ticket
    }),
  ListTickets: () => Effect.flatMap(Store.Store, (store) => store.openTickets),
  FindTicket: ({ ticketId }) => Effect.flatMap(Store.Store, (store) => store.ticket(ticketId)),
  AnswerTicket: ({ text, ticketId }, agent) =>
    Effect.gen(function*() {
      const store = yield* Store.Store
      const ticket = yield* store.ticket(ticketId)
      if (ticket.conversationId !== agent.id) {
        return yield* new SupportError({
          reason: `ticket ${ticketId} belongs to conversation ${ticket.conversationId}, not ${agent.id}`
        })
      }
      if (ticket.status !== "open") {
        return yield* new SupportError({ reason: `ticket ${ticketId} was already answered; it is answered once` })
      }
      // The answer is stored with its ticket, where the desk reads it. The desk is told without
      // waiting for it: its mailbox may be busy with a customer message that is itself waiting on
      // this agent (to open a ticket), and neither would ever answer. Told, it records the answer
      // now, and whoever follows the conversation sees it handle the answer.
      const answered = yield* store.answerTicket(ticketId, text)
      const desk = yield* Colony.client(DeskAgent)
      yield* Effect.forkDaemon(Effect.ignoreLogged(desk(ticket.conversationId).HumanReply({ ticketId, text })))
      return answered
    })
})

// --- the desk ---

// A turn is kept in the desk's memory as a chat message whose name carries who and when. The
// name stays within what OpenAI-compatible endpoints accept (`[A-Za-z0-9_-]{1,64}`), so the
// desk's memory remains a valid transcript for a model: `customer_<at>`, `agent_<at>_<type>` (the
// agent instance is `<type>/<conversation>`: every agent on a conversation uses its id) and
// `human_<at>_<ticket>`.
const encodeTurn = (turn: Turn, ticketId?: string): LanguageModel.ChatMessage =>
  new LanguageModel.ChatMessage({
    role: turn.role === "customer" ? "user" : "assistant",
    content: turn.text,
    name: turn.role === "customer"
      ? `customer_${turn.at}`
      : turn.role === "agent"
      ? `agent_${turn.at}_${turn.by.split("/")[0]}`
      : `human_${turn.at}_${ticketId ?? "none"}`
  })

const decodeTurn = (conversation: string) => (message: LanguageModel.ChatMessage): Turn | undefined => {
  const [role, at, detail] = (message.name ?? "").split("_")
  if (role !== "customer" && role !== "agent" && role !== "human") return undefined
  const by = role === "customer" ? "customer" : role === "human" ? "operator" : `${detail}/${conversation}`
  return new Turn({ role, text: message.content, at: Number(at), by })
}

const ticketOf = (message: LanguageModel.ChatMessage): string | undefined => {
  const [role, , ticket] = (message.name ?? "").split("_")
  return role === "human" ? ticket : undefined
}

const atOf = (message: LanguageModel.ChatMessage): number => Number((message.name ?? "").split("_")[1])

/**
 * The desk's memory with the operators' answers it has not recorded yet, each placed by the time
 * it was given. Operators answer tickets in storage (see `AnswerTicket`); the desk merges them
 * whenever it reads or extends the transcript.
 */
const withAnswers = (
  history: ReadonlyArray<LanguageModel.ChatMessage>,
  tickets: ReadonlyArray<Ticket>
): ReadonlyArray<LanguageModel.ChatMessage> => {
  const recorded = new Set(history.map(ticketOf))
  const merged = [...history]
  for (const ticket of tickets) {
    if (ticket.reply === null || recorded.has(ticket.id)) continue
    const at = ticket.answeredAt ?? 0
    const later = merged.findIndex((message) => atOf(message) > at)
    const turn = encodeTurn(new Turn({ role: "human", text: ticket.reply, at, by: "operator" }), ticket.id)
    merged.splice(later < 0 ? merged.length : later, 0, turn)
  }
  return merged
}

const historyWithAnswers = (agent: Agent.AgentContext) =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    return withAnswers(yield* agent.history, yield* store.answeredTickets(agent.id))
  })

interface Outcome {
  readonly text: string
  readonly by: string
  readonly handledBy: ReadonlyArray<string>
  readonly tools: ReadonlyArray<Agent.ToolUse>
  readonly simulated: boolean
  readonly totalTokens: number
  readonly cost: number
}

const ORDER_ID = /\bA-\d{5}\b/

const specialistFor = (intent: Intent): "orders" | "faq" => intent === "orders" ? "orders" : "faq"

// A message naming an order goes to the orders specialist, who can act on it; without an order
// number even an order question is a help-centre one (delivery times, how to change an address):
// the orders specialist could only ask for the number.
const primaryFor = (text: string): "orders" | "faq" => ORDER_ID.test(text) ? "orders" : "faq"

const escalationText = (ticket: Ticket, hard: boolean) =>
  hard
    ? `I'm sorry this has gone wrong. I've passed your case to a team lead (ticket ${ticket.id}), who will reply ` +
      `here within 24 hours; they can decide on anything I am not allowed to.`
    : `I've passed your conversation to our support team (ticket ${ticket.id}). A person will reply here, usually ` +
      `within a few hours during opening times.`

const notYours = (conversationId: string, bound: string | null, sender: string | null) =>
  new ConversationNotYours({
    conversationId,
    reason: bound === null
      ? `conversation ${conversationId} was started without a signed-in customer; start a new conversation ` +
        `to get help with your orders`
      : sender === null
      ? `conversation ${conversationId} belongs to a signed-in customer; sign in as that customer, or start a ` +
        `new conversation`
      : `conversation ${conversationId} belongs to another customer; start a new conversation`
  })

const makeDesk = (options: Options) =>
  Agent.toLayer(DeskAgent, {
    GetTranscript: (_, agent) =>
      Effect.map(
        historyWithAnswers(agent),
        (history) => history.map(decodeTurn(agent.id)).filter((turn): turn is Turn => turn !== undefined)
      ),

    HumanReply: ({ text, ticketId }, agent) =>
      Effect.gen(function*() {
        // an answer stored with its ticket is recorded where it was given
        const history = yield* historyWithAnswers(agent)
        const known = history.find((message) => ticketOf(message) === ticketId)
        if (known !== undefined) {
          yield* agent.remember(history)
          return decodeTurn(agent.id)(known)!
        }
        const turn = new Turn({ role: "human", text, at: yield* Events.now, by: "operator" })
        yield* agent.remember([...history, encodeTurn(turn, ticketId)])
        return turn
      }),

    Send: ({ customer: sender, text }, agent) =>
      Effect.gen(function*() {
        const conversation = agent.id
        // before the message is stored: a message from someone else joins neither the transcript
        // nor any specialist's memory
        const store = yield* Store.Store
        const signedIn = sender?.toLowerCase() ?? null
        const bound = yield* store.bindConversation(conversation, signedIn)
        if (bound !== signedIn) return yield* notYours(conversation, bound, signedIn)
        const self = `desk/${conversation}`
        const started = yield* Events.now
        const history = yield* historyWithAnswers(agent)
        const customer = encodeTurn(new Turn({ role: "customer", text, at: started, by: "customer" }))
        yield* agent.remember([...history, customer])
        const number = history.filter((message) => message.role === "user").length + 1

        const triage = yield* Colony.client(Agents.Triage)
        const route = yield* triage(conversation).RouteMessage({
          text,
          ...(options.pattern === undefined ? {} : { pattern: options.pattern })
        })
        const ref = (name: string) => new Collaboration.AgentRef({ agent: name, id: conversation })
        const session = (pattern: string) => `${conversation}.${number}-${pattern}`
        const orders = yield* Colony.client(Agents.Orders)
        const faq = yield* Colony.client(Agents.Faq)
        const specialists = { orders, faq }

        const ask = (name: "orders" | "faq", prompt: string) =>
          Effect.map(specialists[name](conversation).Ask({ prompt, from: self }), (answer): Outcome => ({
            text: answer.text,
            by: `${name}/${conversation}`,
            handledBy: [`${name}/${conversation}`],
            tools: answer.tools,
            simulated: answer.simulated,
            totalTokens: answer.usage.totalTokens,
            cost: answer.cost
          }))

        const fromResult = (result: Collaboration.Result, by: string): Outcome => ({
          text: result.answer,
          by,
          handledBy: dedupe(result.contributions.map((c) => `${c.by.agent}/${c.by.id}`)),
          tools: result.contributions.flatMap((c) => c.tools),
          simulated: result.simulated,
          totalTokens: result.totalTokens,
          cost: result.totalCost
        })

        const combine = (a: Outcome, b: Partial<Outcome> & { readonly handledBy: ReadonlyArray<string> }): Outcome => ({
          text: b.text ?? a.text,
          by: b.by ?? a.by,
          handledBy: dedupe([...a.handledBy, ...b.handledBy]),
          tools: [...a.tools, ...(b.tools ?? [])],
          simulated: a.simulated || (b.simulated ?? false),
          totalTokens: a.totalTokens + (b.totalTokens ?? 0),
          cost: a.cost + (b.cost ?? 0)
        })

        const escalation = yield* Colony.client(EscalationAgent)
        const critic = yield* Colony.client(Agents.Critic)
        const base: Outcome = {
          text: "",
          by: self,
          handledBy: [`triage/${conversation}`],
          tools: [],
          simulated: route.simulated,
          totalTokens: route.totalTokens,
          cost: route.cost
        }

        const draft = () => {
          const primary = primaryFor(text)
          switch (route.pattern) {
            case "single":
              return ask(primary, text)
            case "peer-review":
              return Effect.gen(function*() {
                const first = yield* ask(primary, text)
                const review = yield* Collaboration.run(
                  Collaboration.Peer.make({
                    peers: [ref("critic"), ref("reviewer")],
                    rounds: 1,
                    stop: "fixed-rounds",
                    options: ["approve", "revise"]
                  }),
                  `A customer of Northwind Goods wrote:\n${text}\n\nThe draft reply:\n${first.text}\n\n` +
                    `The support policy:\n${Policy.text}\n\nShould the draft be sent as it is (approve) or revised (revise)?`,
                  { session: session("peer-review") }
                )
                const reviewed = combine(first, { ...fromResult(review, first.by), text: first.text, by: first.by })
                // Only a reviewer who clearly asked for a revision gets one: a vote read by the
                // fallback (an answer naming no option, or both) is no judgement of the draft.
                const objections = review.votes.filter((vote) => vote.choice === "revise" && vote.how !== "fallback")
                if (objections.length === 0) return reviewed
                const comments = review.contributions.map((c) => `- ${c.by.agent}: ${c.text}`).join("\n")
                const revised = yield* ask(
                  primary,
                  `Reviewers asked for a revision of your reply to "${text}":\n${comments}\nWrite the revised reply.`
                )
                return combine(reviewed, revised)
              })
            case "master-slave":
              return Effect.gen(function*() {
                const names = dedupe(route.intents.map(specialistFor))
                // several topics: one part per intent, to its specialist; several questions on one
                // topic: one part per question, all to that topic's specialist
                const byTopic = route.intents.length > 1
                const questions = questionsIn(text)
                const result = yield* Collaboration.run(
                  Collaboration.MasterSlave.make({
                    coordinator: ref("lead"),
                    workers: (byTopic ? names : [primary]).map(ref) as [Collaboration.AgentRef, ...Array<Collaboration.AgentRef>],
                    decompose: byTopic || questions.length < 2
                      ? { _tag: "Vertical", functions: route.intents as [Intent, ...Array<Intent>] }
                      : { _tag: "Horizontal", items: questions as [string, ...Array<string>], blocks: questions.length },
                    assign: byTopic ? "capability" : "round-robin",
                    aggregate: "synthesis"
                  }),
                  text,
                  { session: session("master-slave") }
                )
                return fromResult(result, `lead/${conversation}`)
              })
            case "hybrid":
              return Effect.gen(function*() {
                const resolvers = dedupe([primary, "faq" as const])
                const result = yield* Collaboration.run(
                  Collaboration.Hybrid.make({
                    coordinator: ref("lead"),
                    teams: [
                      new Collaboration.Team({ name: "resolution", peers: resolvers.map(ref) as [Collaboration.AgentRef], rounds: 1 }),
                      new Collaboration.Team({ name: "review", peers: [ref("critic"), ref("reviewer")], rounds: 1 })
                    ],
                    decompose: "replicate",
                    aggregate: "synthesis"
                  }),
                  `${text}\n\nThe support policy:\n${Policy.text}`,
                  { session: session("hybrid") }
                )
                return fromResult(result, `lead/${conversation}`)
              })
          }
        }

        const openTicket = (reason: string, outcome: Outcome) =>
          Effect.map(escalation(conversation).OpenTicket({ question: text, reason }), (ticket) => ({
            outcome: combine(outcome, {
              text: escalationText(ticket, route.handling === "hard"),
              by: `escalation/${conversation}`,
              handledBy: [`escalation/${conversation}`]
            }),
            ticket
          }))

        const decide = Effect.gen(function*() {
          if (route.handling === "human") return yield* openTicket("the customer asked for a person", base)
          const drafted = combine(base, yield* draft())
          if (route.handling === "hard") {
            return yield* openTicket(
              `hard case (${route.intents.join(", ")}): needs a team lead. Suggested reply: ${drafted.text}`,
              drafted
            )
          }
          // the critic checks the draft; a rejected draft is revised once, then goes to a person
          let current = drafted
          for (let attempt = 1; attempt <= 2; attempt++) {
            const verdict = yield* critic(conversation).CheckDraft({ question: text, draft: current.text })
            current = combine(current, {
              handledBy: [`critic/${conversation}`],
              simulated: verdict.simulated,
              totalTokens: verdict.totalTokens,
              cost: verdict.cost
            })
            if (verdict.approved) return { outcome: current, ticket: null }
            if (attempt === 2) {
              return yield* openTicket(`the draft reply broke the support policy (${verdict.violations.join(", ")})`, current)
            }
            const rewrite = yield* ask(
              primaryFor(text),
              `Your reply to "${text}" breaks these rules of the support policy: ${verdict.violations.join(", ")}.\n` +
                `The policy:\n${Policy.text}\nWrite a reply that follows it.`
            )
            current = combine(current, rewrite)
          }
          return { outcome: current, ticket: null }
        })
        const { outcome, ticket } = yield* decide

        const answered = new Turn({ role: "agent", text: outcome.text, at: yield* Events.now, by: outcome.by })
        yield* agent.remember([...history, customer, encodeTurn(answered)])
        return new Reply({
          conversationId: conversation,
          text: outcome.text,
          intents: route.intents,
          pattern: route.pattern,
          handledBy: outcome.handledBy,
          tools: outcome.tools,
          escalation: ticket,
          simulated: outcome.simulated,
          totalTokens: outcome.totalTokens,
          cost: outcome.cost
        })
      })
  })

/**
 * The support agents with explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: Options
): Layer.Layer<never, never, Agent.Requirements | Colony.Services | Sharding | SqlClient.SqlClient> =>
  Layer.mergeAll(
    makeDesk(options),
    EscalationLive,
    OwnershipLive,
    TriageLive,
    FaqLive,
    OrdersLive,
    CriticLive,
    Agent.toLayer(Agents.Reviewer),
    Agent.toLayer(Agents.Lead)
  ).pipe(Layer.provide(Store.layer))

/**
 * The support agents, with the pattern from `COLONY_SUPPORT_PATTERN` (the router's choice when unset).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  never,
  SupportError,
  Agent.Requirements | Colony.Services | Sharding | SqlClient.SqlClient
> = Layer.unwrapEffect(
  Effect.map(
    Effect.mapError(patternConfig, (error) =>
      new SupportError({ reason: `invalid COLONY_SUPPORT_PATTERN: ${String(error)}; use one of ${PatternSchema.literals.join(", ")}` })),
    (pattern) => layerWith({ pattern: Option.getOrUndefined(pattern) })
  )
)

/**
 * The support tables' database: `url`, or `DATABASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore = (url?: string): Layer.Layer<SqlClient.SqlClient, SupportError> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const resolved = url === undefined
        ? Option.getOrUndefined(yield* Effect.orElseSucceed(Config.option(Config.redacted("DATABASE_URL")), () => Option.none()))
        : Redacted.make(url)
      if (resolved === undefined) {
        return Layer.fail(
          new SupportError({ reason: "DATABASE_URL is not set: the support desk keeps orders and tickets in Postgres" })
        )
      }
      return PgClient.layer({ url: resolved }).pipe(
        Layer.mapError((error) =>
          new SupportError({ reason: `cannot reach the support database: ${error.message}; check that Postgres is up` })
        )
      )
    })
  )

/**
 * The errors of a desk message, for callers that want to match on them.
 *
 * @since 0.1.0
 */
export type DeskError = SupportError | ConversationNotYours | AgentError.AgentError | LanguageModel.ModelError

/**
 * The ticket queue's instance id (see `Desk.escalations`).
 *
 * @since 0.1.0
 */
export { queueId }
