/**
 * The typed failures of an MCP tool call, which the agent hands to the model as the tool's result.
 */
import { Schema } from "effect"

/**
 * The server cannot be reached now: it could not be started or connected to, or it died and
 * reconnecting failed. `retryInMs` is how long until the next attempt.
 *
 * @since 0.1.0
 * @category errors
 */
export class McpServerUnavailable extends Schema.TaggedError<McpServerUnavailable>()("McpServerUnavailable", {
  server: Schema.String,
  reason: Schema.String,
  retryInMs: Schema.Number
}) {
  override get message() {
    const next = this.retryInMs <= 0 ? "the next call tries again" : `the next attempt is in ${Math.ceil(this.retryInMs / 1000)} s`
    return `MCP server "${this.server}" is unavailable (${this.reason}); ${next}. ` +
      `Check the server's command or URL in the agent definition.`
  }
}

/**
 * The tool ran and reported an error (an MCP result with `isError: true`).
 *
 * @since 0.1.0
 * @category errors
 */
export class McpToolFailed extends Schema.TaggedError<McpToolFailed>()("McpToolFailed", {
  server: Schema.String,
  tool: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `tool "${this.tool}" of MCP server "${this.server}" failed: ${this.reason}`
  }
}

/**
 * The call did not complete: the connection broke mid-call (the server process died, the
 * endpoint went away) or the server refused the request. A broken connection is reopened by the
 * next call.
 *
 * @since 0.1.0
 * @category errors
 */
export class McpCallFailed extends Schema.TaggedError<McpCallFailed>()("McpCallFailed", {
  server: Schema.String,
  tool: Schema.String,
  reason: Schema.String,
  reconnects: Schema.Boolean
}) {
  override get message() {
    return `the call to tool "${this.tool}" of MCP server "${this.server}" failed: ${this.reason}` +
      (this.reconnects ? "; the server is reconnected on the next call" : "")
  }
}

/**
 * The server did not answer the call within the server's timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class McpTimeout extends Schema.TaggedError<McpTimeout>()("McpTimeout", {
  server: Schema.String,
  tool: Schema.String,
  timeoutMs: Schema.Number
}) {
  override get message() {
    return `tool "${this.tool}" of MCP server "${this.server}" did not answer within ${this.timeoutMs} ms; ` +
      `raise the server's timeout in the agent definition if the tool is slow`
  }
}

/**
 * @since 0.1.0
 * @category errors
 */
export type McpError = McpServerUnavailable | McpToolFailed | McpCallFailed | McpTimeout
