/**
 * Errors of a colony process itself (starting, joining), as opposed to errors of a call to an
 * agent (`AgentError`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A colony process could not start: its configuration is missing or invalid, or the database is
 * out of reach.
 *
 * @since 0.1.0
 * @category errors
 */
export class StartFailed extends Schema.TaggedError<StartFailed>()("StartFailed", {
  reason: Schema.String
}) {
  override get message() {
    return `the colony process could not start: ${this.reason}`
  }
}

/**
 * A process was refused by the colony it tried to join.
 *
 * @since 0.1.0
 * @category errors
 */
export class RunnerRefused extends Schema.TaggedError<RunnerRefused>()("RunnerRefused", {
  reason: Schema.String
}) {
  override get message() {
    return `this process was refused by the colony: ${this.reason}`
  }
}
