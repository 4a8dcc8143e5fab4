/**
 * One MCP server's connection: opened on first use, reopened after a death, with backoff while
 * reopening fails.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { ErrorCode, McpError as ProtocolError } from "@modelcontextprotocol/sdk/types.js"
import { Clock, Effect } from "effect"
import { McpCallFailed, type McpError, McpServerUnavailable, McpTimeout, McpToolFailed } from "./errors.js"
import { connectTimeoutOf, type Server, timeoutOf } from "./server.js"
import { Arguments, type Content, type Listed, type McpTool, renderContent, toolName } from "./tools.js"

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
export class Connection {
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
