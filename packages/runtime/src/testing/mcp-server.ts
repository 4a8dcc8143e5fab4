/**
 * A small Model Context Protocol server for tests, speaking stdio: `tsx mcp-server.ts`, or
 * `Agent.make({ mcp: [McpTestServer.stdio("probe")] })`. `serveHttp` serves the same tools over
 * streamable HTTP in the calling process.
 *
 * Its tools cover what a client must survive:
 * - `echo` answers with the text it was given and the server's process id (so a test can tell a
 *   restarted server from the first one);
 * - `fail` always answers with an error result (`isError: true`);
 * - `crash` exits the process mid-call (`how: "exit"`; over HTTP it drops the connections and
 *   stops listening instead) or never answers (`how: "hang"`);
 * - `learn` adds a `greet` tool and tells the client that the tool list changed.
 *
 * With `COLONY_MCP_TEST_MARKER` set to a file path, the server starts only while that file does
 * not exist (and creates it); later starts append a line to it and exit at once, like a server
 * that cannot come back, until the file is removed.
 *
 * It is built on the SDK's low-level `Server`, with the tools' input schemas written as plain JSON
 * Schema, as any MCP server in the wild sends them.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool
} from "@modelcontextprotocol/sdk/types.js"
import { appendFileSync, existsSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { createRequire } from "node:module"
import { resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { StdioServer } from "../Mcp.js"

const here = fileURLToPath(import.meta.url)

/**
 * This server as an agent definition names it: this Node binary running this file — compiled, as
 * installed from npm, or the TypeScript source through tsx inside the repository (resolved from
 * here, so the server starts whatever the working directory).
 *
 * @since 0.1.0
 */
export const stdio = (name: string, options: Omit<StdioServer, "name" | "command" | "args"> = {}): StdioServer => ({
  ...options,
  name,
  command: process.execPath,
  args: here.endsWith(".ts")
    ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href, here]
    : [here]
})

const tools: ReadonlyArray<Tool> = [
  {
    name: "echo",
    description: "Echo the given text back, with the server's process id",
    inputSchema: {
      type: "object",
      properties: { text: { type: "string", description: "what to echo" } },
      required: ["text"],
      additionalProperties: false
    }
  },
  {
    name: "fail",
    description: "Always fails, answering an error result",
    inputSchema: { type: "object", properties: {} }
  },
  {
    name: "learn",
    description: "Learn a new tool, and announce the changed tool list",
    inputSchema: { type: "object", properties: {} }
  },
  {
    name: "crash",
    description: "Crash mid-call: exit the server process, or hang and never answer",
    inputSchema: {
      type: "object",
      properties: { how: { type: "string", enum: ["exit", "hang"] } },
      required: ["how"]
    }
  }
]

const text = (value: string, isError = false): CallToolResult => ({
  content: [{ type: "text", text: value }],
  ...(isError ? { isError: true } : {})
})

const greet: Tool = {
  name: "greet",
  description: "Greet someone by name",
  inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] }
}

const makeServer = (crash: () => void) => {
  const server = new Server({ name: "colony-test-server", version: "0.1.0" }, {
    capabilities: { tools: { listChanged: true } }
  })
  const offered = [...tools]

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: offered }))

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const args = request.params.arguments ?? {}
    switch (request.params.name) {
      case "echo":
        if (typeof args["text"] !== "string") return text("echo needs a string argument \"text\"", true)
        return text(`echo: ${args["text"]} (pid ${process.pid})`)
      case "fail":
        return text("the warehouse database is offline; try again later", true)
      case "learn":
        if (!offered.includes(greet)) offered.push(greet)
        await server.sendToolListChanged()
        return text("learned greet")
      case "greet":
        return offered.includes(greet) ? text(`hello, ${String(args["name"])}`) : text("unknown tool \"greet\"", true)
      case "crash":
        if (args["how"] === "exit") crash()
        return new Promise<never>(() => {})
      default:
        return text(`unknown tool "${request.params.name}"`, true)
    }
  })
  return server
}

/**
 * Serve the tools over streamable HTTP (stateless) on a free port of 127.0.0.1, in this process.
 *
 * @since 0.1.0
 */
export const serveHttp = async (): Promise<{ readonly url: string; readonly close: () => Promise<void> }> => {
  const http = createServer((request, response) => {
    const server = makeServer(() => {
      http.close()
      http.closeAllConnections()
    })
    // no `sessionIdGenerator`: stateless, a fresh server and transport per request
    const transport = new StreamableHTTPServerTransport({})
    response.on("close", () => {
      void transport.close()
      void server.close()
    })
    server.connect(transport)
      .then(() => transport.handleRequest(request, response))
      .catch(() => {
        if (!response.headersSent) response.writeHead(500).end()
      })
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections()
        http.close(() => resolve())
      })
  }
}

const serve = async () => {
  const marker = process.env["COLONY_MCP_TEST_MARKER"]
  if (marker !== undefined) {
    if (existsSync(marker)) {
      appendFileSync(marker, `${process.pid} refused to start\n`)
      process.exit(1)
    }
    writeFileSync(marker, `${process.pid} started\n`)
  }
  await makeServer(() => process.exit(3)).connect(new StdioServerTransport())
}

// Serves only when run as a program; importing the module (for `stdio`) starts nothing.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === here) await serve()
