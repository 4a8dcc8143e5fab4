/**
 * Test support for `@colony/runtime`: the fake OpenAI-compatible server, and a small MCP server.
 *
 * @since 0.1.0
 */
export * as FakeOpenAI from "./FakeOpenAI.js"
export * as McpTestServer from "./mcp-server.js"
