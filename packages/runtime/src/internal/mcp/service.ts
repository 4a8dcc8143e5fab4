/**
 * The process's MCP connections: one per server, shared by every agent that names it.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { Connection } from "./connection.js"
import type { McpServerUnavailable } from "./errors.js"
import type { Server } from "./server.js"
import type { McpTool } from "./tools.js"

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
