/**
 * Tools from Model Context Protocol servers. An agent definition names the servers it uses
 * (`Agent.make({ mcp: [{ name: "files", command: "node", args: ["server.js"] }] })`) and their
 * tools join its tool-call loop next to its own, named `<server>__<tool>` so that two servers
 * cannot collide, with the server's JSON Schema sent to the model as is (the server validates the
 * arguments).
 *
 * Connections belong to the process: one client per server, shared by every agent instance on
 * the runner that names it. A client connects on first use, not when the layer starts, so a
 * runner only spawns the servers its resident agents use and a server that is down does not stop
 * the runner from starting. A connection that dies (the stdio process exited, the HTTP endpoint
 * went away) is reopened by the next call; when reopening fails, later attempts back off
 * exponentially and calls in between fail at once. Every failure of a call is a typed error,
 * which the agent hands to the model as the tool's result.
 *
 * @since 0.1.0
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { ErrorCode, McpError as ProtocolError } from "@modelcontextprotocol/sdk/types.js"
import { Clock, Context, Duration, Effect, Layer, Schema, type Scope } from "effect"
import { createHash } from "node:crypto"
import type { Tool } from "./LanguageModel.js"

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

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

const timeoutOf = (server: Server) => Duration.toMillis(Duration.decode(server.timeout ?? "30 seconds"))
const connectTimeoutOf = (server: Server) => Duration.toMillis(Duration.decode(server.connectTimeout ?? "30 seconds"))

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------

/**
 * An MCP tool as an agent uses it: a `LanguageModel` tool whose wire name is prefixed with the
 * server's name and whose JSON Schema is the server's own.
 *
 * @since 0.1.0
 * @category models
 */
export interface McpTool extends Tool<Arguments, Arguments, string, McpError> {
  readonly server: string
  /** the tool's name on its server */
  readonly remoteName: string
}

// Locally the arguments only need to be a JSON object: the server holds the real contract.
const Arguments = Schema.Record({ key: Schema.String, value: Schema.Unknown })
type Arguments = typeof Arguments.Type

const shortHash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 8)

/**
 * The name a server's tool goes by in the model's tool list: `<server>__<tool>`, in the
 * characters and length OpenAI-compatible endpoints accept (`[a-zA-Z0-9_-]{1,64}`); a name that
 * had to be changed or cut gets a hash of the original so that it stays unique.
 *
 * @since 0.1.0
 */
export const toolName = (server: string, tool: string): string => {
  const plain = `${server}__${tool}`
  const safe = plain.replace(/[^a-zA-Z0-9_-]/g, "_")
  if (safe === plain && safe.length <= 64) return safe
  return `${safe.slice(0, 55)}_${shortHash(plain)}`
}

interface Listed {
  readonly name: string
  readonly description?: string | undefined
  readonly title?: string | undefined
  readonly inputSchema: Record<string, unknown>
}

interface Content {
  readonly type: string
  readonly text?: string | undefined
  readonly mimeType?: string | undefined
  readonly uri?: string | undefined
  readonly resource?: { readonly uri: string; readonly text?: string | undefined } | undefined
}

// Text goes to the model as is; other content is named, since the model reads text only.
const renderContent = (content: ReadonlyArray<Content>, structured: unknown): string => {
  const parts = content.map((part) => {
    switch (part.type) {
      case "text":
        return part.text ?? ""
      case "resource":
        return part.resource?.text ?? `[resource ${part.resource?.uri ?? ""}]`
      case "resource_link":
        return `[resource ${part.uri ?? ""}]`
      default:
        return `[${part.type}${part.mimeType === undefined ? "" : ` ${part.mimeType}`}]`
    }
  })
  if (parts.length === 0 && structured !== undefined) return JSON.stringify(structured)
  return parts.length === 0 ? "(no output)" : parts.join("\n")
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

type State =
  | { readonly _tag: "Idle" }
  | { readonly _tag: "Connected"; readonly client: Client }
  | { readonly _tag: "Down"; readonly reason: string; readonly failures: number; readonly retryAt: number }

const maxBackoffMs = 30_000

/** The wait before the next attempt after `failures` failed reconnects in a row (none after a death). */
const backoffMs = (failures: number) => failures === 0 ? 0 : Math.min(maxBackoffMs, 500 * 2 ** (failures - 1))

const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error)

