import { type Message, type Part, Role, type StreamResponse, type Task, TaskState } from "@a2a-js/sdk"
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory
} from "@a2a-js/sdk/client"
import { Agent, Colony, LanguageModel, ModelRegistry } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import { ServerCallContext } from "@a2a-js/sdk/server"
import { BoundedTaskStore, GatewayUser } from "../src/gateway/A2A.js"
import * as Auth from "../src/gateway/Auth.js"
import * as A2ATool from "../src/interop/A2ATool.js"
import { start } from "./gatewaySupport.js"

// a whole answer of the simulated model, which says nothing of the request
const simulatedAnswer = /^\[simulated\] .+ \(reply \d+\)\.$/

const key = "a2a-key"
const otherKey = "other-a2a-key"

// On the open gateway: `broken`, whose model is not in its colony's registry (every answer fails,
// as a model outage would), and `slow`, whose model is the fake OpenAI server.
const Broken = Agent.make({ name: "broken", model: "no-such-model" })
const Slow = Agent.make({ name: "slow" })

/** The demo team behind a key; an open gateway serving `broken` and `slow`. */
let gateway: Awaited<ReturnType<typeof start>>
let other: Awaited<ReturnType<typeof start>>
let fake: FakeOpenAI.Server

beforeAll(async () => {
  fake = await FakeOpenAI.start()
  ;[gateway, other] = await Promise.all([
    // the support desk, with its Postgres, is tested in supportWeb.test.ts
    start(Gateway.layerEmbedded({ settings: { port: 0, keys: [Redacted.make(key)], rateLimit: 0 }, applications: [Demo.application] })),
    start(Gateway.layerEmbedded({
      agents: [Broken, Slow],
      hosted: Layer.mergeAll(Agent.toLayer(Broken), Agent.toLayer(Slow)),
      languageModel: LanguageModel.layerRegistry(
        ModelRegistry.make({ default: { provider: "openai", baseUrl: fake.url, apiKey: "fake", maxRetries: 0 } })
      ),
      settings: { port: 0, keys: [Redacted.make(otherKey)], rateLimit: 0 }
    }))
  ])
})
afterAll(async () => {
  await Promise.all([gateway.close(), other.close()])
  await fake.close()
})

/** `fetch` with the gateway's API key, for the card and the calls alike. */
const withKey: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers)
  headers.set("authorization", `Bearer ${key}`)
  return fetch(input, { ...init, headers })
}

const json = (response: Response): Promise<any> => response.json()

/** A client of the second gateway's agent `name`. */
const otherClientFor = (name: string): Promise<Client> => {
  const fetchImpl: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers)
    headers.set("authorization", `Bearer ${otherKey}`)
    return fetch(input, { ...init, headers })
  }
  return new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl })
  })).createFromUrl(`${other.url}/a2a/${name}/.well-known/agent-card.json`, "")
}

const clientFor = (name: string): Promise<Client> =>
  new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl: withKey })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl: withKey })
  })).createFromUrl(`${gateway.url}/a2a/${name}/.well-known/agent-card.json`, "")

const userMessage = (text: string, contextId = ""): Message => ({
  messageId: randomUUID(),
  contextId,
  taskId: "",
  role: Role.ROLE_USER,
  parts: [{ content: { $case: "text", value: text }, metadata: undefined, filename: "", mediaType: "text/plain" }],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: []
})

const send = (text: string, contextId = "") => ({
  tenant: "",
  message: userMessage(text, contextId),
  configuration: undefined,
  metadata: undefined
})

const textOf = (parts: ReadonlyArray<Part> | undefined) =>
  (parts ?? []).map((part) => part.content?.$case === "text" ? part.content.value : "").join("")

