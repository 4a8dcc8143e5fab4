/**
 * How an agent definition names an MCP server: a child process over stdio, or an endpoint over
 * streamable HTTP, and its timeouts.
 */
import { Duration } from "effect"

/**
 * An MCP server started as a child process, spoken to over its stdin and stdout.
 *
 * @since 0.1.0
 * @category models
 */
export interface StdioServer {
  /** prefixes the server's tools (`<name>__<tool>`): letters, digits, "_" and "-" */
  readonly name: string
  readonly command: string
  readonly args?: ReadonlyArray<string> | undefined
  /** added to the child's environment, which otherwise has only the SDK's safe defaults (PATH, HOME, …) */
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly cwd?: string | undefined
  /** how long one tool call may take; default 30 seconds */
  readonly timeout?: Duration.DurationInput | undefined
  /** how long starting the server and its handshake (with the tool listing) may take; default 30 seconds */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/**
 * An MCP server reached over streamable HTTP.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpServer {
  /** prefixes the server's tools (`<name>__<tool>`): letters, digits, "_" and "-" */
  readonly name: string
  readonly url: string
  /** sent with every request, e.g. `Authorization` */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** how long one tool call may take; default 30 seconds */
  readonly timeout?: Duration.DurationInput | undefined
  /** how long the handshake (with the tool listing) may take; default 30 seconds */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type Server = StdioServer | HttpServer

const SERVER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,31}$/

/**
 * Why a server configuration cannot be used, or `undefined` when it can.
 *
 * @since 0.1.0
 */
export const invalidServer = (server: Server): string | undefined => {
  if (!SERVER_NAME.test(server.name)) {
    return `invalid MCP server name "${server.name}": use up to 32 letters, digits, "_" and "-", starting with a letter or digit`
  }
  const hasCommand = "command" in server && typeof server.command === "string"
  const hasUrl = "url" in server && typeof server.url === "string"
  if (hasCommand === hasUrl) {
    return `MCP server "${server.name}" needs exactly one of "command" (stdio) or "url" (streamable HTTP)`
  }
  if (hasCommand && (server as StdioServer).command.trim() === "") {
    return `MCP server "${server.name}" has an empty command`
  }
  if (hasUrl) {
    const url = URL.canParse((server as HttpServer).url) ? new URL((server as HttpServer).url) : undefined
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return `MCP server "${server.name}" has the URL "${(server as HttpServer).url}"; give an http:// or https:// URL`
    }
  }
  return undefined
}

export const timeoutOf = (server: Server) => Duration.toMillis(Duration.decode(server.timeout ?? "30 seconds"))
export const connectTimeoutOf = (server: Server) => Duration.toMillis(Duration.decode(server.connectTimeout ?? "30 seconds"))
