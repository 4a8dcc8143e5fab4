/**
 * The desk's transcript: its turns kept as chat messages in the desk's memory, and the operators'
 * answers merged into it where they were given.
 */
import { type Agent, LanguageModel } from "@colony/runtime"
import { Effect } from "effect"
import { type Ticket, Turn } from "./Desk.js"
import * as Store from "./Store.js"

// A turn is kept in the desk's memory as a chat message whose name carries who and when. The
// name stays within what OpenAI-compatible endpoints accept (`[A-Za-z0-9_-]{1,64}`), so the
// desk's memory remains a valid transcript for a model: `customer_<at>`, `agent_<at>_<type>` (the
// agent instance is `<type>/<conversation>`: every agent on a conversation uses its id) and
// `human_<at>_<ticket>`.
export const encodeTurn = (turn: Turn, ticketId?: string): LanguageModel.ChatMessage =>
  new LanguageModel.ChatMessage({
    role: turn.role === "customer" ? "user" : "assistant",
    content: turn.text,
    name: turn.role === "customer"
      ? `customer_${turn.at}`
      : turn.role === "agent"
      ? `agent_${turn.at}_${turn.by.split("/")[0]}`
      : `human_${turn.at}_${ticketId ?? "none"}`
  })

export const decodeTurn = (conversation: string) => (message: LanguageModel.ChatMessage): Turn | undefined => {
  const [role, at, detail] = (message.name ?? "").split("_")
  if (role !== "customer" && role !== "agent" && role !== "human") return undefined
  const by = role === "customer" ? "customer" : role === "human" ? "operator" : `${detail}/${conversation}`
  return new Turn({ role, text: message.content, at: Number(at), by })
}

export const ticketOf = (message: LanguageModel.ChatMessage): string | undefined => {
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

export const historyWithAnswers = (agent: Agent.AgentContext) =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    return withAnswers(yield* agent.history, yield* store.answeredTickets(agent.id))
  })
