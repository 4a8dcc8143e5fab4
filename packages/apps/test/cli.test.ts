import { Redacted } from "effect"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import * as SupportDesk from "../src/support/SupportDesk.js"
import { bin, startGateway } from "./colonyProcess.js"
import { start } from "./gatewaySupport.js"

const key = "cli-key"
let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({ settings: { port: 0, keys: [Redacted.make(key)], rateLimit: 0 }, applications: [Demo.application, SupportDesk.application()] }))
})
afterAll(() => gateway.close())

const colony = async (...args: Array<string>) => {
  try {
    const { stderr, stdout } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: "1", COLONY_GATEWAY_URL: gateway.url, COLONY_API_KEY: key },
      timeout: 30_000
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const jsonLines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>)

describe("colony CLI through the gateway", () => {
  it("agents, ask and run --pattern print JSON with --json", async () => {
    const [agents, ask, run] = await Promise.all([
      colony("agents", "--json"),
      colony("ask", "writer", "A tagline for espresso", "--id", "cli-1", "--json"),
      colony("run", "Research the market, and draft the post", "--pattern", "master-slave", "--session", "cli-run", "--json")
    ])
    expect(jsonLines(agents.stdout).filter((l) => l.kind === "agent").map((l) => l.name)).toEqual(["analyst", "coordinator", "researcher", "writer"])
    expect(jsonLines(agents.stdout).filter((l) => l.kind === "preset").map((l) => l.name)).toContain("master-slave")
    expect(jsonLines(ask.stdout)[0]).toMatchObject({ agent: "writer", id: "cli-1", simulated: true })
    const progress = jsonLines(run.stdout)
    expect(progress[0]).toMatchObject({ event: { _tag: "SessionStarted" } })
    expect(progress[progress.length - 1]).toMatchObject({ _tag: "Finished", result: { session: "cli-run" } })

    const sessions = jsonLines((await colony("sessions", "--json")).stdout)
    expect(sessions.find((s) => s.session === "cli-run")).toMatchObject({ state: "completed", pattern: "MasterSlave" })
    const watched = jsonLines((await colony("watch", "cli-run", "--json")).stdout)
    expect(watched.length).toBe(progress.length)
  })

  it("run prints a progress line per event, then the answer", async () => {
    const { stdout } = await colony("run", "Research the market, and draft the post", "--session", "cli-text")
    expect(stdout).toMatch(/\[\s*\d+ ms\] .*started MasterSlave/)
    expect(stdout).toMatch(/answer \(simulated model\):\n\[simulated\]/)
  })

  it("a refused key or an unreachable gateway is an error message and exit code 1", async () => {
    const [refused, unreachable] = await Promise.all([
      colony("agents", "--api-key", "wrong"),
      colony("agents", "--url", "http://127.0.0.1:1", "--json")
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/refused the API key \(401\)/)
    expect(unreachable.code).toBe(1)
    expect(JSON.parse(unreachable.stderr)).toMatchObject({ error: { message: expect.stringMatching(/cannot reach the gateway/) } })
  })

  it("colony gateway --embedded serves on the port it prints", async () => {
    const { url, stop } = await startGateway([], "k")
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
      const models = await fetch(`${url}/v1/models`, { headers: { authorization: "Bearer k" } })
      expect(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toContain("agent:writer")
    } finally {
      stop()
    }
  })

  it("colony gateway without keys prints its run's key, a one-use sign-in link and a chat link as the demo's customer", async () => {
    const { out, url, stop } = await startGateway([], undefined)
    try {
      const key = /admin key is (\S+)/.exec(out)![1]!
      const signIn = /sign in a browser once with (\S+)/.exec(out)![1]!
      const chat = /chat as the demo's customer \(([^)]+)\): (\S+)/.exec(out)!
      expect((await fetch(`${url}/v1/models`)).status).toBe(401)
      expect((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
      expect((await fetch(signIn, { redirect: "manual" })).status).toBe(303)
      const token = new URL(chat[2]!).hash.replace(/^#token=/, "")
      const reply = await fetch(`${url}/support/api/conversations/try-1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: "Where is my order A-10023?" })
      })
      expect(reply.status).toBe(200)
      // the demo's customer owns A-10023: the desk's tools show it
      expect(((await reply.json()) as { text: string }).text).toContain("Espresso grinder")
    } finally {
      stop()
    }
  }, 60_000)
})