describe("gateway: A2A server", () => {
  it("publishes an agent card per agent and per preset, declaring the bearer key", async () => {
    const index: { agents: Array<{ name: string; card: string }> } = await json(await withKey(`${gateway.url}/a2a`))
    expect(index.agents.map((a) => a.name)).toEqual(
      expect.arrayContaining(["coordinator", "researcher", "writer", "analyst", "master-slave", "peer", "hybrid"])
    )
    const writer = index.agents.find((a) => a.name === "writer")!
    const card = await json(await withKey(writer.card, { headers: { "a2a-version": "1.0" } }))
    expect(card).toMatchObject({
      name: "writer",
      capabilities: { streaming: true },
      supportedInterfaces: [{ url: `${gateway.url}/a2a/writer`, protocolBinding: "JSONRPC", protocolVersion: "1.0" }, {
        protocolVersion: "0.3"
      }],
      securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: "Bearer" } } }
    })
    expect(card.skills[0].description.length).toBeGreaterThan(0)
    // a client naming no version (as v0.3 clients do) gets the v0.3 card
    expect(await json(await withKey(writer.card))).toMatchObject({
      protocolVersion: "0.3.0",
      name: "writer",
      url: `${gateway.url}/a2a/writer`,
      preferredTransport: "JSONRPC",
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      security: [{ bearer: [] }]
    })

    const team = await json(await withKey(`${gateway.url}/a2a/master-slave/.well-known/agent-card.json`))
    expect(team.name).toBe("team:master-slave")
    expect(team.skills[0].description).toMatch(/MasterSlave collaboration of the colony agents coordinator, researcher/)

    // the root card is the first served agent's, and like every route it wants the key
    expect((await json(await withKey(`${gateway.url}/.well-known/agent-card.json`))).name).toBe("coordinator")
    // cards are public, and say that the endpoint wants a key
    const open = await fetch(`${gateway.url}/a2a/writer/.well-known/agent-card.json`)
    expect(open.status).toBe(200)
    expect(await open.json()).toMatchObject({ security: [{ bearer: [] }], securitySchemes: { bearer: { scheme: "bearer" } } })
    const endpoint = await fetch(`${gateway.url}/a2a/writer`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
    expect(endpoint.status).toBe(401)
  })

  it("the SDK client sends a message to an agent and reads the task back", async () => {
    const client = await clientFor("writer")
    const result = await client.sendMessage(send("Write a tagline for an espresso machine"))
    if (!("status" in result)) throw new Error(`expected a task, got a message: ${JSON.stringify(result)}`)
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(textOf(result.artifacts[0]?.parts)).toMatch(simulatedAnswer)

    const task = await client.getTask({ tenant: "", id: result.id })
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(textOf(task.status?.message?.parts)).toBe(textOf(result.artifacts[0]?.parts))
    expect(textOf(task.history[0]?.parts)).toBe("Write a tagline for an espresso machine")
  })

  it("streams a task: submitted, working, the answer as an artifact, completed", async () => {
    const client = await clientFor("analyst")
    const events: Array<StreamResponse> = []
    for await (const event of client.sendMessageStream(send("Estimate the budget"))) events.push(event)
    const kinds = events.map((e) => e.payload?.$case === "statusUpdate" ? `status:${TaskState[e.payload.value.status!.state]}` : e.payload?.$case)
    expect(kinds).toEqual(["task", "status:TASK_STATE_WORKING", "artifactUpdate", "status:TASK_STATE_COMPLETED"])
    const artifact = events.find((e) => e.payload?.$case === "artifactUpdate")?.payload
    expect(artifact?.$case === "artifactUpdate" && textOf(artifact.value.artifact?.parts)).toMatch(simulatedAnswer)
  })

  it("a context id keeps the agent's memory across messages", async () => {
    const client = await clientFor("researcher")
    const contextId = `a2a-${randomUUID()}`
    await client.sendMessage(send("Find the market size", contextId))
    const second = await client.sendMessage(send("And the growth rate?", contextId))
    if (!("status" in second)) throw new Error("expected a task")
    expect(second.contextId).toBe(contextId)
    // the simulated model reports how many messages of context it saw: memory included
    expect(textOf(second.status?.message?.parts)).toContain("It read 4 messages of context")
    // ListTasks finds the conversation's two tasks, the latest first
    const listed = await client.listTasks({
      tenant: "",
      contextId,
      status: TaskState.TASK_STATE_UNSPECIFIED,
      pageToken: "",
      statusTimestampAfter: undefined
    })
    expect(listed.tasks.map((t) => t.id)).toEqual([second.id, expect.any(String)])
  })

  it("a preset runs a collaboration, its progress streamed as working updates", async () => {
    const client = await clientFor("master-slave")
    const events: Array<StreamResponse> = []
    for await (const event of client.sendMessageStream(send("Research the market, and draft the announcement"))) {
      events.push(event)
    }
    const working = events.filter((e) =>
      e.payload?.$case === "statusUpdate" && e.payload.value.status?.state === TaskState.TASK_STATE_WORKING &&
      e.payload.value.status.message !== undefined
    )
    expect(working.length).toBeGreaterThan(0)
    const last = events[events.length - 1]?.payload
    expect(last?.$case === "statusUpdate" && last.value.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(last?.$case === "statusUpdate" && textOf(last.value.status?.message?.parts)).toContain("[simulated]")
  })

  it("a v0.3 client (the SDK's compat layer, reading the v0.3 card) is served too", async () => {
    // v0.3 clients send no A2A-Version header; the SDK's resolver announces 1.0, so drop it
    const asV03: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers)
      headers.delete("a2a-version")
      return withKey(input, { ...init, headers })
    }
    const legacyCompat = { enabled: true }
    const client = await new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl: asV03, legacyCompat })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl: asV03, legacyCompat })
    })).createFromUrl(`${gateway.url}/a2a/writer/.well-known/agent-card.json`, "")
    expect(client.protocolVersion).toBe("0.3")
    const result = await client.sendMessage(send("Write a tagline for a kettle"))
    if (!("status" in result)) throw new Error("expected a task")
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    expect(textOf(result.artifacts[0]?.parts)).toMatch(simulatedAnswer)
    const events: Array<string | undefined> = []
    for await (const event of client.sendMessageStream(send("Write a tagline for a toaster"))) events.push(event.payload?.$case)
    expect(events).toEqual(["task", "statusUpdate", "artifactUpdate", "statusUpdate"])
  })

  it("an unknown agent is a clear JSON-RPC error; curl's v0.3 message/send is served", async () => {
    const rpc = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      withKey(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })
    const unknown = await rpc("/a2a/nobody", { jsonrpc: "2.0", id: 1, method: "SendMessage", params: {} }, { "a2a-version": "1.0" })
    expect(unknown.status).toBe(404)
    const body = await json(unknown)
    expect(body.error.message).toMatch(/no A2A agent "nobody" on this gateway; it serves \/a2a\/coordinator/)

    await expect(clientFor("nobody")).rejects.toThrow(/404/)

    const legacy = await rpc("/a2a/writer", {
      jsonrpc: "2.0",
      id: 2,
      method: "message/send",
      params: { message: { kind: "message", messageId: "m-1", role: "user", parts: [{ kind: "text", text: "Write a haiku" }] } }
    })
    const reply = await json(legacy)
    expect(reply.result).toMatchObject({ kind: "task", status: { state: "completed" } })
    expect(reply.result.artifacts[0].parts[0].text).toMatch(simulatedAnswer)

    expect((await json(await rpc("/a2a/writer", "not a request object"))).error.code).toBe(-32600)
    const notJson = await withKey(`${gateway.url}/a2a/writer`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" })
    expect((await json(notJson)).error).toMatchObject({ code: -32700, message: expect.stringMatching(/^the request body is not valid JSON/) })
  })
})

