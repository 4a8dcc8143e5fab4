/**
 * The support desk's own events, published on the colony's event bus next to the runtime's and the
 * sessions' (an application adds events without touching either package), and the union of every
 * event the desk's dashboard streams.
 *
 * @since 0.1.0
 */
import { SessionEvents } from "@colony/agents"
import { Events } from "@colony/runtime"
import { Schema } from "effect"

/**
 * A case was handed to the human operators. `agent` is the escalation agent and `id` the
 * conversation, so the event shows in the conversation's activity.
 *
 * @since 0.1.0
 * @category events
 */
export class TicketOpened extends Schema.TaggedClass<TicketOpened>()("TicketOpened", {
  ...Events.envelope,
  ticketId: Schema.String,
  reason: Schema.String
}) {
  format(): string {
    return `✋ ${this.agent}/${this.id} opened ticket ${this.ticketId}: ${this.reason}`
  }
}

/**
 * Every event the desk's pages know: the runtime's, the sessions' and the desk's own.
 *
 * @since 0.1.0
 * @category events
 */
export const Event = Schema.Union(SessionEvents.Event, TicketOpened)

/**
 * @since 0.1.0
 * @category events
 */
export type Event = typeof Event.Type
