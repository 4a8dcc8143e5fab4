import { Collaboration, Session } from "@colony/agents"
import { LanguageModel } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Effect, Option, Redacted, Stream } from "effect"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import * as GatewayClient from "../src/GatewayClient.js"
import { start } from "./gatewaySupport.js"

const key = "test-key-1"
let gateway: Awaited<ReturnType<typeof start>>
let openai: OpenAI

beforeAll(async () => {
  // the support desk, with its Postgres, is tested in supportWeb.test.ts
  gateway = await start(Gateway.layerEmbedded({ settings: { port: 0, keys: [Redacted.make(key)], rateLimit: 0 }, applications: [Demo.application] }))
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 })
})
afterAll(() => gateway.close())

const client = <A, E>(transport: "http" | "websocket", f: (client: GatewayClient.Client) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(GatewayClient.make({ url: gateway.url, apiKey: key, transport }), f)))

const metric = async (line: string): Promise<number> => {
  const text = await (await fetch(`${gateway.url}/metrics`)).text()
  const found = text.split("\n").find((l) => l.startsWith(`${line} `))
  return found === undefined ? 0 : Number(found.slice(line.length + 1))
}

describe("gateway: OpenAI-compatible endpoint", () => {
  it("the openai client gets an agent's answer, plain and streamed", async () => {
    const plain = await openai.chat.completions.create({
      model: "agent:writer",
      messages: [{ role: "user", content: "Write a tagline for an espresso machine" }]
    })
    expect(plain.choices[0]?.message.content).toMatch(/^\[simulated\] /)
    expect(plain.usage?.total_tokens).toBeGreaterThan(0)

    const stream = await openai.chat.completions.create({
      model: "writer",
      messages: [{ role: "user", content: "Write a tagline for a grinder" }],
      stream: true,
      stream_options: { include_usage: true }
    })
    const deltas: Array<string> = []
    let usage = 0
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta.content
      if (content) deltas.push(content)
      if (chunk.usage) usage = chunk.usage.total_tokens
    }
    expect(deltas.length).toBeGreaterThan(1)
    // the deltas add up to the simulated model's whole answer
    expect(deltas.join("")).toMatch(/^\[simulated\] .+ \(reply \d+\)\.$/)
    expect(usage).toBeGreaterThan(0)
  })

  it("a team: model runs a collaboration preset and answers with its synthesis", async () => {
    const answer = await openai.chat.completions.create({
      model: "team:master-slave",
      messages: [{ role: "user", content: "Research the market, and draft the announcement" }]
    })
    expect(answer.choices[0]?.message.content).toContain("[simulated]")
    const streamed = await openai.chat.completions.create({
      model: "team:master-slave",
      messages: [{ role: "user", content: "Research the market, and draft the announcement" }],
      stream: true
    })
    let text = ""
    for await (const chunk of streamed) text += chunk.choices[0]?.delta.content ?? ""
    expect(text).toContain("[simulated]")
  })

  it("a conversation id keeps the agent's memory across requests", async () => {
    const ask = (content: string) =>
      openai.chat.completions.create({ model: "agent:analyst", user: "conv-7", messages: [{ role: "user", content }] })
    await ask("Estimate the budget")
    const second = await ask("And the timeline?")
    // the simulated model reports how many messages of context it saw: memory included
    expect(second.choices[0]?.message.content).toContain("It read 4 messages of context")
  })

  it("GET /v1/models lists the agents and the presets", async () => {
    const ids: Array<string> = []
    for await (const model of openai.models.list()) ids.push(model.id)
    expect(ids).toEqual(expect.arrayContaining(["agent:writer", "agent:coordinator", "team:master-slave", "team:peer", "team:hybrid"]))
  })
})