describe("gateway: A2A failures", () => {
  it("a failing agent ends its task failed with the reason, and the gateway keeps serving", async () => {
    const client = await otherClientFor("broken")
    const result = await client.sendMessage(send("Anything"))
    if (!("status" in result)) throw new Error("expected a task")
    expect(result.status?.state).toBe(TaskState.TASK_STATE_FAILED)
    expect(textOf(result.status?.message?.parts)).toMatch(/^UnknownModel: .*no-such-model/)

    const events: Array<StreamResponse> = []
    for await (const event of client.sendMessageStream(send("Anything else"))) events.push(event)
    const last = events[events.length - 1]?.payload
    expect(last?.$case === "statusUpdate" && last.value.status?.state).toBe(TaskState.TASK_STATE_FAILED)
    expect((await fetch(`${other.url}/healthz`)).status).toBe(200)
  })

  it("CancelTask stops a running task, which ends canceled", async () => {
    fake.inject("hang")
    const client = await otherClientFor("slow")
    const states: Array<string> = []
    let canceled: Task | undefined
    for await (const event of client.sendMessageStream(send("Take your time"))) {
      if (event.payload?.$case !== "statusUpdate") continue
      const { status, taskId } = event.payload.value
      states.push(TaskState[status!.state]!)
      if (status!.state === TaskState.TASK_STATE_WORKING) {
        await fake.waitForRequests(1) // the model call is under way, and hangs
        canceled = await client.cancelTask({ tenant: "", id: taskId, metadata: undefined })
      }
    }
    expect(states).toEqual(["TASK_STATE_WORKING", "TASK_STATE_CANCELED"])
    expect(canceled?.status?.state).toBe(TaskState.TASK_STATE_CANCELED)
    expect((await client.getTask({ tenant: "", id: canceled!.id })).status?.state).toBe(TaskState.TASK_STATE_CANCELED)
    // canceling a canceled task again answers with it, unchanged
    await expect(client.cancelTask({ tenant: "", id: canceled!.id, metadata: undefined })).resolves.toMatchObject({
      status: { state: TaskState.TASK_STATE_CANCELED }
    })
  })
})

