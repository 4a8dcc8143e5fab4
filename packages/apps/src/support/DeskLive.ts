/**
 * The desk hosted: a customer message is bound to its conversation's customer, routed, drafted by
 * the chosen pattern, checked by the critic (revised once, then escalated) or escalated, and
 * recorded in the conversation's transcript with the reply.
 */
import { Agent, Colony, Events } from "@colony/runtime"
import { Effect } from "effect"
import * as Agents from "./Agents.js"
import { ConversationNotYours, DeskAgent, EscalationAgent, type Pattern, Reply, type Ticket, Turn } from "./Desk.js"
import { draft, type Drafting, primaryFor, specialists } from "./Drafting.js"
import { combine, type Outcome } from "./Outcome.js"
import * as Policy from "./Policy.js"
import * as Store from "./Store.js"
import { decodeTurn, encodeTurn, historyWithAnswers, ticketOf } from "./Transcript.js"

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

/**
 * After the draft: a case for a person opens a ticket; otherwise the critic checks the draft, a
 * rejected draft is revised once and a second rejection goes to a person.
 */
const decide = (drafting: Drafting, base: Outcome) =>
  Effect.gen(function*() {
    const { ask, conversation, route, text } = drafting
    const escalation = yield* Colony.client(EscalationAgent)
    const critic = yield* Colony.client(Agents.Critic)
    const openTicket = (reason: string, outcome: Outcome) =>
      Effect.map(escalation(conversation).OpenTicket({ question: text, reason }), (ticket) => ({
        outcome: combine(outcome, {
          text: escalationText(ticket, route.handling === "hard"),
          by: `escalation/${conversation}`,
          handledBy: [`escalation/${conversation}`]
        }),
        ticket
      }))
    if (route.handling === "human") return yield* openTicket("the customer asked for a person", base)
    const drafted = combine(base, yield* draft(drafting))
    if (route.handling === "hard") {
      return yield* openTicket(
        `hard case (${route.intents.join(", ")}): needs a team lead. Suggested reply: ${drafted.text}`,
        drafted
      )
    }
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

/**
 * How the desk works.
 *
 * @since 0.1.0
 */
export interface Options {
  /** use this pattern for every message instead of the router's choice */
  readonly pattern?: Pattern | undefined
}

/** The desk agent hosted with `options`. */
export const layer = (options: Options) =>
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
        const history = yield* historyWithAnswers(agent)
        const customer = encodeTurn(new Turn({ role: "customer", text, at: yield* Events.now, by: "customer" }))
        yield* agent.remember([...history, customer])

        const triage = yield* Colony.client(Agents.Triage)
        const route = yield* triage(conversation).RouteMessage({
          text,
          ...(options.pattern === undefined ? {} : { pattern: options.pattern })
        })
        const drafting: Drafting = {
          conversation,
          number: history.filter((message) => message.role === "user").length + 1,
          text,
          route,
          ask: yield* specialists(conversation, self)
        }
        const base: Outcome = {
          text: "",
          by: self,
          handledBy: [`triage/${conversation}`],
          tools: [],
          simulated: route.simulated,
          totalTokens: route.totalTokens,
          cost: route.cost
        }
        const { outcome, ticket } = yield* decide(drafting, base)

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
