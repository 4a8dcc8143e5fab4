/**
 * The envelope every event shares, whatever package defines it, and what can be done with any event.
 */
import { Clock, type Effect, Schema } from "effect"

/**
 * The fields every event carries: its source (an agent type and instance, or another entity such
 * as a collaboration session) and when it happened. Spread them into an event's fields.
 *
 * @since 0.1.0
 * @category envelope
 */
export const envelope = {
  /** agent type (or the type of the entity that published the event) */
  agent: Schema.String,
  /** agent instance (entity id) */
  id: Schema.String,
  /** wall-clock time in epoch milliseconds, from the Effect `Clock` */
  at: Schema.Number
}

/**
 * Any event, read as its envelope: what a consumer can rely on for an event it does not know.
 * Encoding an event with it keeps the tag and envelope and leaves the other fields out.
 *
 * @since 0.1.0
 * @category envelope
 */
export const Envelope = Schema.Struct({ _tag: Schema.String, ...envelope })

/**
 * What the bus carries: an event of any package, with its envelope and a line for a progress
 * display. Narrow it with `Schema.is` of the event class (or of a union of the events you know).
 *
 * @since 0.1.0
 * @category envelope
 */
export interface Event {
  readonly _tag: string
  readonly agent: string
  readonly id: string
  readonly at: number
  /** one line for a progress display */
  format(): string
}

/**
 * The current time in epoch milliseconds from the Effect `Clock` (so tests can drive it).
 *
 * @since 0.1.0
 */
export const now: Effect.Effect<number> = Clock.currentTimeMillis

/**
 * One line for a progress display, for an event of any package.
 *
 * @since 0.1.0
 */
export const format = (event: Event): string => event.format()

/**
 * Shorten a text to one line for an event summary.
 *
 * @since 0.1.0
 */
export const summarize = (text: string, max = 80): string => {
  const line = text.replace(/\s+/g, " ").trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
