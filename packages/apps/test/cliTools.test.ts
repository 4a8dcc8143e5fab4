import { Agent, LanguageModel } from "@colony/runtime"
import { McpTestServer } from "@colony/runtime/testing"
import { Effect, Redacted, Schema } from "effect"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Gateway from "../src/Gateway.js"
import { start } from "./gatewaySupport.js"

const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))

const weigh = LanguageModel.tool({
  name: "weigh_parcel",
  description: "Weigh a parcel by its tracking number",
  parameters: Schema.Struct({ tracking: Schema.String }),
  handler: () => Effect.succeed("2.4 kg")
})

const Clerk = Agent.make({ name: "clerk", mcp: [McpTestServer.stdio("probe")] })

let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({
    agents: [Clerk],
    hosted: Agent.toLayer(Clerk, {}, { tools: [weigh] }),
    settings: { port: 0, keys: [Redacted.make("tools-key")], rateLimit: 0 }
  }))
})
afterAll(() => gateway.close())

const colony = async (...args: Array<string>) => {
  const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args], {
    env: { ...process.env, NO_COLOR: "1", COLONY_GATEWAY_URL: gateway.url, COLONY_API_KEY: "tools-key" },
    timeout: 30_000
  })
  return stdout
}

describe("colony agents --tools", () => {
  it("lists each agent's own tools and its MCP servers' tools, with their descriptions", async () => {
    const text = await colony("agents", "--tools")
    expect(text).toContain("weigh_parcel: Weigh a parcel by its tracking number")
    expect(text).toMatch(/probe__echo \[MCP probe\]: \S/)

    const [clerk] = (await colony("agents", "--tools", "--json")).trim().split("\n").map((l) => JSON.parse(l))
    expect(clerk.name).toBe("clerk")
    expect(clerk.tools.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["weigh_parcel", "probe__echo"]))
    expect(clerk.tools.find((t: { name: string }) => t.name === "weigh_parcel")).toMatchObject({ source: "local", available: true })

    // without the flag the gateway does not ask the agents
    const plain = (await colony("agents", "--json")).trim().split("\n").map((l) => JSON.parse(l))
    expect(plain[0].tools).toEqual([])
  })
})