describe("gateway: refusals", () => {
  const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${key}` }) =>
    fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })

  it("no key or a bad key gets 401", async () => {
    const none = await fetch(`${gateway.url}/v1/models`)
    expect(none.status).toBe(401)
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/no credential/)
    const bad = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "not-a-key", maxRetries: 0 })
    const error = await bad.chat.completions.create({ model: "agent:writer", messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error.code).toBe("invalid_api_key")
    const rpc = await Effect.runPromise(Effect.scoped(Effect.flatMap(
      GatewayClient.make({ url: gateway.url, apiKey: "not-a-key" }),
      (c) => Effect.flip(c.ListAgents({}))
    )))
    expect(String((rpc.cause as { response?: { status?: number } }).response?.status)).toBe("401")
  })

  it("invalid JSON gets 400 saying what is wrong", async () => {
    const response = await post("{\"model\": \"agent:writer\", \"messages\": [")
    expect(response.status).toBe(400)
    const body = await response.json() as { error: { message: string; code: string } }
    expect(body.error.code).toBe("invalid_json")
    expect(body.error.message).toMatch(/not valid JSON/)
    const missing = await post(JSON.stringify({ model: "agent:writer" }))
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/messages/)
  })

  it("an unknown model gets 404 listing the models", async () => {
    const error = await openai.chat.completions.create({ model: "agent:billing", messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error.message).toMatch(/agent:billing/)
    expect(error.message).toMatch(/agent:writer/)
    expect(error.message).toMatch(/team:master-slave/)
  })

  it("an oversized body gets 413", async () => {
    const response = await post(JSON.stringify({ model: "agent:writer", messages: [{ role: "user", content: "x".repeat(1_100_000) }] }))
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("request_too_large")
  })

  it("wrong keys from one address are throttled like calls: past the limit, 429 instead of 401", async () => {
    const limited = await start(Gateway.layerEmbedded({ settings: { port: 0, keys: [Redacted.make("k")], rateLimit: 3 }, applications: [Demo.application] }))
    try {
      const guess = (n: number) => fetch(`${limited.url}/v1/models`, { headers: { authorization: `Bearer guess-${n}` } })
      for (let n = 0; n < 3; n++) expect((await guess(n)).status).toBe(401)
      const refused = await guess(3)
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded")
      // a missing key counts the same
      expect((await fetch(`${limited.url}/v1/models`)).status).toBe(429)
    } finally {
      await limited.close()
    }
  })

  it("over the rate limit gets 429 with Retry-After", async () => {
    const limited = await start(Gateway.layerEmbedded({ settings: { port: 0, keys: [Redacted.make("k")], rateLimit: 2 }, applications: [Demo.application] }))
    try {
      const list = () => fetch(`${limited.url}/v1/models`, { headers: { authorization: "Bearer k" } })
      expect((await list()).status).toBe(200)
      expect((await list()).status).toBe(200)
      const refused = await list()
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded")
    } finally {
      await limited.close()
    }
  })

  it("probes and metrics need no key", async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${gateway.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, mode: "embedded" })
  })
})

describe("gateway: typed RPC", () => {
  // Every model call takes 50 ms, so a run lasts long enough to be seen while it runs.
  let slow: Awaited<ReturnType<typeof start>>
  let fake: FakeOpenAI.Server
  beforeAll(async () => {
    fake = await FakeOpenAI.start({ latencyMs: 50 })
    slow = await start(Gateway.layerEmbedded({
      settings: { port: 0, keys: [Redacted.make(key)], rateLimit: 0 },
      languageModel: LanguageModel.layerOpenAI({ baseUrl: fake.url, apiKey: "fake" }),
      applications: [Demo.application]
    }))
  })
  afterAll(async () => {
    await slow.close()
    await fake.close()
  })
  const slowClient = <A, E>(f: (client: GatewayClient.Client) => Effect.Effect<A, E>) =>
    Effect.runPromise(Effect.scoped(Effect.flatMap(GatewayClient.make({ url: slow.url, apiKey: key, transport: "websocket" }), f)))

  it("a WebSocket client streams a collaboration's events live, then its result", async () => {
    const session = `ws-${Date.now()}`
    const { firstEventStatus, items } = await slowClient((c) =>
      Effect.gen(function*() {
        let firstEventStatus: string | undefined
        const items = yield* c.RunCollaboration({
          session,
          collaboration: "master-slave",
          task: "Research the market, draft the announcement, and estimate the budget"
        }).pipe(
          Stream.tap(() =>
            firstEventStatus === undefined
              ? Effect.map(c.SessionStatus({ session }), (s) => {
                firstEventStatus = s.state
              })
              : Effect.void
          ),
          Stream.runCollect
        )
        return { firstEventStatus, items: [...items] }
      }))
    // the first event arrived while the session was still running: streamed, not replayed at the end
    expect(firstEventStatus).toBe("running")
    const last = items[items.length - 1]
    expect(last).toBeInstanceOf(Session.Finished)
    expect((last as Session.Finished).result.contributions.length).toBeGreaterThanOrEqual(3)
    const events = items.slice(0, -1) as Array<Collaboration.Stamped>
    expect(events.map((e) => e.event._tag)).toEqual(expect.arrayContaining(["SessionStarted", "SubtaskAssigned", "SessionCompleted"]))
    expect(events.every((e) => e instanceof Collaboration.Stamped)).toBe(true)
  })

  it("over HTTP: list agents, ask, run with a Collaboration value, status, sessions", async () => {
    const result = await client("http", (c) =>
      Effect.gen(function*() {
        const agents = yield* c.ListAgents({})
        const answer = yield* c.Ask({ agent: "researcher", id: "rpc-1", prompt: "Who buys espresso machines?" })
        const pattern = Collaboration.Peer.make({
          peers: [new Collaboration.AgentRef({ agent: "writer", id: "p" }), new Collaboration.AgentRef({ agent: "analyst", id: "p" })],
          options: ["ship", "wait"]
        })
        const progress = yield* Stream.runCollect(c.RunCollaboration({ session: "http-peer", collaboration: pattern, task: "Ship now?" }))
        const status = yield* c.SessionStatus({ session: "http-peer" })
        const sessions = yield* c.ListSessions()
        const unknown = yield* Effect.flip(c.Ask({ agent: "billing", id: "x", prompt: "hi" }))
        const preset = yield* Effect.flip(Stream.runDrain(c.RunCollaboration({ session: "s", collaboration: "nope", task: "t" })))
        return { agents, answer, progress: [...progress], status, sessions, unknown, preset }
      }))
    expect(result.agents.map((a) => a.name)).toEqual(["analyst", "coordinator", "researcher", "writer"])
    expect(result.answer.agent).toBe("researcher")
    expect(result.answer.simulated).toBe(true)
    expect(result.progress[result.progress.length - 1]).toBeInstanceOf(Session.Finished)
    expect(result.status.state).toBe("completed")
    expect(result.sessions.find((s) => s.session === "http-peer")).toMatchObject({ state: "completed", pattern: "Peer" })
    expect(result.unknown._tag).toBe("UnknownAgent")
    expect(result.preset._tag).toBe("UnknownPreset")
  })

  it("a watcher joining a running session gets its events so far, then the rest and the result", async () => {
    const session = `watch-${Date.now()}`
    const [run, watched] = await slowClient((c) =>
      Effect.gen(function*() {
        const runner = yield* Effect.fork(Stream.runCollect(c.RunCollaboration({
          session,
          collaboration: "hybrid",
          task: "Decide whether to launch in spring, and draft the message"
        })))
        // join once the run has produced something
        yield* c.SessionStatus({ session }).pipe(Effect.repeat({ until: (s) => s.events > 0 }))
        const watched = yield* Stream.runCollect(c.WatchSession({ session }))
        return [[...(yield* runner.await.pipe(Effect.flatten))], [...watched]] as const
      }))
    expect(watched.length).toBe(run.length)
    expect(watched[watched.length - 1]).toBeInstanceOf(Session.Finished)
  })
})

describe("gateway: metrics", () => {
  it("/metrics counters move when requests are made", async () => {
    const requests = "colony_gateway_requests_total{route=\"/v1/chat/completions\",status=\"200\"}"
    const tokens = "colony_gateway_tokens_total{agent=\"coordinator\",kind=\"total\"}"
    const rpc = "colony_gateway_rpc_calls_total{rpc=\"ListAgents\",outcome=\"success\"}"
    const before = { requests: await metric(requests), tokens: await metric(tokens), rpc: await metric(rpc) }
    await openai.chat.completions.create({ model: "agent:coordinator", messages: [{ role: "user", content: "Plan it" }] })
    await client("http", (c) => c.ListAgents({}))
    expect(await metric(requests)).toBe(before.requests + 1)
    expect(await metric(tokens)).toBeGreaterThan(before.tokens)
    expect(await metric(rpc)).toBe(before.rpc + 1)
    const text = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(text).toMatch(/# TYPE colony_gateway_request_duration_seconds histogram/)
    expect(text).toMatch(/colony_model_calls_total\{model="default",outcome="success"\} [1-9]/)
    expect(text).toMatch(/colony_agent_mailbox_depth\{agent="coordinator"\} 0/)
    expect(Option.some(text).pipe(Option.filter((t) => t.includes("colony_model_cost_usd_total")))._tag).toBe("Some")
  })
})