const transportOf = (server: Server) =>
  "command" in server
    ? new StdioClientTransport({
      command: server.command,
      ...(server.args === undefined ? {} : { args: [...server.args] }),
      ...(server.env === undefined ? {} : { env: { ...server.env } }),
      ...(server.cwd === undefined ? {} : { cwd: server.cwd })
    })
    : new StreamableHTTPClientTransport(new URL(server.url), {
      ...(server.headers === undefined ? {} : { requestInit: { headers: { ...server.headers } } })
    })

/** One server's connection: its state, the tools it listed last, and a lock so one caller (re)connects at a time. */
class Connection {
  state: State = { _tag: "Idle" }
  tools: ReadonlyArray<McpTool> | undefined = undefined
  constructor(readonly server: Server, readonly lock: Effect.Semaphore) {}

  /** The connected client, connecting first if needed (at most once at a time). */
  readonly client: Effect.Effect<Client, McpServerUnavailable> = Effect.suspend(() => {
    const state = this.state
    return state._tag === "Connected" ? Effect.succeed(state.client) : this.lock.withPermits(1)(this.connect)
  })

  private readonly connect: Effect.Effect<Client, McpServerUnavailable> = Effect.gen(this, function*() {
    const state = this.state
    if (state._tag === "Connected") return state.client
    const now = yield* Clock.currentTimeMillis
    if (state._tag === "Down" && now < state.retryAt) {
      return yield* new McpServerUnavailable({ server: this.server.name, reason: state.reason, retryInMs: state.retryAt - now })
    }
    const timeoutMs = connectTimeoutOf(this.server)
    const opened = yield* Effect.tryPromise({
      try: (signal) => this.open(signal, timeoutMs),
      catch: describeError
    }).pipe(Effect.either)
    if (opened._tag === "Left") {
      const failures = state._tag === "Down" ? state.failures + 1 : 1
      const at = yield* Clock.currentTimeMillis
      this.state = { _tag: "Down", reason: opened.left, failures, retryAt: at + backoffMs(failures) }
      return yield* new McpServerUnavailable({ server: this.server.name, reason: opened.left, retryInMs: backoffMs(failures) })
    }
    const { client, listed } = opened.right
    this.state = { _tag: "Connected", client }
    this.tools = listed.map((tool) => this.toTool(tool))
    return client
  })

  private async open(signal: AbortSignal, timeoutMs: number) {
    const client: Client = new Client({ name: "colony", version: "0.1.0" }, {
      listChanged: {
        tools: {
          // A server that changes its tools, and says so, is listed again; agents see the new
          // list from their next question on.
          onChanged: (error, tools) => {
            if (error === null && tools !== null && this.state._tag === "Connected" && this.state.client === client) {
              this.tools = tools.map((tool) => this.toTool(tool))
            }
          }
        }
      }
    })
    // Set before connecting so that no death goes unseen; it only takes effect once this client
    // is the connected one, and then a dead server is reconnected by the next call at once.
    client.onclose = () => this.lost(client, "the connection closed")
    try {
      await client.connect(transportOf(this.server), { timeout: timeoutMs, signal })
      const listed: Array<Listed> = []
      let cursor: string | undefined = undefined
      do {
        const page: Awaited<ReturnType<Client["listTools"]>> = await client.listTools(
          cursor === undefined ? {} : { cursor },
          { timeout: timeoutMs, signal }
        )
        listed.push(...page.tools)
        cursor = page.nextCursor
      } while (cursor !== undefined)
      return { client, listed }
    } catch (error) {
      await client.close().catch(() => {})
      throw error
    }
  }

