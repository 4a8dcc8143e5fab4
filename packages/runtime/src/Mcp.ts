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
export {
  McpCallFailed,
  type McpError,
  McpServerUnavailable,
  McpTimeout,
  McpToolFailed
} from "./internal/mcp/errors.js"
export { type HttpServer, invalidServer, type Server, type StdioServer } from "./internal/mcp/server.js"
export { layer, Mcp, make, type Service } from "./internal/mcp/service.js"
export { type McpTool, toolName } from "./internal/mcp/tools.js"
