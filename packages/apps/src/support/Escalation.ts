/**
 * People in the loop: the escalation agent opens tickets and records operators' answers, and the
 * ownership agent says which customer a conversation is bound to.
 */
import { Agent, Colony, Events } from "@colony/runtime"
import { Effect } from "effect"
import { DeskAgent, EscalationAgent, OwnershipAgent, SupportError } from "./Desk.js"
import { TicketOpened } from "./DeskEvents.js"
import * as Store from "./Store.js"

/** The ownership agent hosted. */
export const OwnershipLive = Agent.toLayer(OwnershipAgent, {
  GetOwner: ({ conversationId }) => Effect.flatMap(Store.Store, (store) => store.conversationOwner(conversationId))
})

/** The escalation agent hosted. */
export const EscalationLive = Agent.toLayer(EscalationAgent, {
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