  /** Marks `client` as gone, unless a newer connection already replaced it. */
  lost(client: Client, reason: string) {
    if (this.state._tag === "Connected" && this.state.client === client) {
      this.state = { _tag: "Down", reason, failures: 0, retryAt: 0 }
    }
  }

  private toTool(listed: Listed): McpTool {
    const name = toolName(this.server.name, listed.name)
    return {
      name,
      description: listed.description ?? listed.title ?? `${listed.name} (MCP server ${this.server.name})`,
      parameters: Arguments,
      jsonSchema: listed.inputSchema,
      server: this.server.name,
      remoteName: listed.name,
      handler: (args) => this.call(name, listed.name, args)
    }
  }

  call(tool: string, remoteName: string, args: Arguments): Effect.Effect<string, McpError> {
    return Effect.gen(this, function*() {
      const client = yield* this.client
      const timeoutMs = timeoutOf(this.server)
      const result = yield* Effect.tryPromise({
        try: (signal) => client.callTool({ name: remoteName, arguments: args }, undefined, { signal, timeout: timeoutMs }),
        catch: (error): McpError => {
          if (error instanceof ProtocolError && error.code === ErrorCode.RequestTimeout) {
            return new McpTimeout({ server: this.server.name, tool, timeoutMs })
          }
          // A JSON-RPC error from the server (unknown tool, bad arguments) leaves the connection
          // usable; anything else (closed, network failure) means it is gone.
          const broken = !(error instanceof ProtocolError) || error.code === ErrorCode.ConnectionClosed
          if (broken) {
            this.lost(client, describeError(error))
            void client.close().catch(() => {})
          }
          return new McpCallFailed({ server: this.server.name, tool, reason: describeError(error), reconnects: broken })
        }
      })
      const content = (result.content ?? []) as ReadonlyArray<Content>
      const output = renderContent(content, result.structuredContent)
      if (result.isError === true) return yield* new McpToolFailed({ server: this.server.name, tool, reason: output })
      return output
    })
  }

  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    const state = this.state
    this.state = { _tag: "Idle" }
    return state._tag === "Connected" ? Effect.promise(() => state.client.close().catch(() => {})) : Effect.void
  })
}

// ---------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------

/**
 * The process's MCP connections.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * The server's tools, as agents use them. The list is the one the server gave when it last
   * connected, so it is at hand while the server is down; only the first listing needs the
   * server, and fails with `McpServerUnavailable` when it cannot be reached.
   */
  readonly tools: (server: Server) => Effect.Effect<ReadonlyArray<McpTool>, McpServerUnavailable>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Mcp extends Context.Tag("@colony/runtime/Mcp")<Mcp, Service>() {}

// Two definitions naming the same server the same way share its connection.
const canonical = (value: unknown): unknown =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]))
    : value
const keyOf = (server: Server) => JSON.stringify(canonical(server))

/**
 * A fresh set of connections, closed (stdio servers stopped) when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, Scope.Scope> = Effect.gen(function*() {
  const connections = new Map<string, Connection>()
  yield* Effect.addFinalizer(() =>
    Effect.forEach(connections.values(), (connection) => connection.close, { concurrency: "unbounded", discard: true })
  )
  const connectionOf = (server: Server) =>
    Effect.suspend(() => {
      const key = keyOf(server)
      const existing = connections.get(key)
      if (existing !== undefined) return Effect.succeed(existing)
      return Effect.map(Effect.makeSemaphore(1), (lock) => {
        const made = connections.get(key) ?? new Connection(server, lock)
        connections.set(key, made)
        return made
      })
    })
  return {
    tools: (server) =>
      Effect.flatMap(connectionOf(server), (connection) =>
        connection.tools !== undefined
          ? Effect.succeed(connection.tools)
          : Effect.map(connection.client, () => connection.tools ?? []))
  }
})

/**
 * The process's MCP connections for the life of the layer. Agents that name MCP servers provide
 * it themselves when the program does not (see `Agent.toLayer`); one instance serves every agent
 * type in the layer, since Effect builds a layer value once per program.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Mcp> = Layer.scoped(Mcp, make)