describe("A2ATool: a colony agent calls a remote A2A agent", () => {
  const Scout = Agent.make({ name: "scout", instructions: "You find things out, asking other agents." })

  it("the remote agent's reply is the tool's result; a remote failure is a tool error the model sees", async () => {
    const colony = ManagedRuntime.make(
      Layer.unwrapEffect(Effect.gen(function*() {
        const writer = yield* A2ATool.make({
          card: `${gateway.url}/a2a/writer/.well-known/agent-card.json`,
          headers: { authorization: `Bearer ${key}` }
        })
        const broken = yield* A2ATool.make({
          card: `${other.url}/a2a/broken/.well-known/agent-card.json`,
          headers: { authorization: `Bearer ${otherKey}` }
        })
        expect(writer.name).toBe("writer")
        expect(writer.description).toContain("Ask the remote agent \"writer\"")
        return Agent.toLayer(Scout, {}, { tools: [writer, broken] })
      })).pipe(Layer.provideMerge(Colony.layerEmbedded()))
    )
    try {
      // the simulated model calls the tool whose name shares most words with the request
      const answer = await colony.runPromise(Colony.ask("scout", "s-1", "Ask the writer for a tagline for a grinder"))
      expect(answer.tools).toHaveLength(1)
      expect(answer.tools[0]).toMatchObject({ name: "writer", ok: true })
      expect(JSON.parse(answer.tools[0]!.arguments)).toEqual({ message: "Ask the writer for a tagline for a grinder" })
      // the remote gateway's agent answered, and its reply reached the model
      expect(answer.tools[0]!.output).toMatch(/^\[simulated\] /)
      expect(answer.text).toContain(`The writer tool returned: ${answer.tools[0]!.output}`)
      expect(answer.text).not.toContain("tagline")

      const failed = await colony.runPromise(Colony.ask("scout", "s-2", "Is the broken agent broken?"))
      expect(failed.tools[0]).toMatchObject({ name: "broken", ok: false })
      expect(failed.tools[0]!.output).toMatch(/^error: A2ACallFailed: the A2A agent "broken" did not answer: its task .* failed: UnknownModel/)
      expect(failed.text).toContain("The broken tool failed: A2ACallFailed: ")

      const missing = await Effect.runPromise(Effect.flip(A2ATool.make({ card: `${gateway.url}/a2a/nobody/.well-known/agent-card.json` })))
      expect(missing).toBeInstanceOf(A2ATool.RemoteAgentUnavailable)
      expect(missing.message).toMatch(/cannot use the A2A agent at .*nobody.*: .*404/)
    } finally {
      await colony.dispose()
    }
  })
})

describe("BoundedTaskStore", () => {
  const task = (id: string, contextId: string, state: TaskState, at: number): Task => ({
    id,
    contextId,
    status: { state, message: undefined, timestamp: new Date(at).toISOString() },
    artifacts: [],
    history: [],
    metadata: undefined
  })
  const as = (subject: string, scope: Auth.Scope = "client") =>
    new ServerCallContext({ user: new GatewayUser(new Auth.Caller({ subject, scope, customer: null })) })
  const mine = as("key:a")
  const list = (
    store: BoundedTaskStore,
    params: { contextId?: string; status?: TaskState; pageSize?: number; pageToken?: string },
    context = mine
  ) =>
    store.list({
      tenant: "",
      contextId: params.contextId ?? "",
      status: params.status ?? TaskState.TASK_STATE_UNSPECIFIED,
      pageSize: params.pageSize,
      pageToken: params.pageToken ?? "",
      statusTimestampAfter: undefined
    }, context)

  it("keeps the most recently updated tasks, and lists them newest first, a page at a time", async () => {
    const store = new BoundedTaskStore(3)
    await store.save(task("a", "c1", TaskState.TASK_STATE_WORKING, 1), mine)
    await store.save(task("b", "c1", TaskState.TASK_STATE_COMPLETED, 2), mine)
    await store.save(task("c", "c2", TaskState.TASK_STATE_COMPLETED, 3), mine)
    await store.save(task("a", "c1", TaskState.TASK_STATE_COMPLETED, 4), mine) // updated: now the newest
    await store.save(task("d", "c2", TaskState.TASK_STATE_FAILED, 5), mine) // evicts b, the least recently updated
    expect(await store.load("b", mine)).toBeUndefined()
    expect((await store.load("a", mine))?.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)

    const first = await list(store, { pageSize: 2 })
    expect(first.tasks.map((t) => t.id)).toEqual(["d", "a"])
    expect(first.totalSize).toBe(3)
    const second = await list(store, { pageSize: 2, pageToken: first.nextPageToken })
    expect(second.tasks.map((t) => t.id)).toEqual(["c"])
    expect(second.nextPageToken).toBe("")
    expect((await list(store, { contextId: "c2", status: TaskState.TASK_STATE_COMPLETED })).tasks.map((t) => t.id)).toEqual(["c"])
  })

  it("a task is its creator's: another client neither loads, lists nor overwrites it; staff see it", async () => {
    const store = new BoundedTaskStore(10)
    await store.save(task("t", "c1", TaskState.TASK_STATE_WORKING, 1), mine)
    const theirs = as("key:b")
    expect(await store.load("t", theirs)).toBeUndefined()
    expect((await list(store, {}, theirs)).tasks).toEqual([])
    await expect(store.save(task("t", "c1", TaskState.TASK_STATE_COMPLETED, 2), theirs)).rejects.toThrow()
    expect((await store.load("t", mine))?.status?.state).toBe(TaskState.TASK_STATE_WORKING)
    expect((await store.load("t", as("key:op", "operator")))?.id).toBe("t")
  })
})
