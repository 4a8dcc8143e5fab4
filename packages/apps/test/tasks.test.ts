import { type Message, Role, type Task, TaskState } from "@a2a-js/sdk"
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from "@a2a-js/sdk/client"
import { LanguageModel, ModelRegistry } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Gateway from "../src/Gateway.js"
import * as Tasks from "../src/tasks/Tasks.js"
import { start } from "./gatewaySupport.js"

const key = "tasks-key"
const settings = { port: 0, keys: [Redacted.make(key)], rateLimit: 0 }

// The simulated model answers every call: no model endpoint is configured.
let simulated: Awaited<ReturnType<typeof start>>
// The task service without its agents, as a gateway in front of runners that do not host them.
let unhosted: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  ;[simulated, unhosted] = await Promise.all([
    start(Gateway.layerEmbedded({ settings, applications: [Tasks.application] })),
    start(Gateway.layerEmbedded({ settings, applications: [{ ...Tasks.application, hosted: Layer.empty }] }))
  ])
})
afterAll(() => Promise.all([simulated.close(), unhosted.close()]))

const post = (url: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${key}` }) =>
  fetch(`${url}/tasks/process_task`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

const offsite = "Plan a team offsite: pick a city, draft the agenda, and estimate the budget"

describe("tasks: POST /tasks/process_task (simulated model)", () => {
  it("decomposes the task, gives the parts to the task's workers round-robin and synthesises, labelled simulated", async () => {
    const response = await post(simulated.url, { task: offsite, workers: 2 })
    expect(response.status).toBe(200)
    const result: any = await response.json()
    expect(result.simulated).toBe(true)
    expect(result.complete).toBe(true)
    expect(result.id).toMatch(/^task-/)
    // the simulated coordinator writes no list: the task's own clauses are the plan
    expect(result.plan.strategy).toBe("planned (no usable plan; clauses)")
    expect(result.plan.subtasks.length).toBe(3)
    expect(result.parts.map((p: any) => p.subtask)).toEqual(result.plan.subtasks)
    expect(result.parts.map((p: any) => p.worker)).toEqual([
      `task-worker/${result.id}-w1`,
      `task-worker/${result.id}-w2`,
      `task-worker/${result.id}-w1`
    ])
    for (const part of result.parts) expect(part.text).toMatch(/^\[simulated\] /)
    expect(result.answer).toMatch(/^\[simulated\] /)
    expect(result.missing).toEqual([])
    expect(result.totalTokens).toBeGreaterThan(0)
  })

  it("each task has instances of its own", async () => {
    const [a, b]: any[] = await Promise.all([
      post(simulated.url, { task: offsite }).then((r) => r.json()),
      post(simulated.url, { task: offsite }).then((r) => r.json())
    ])
    expect(a.id).not.toBe(b.id)
    expect(a.parts.map((p: any) => p.worker)).toEqual([1, 2, 3].map((n) => `task-worker/${a.id}-w${n}`))
  })

  it("refuses what is not a task with a 400 in the gateway's error shape, saying what to send", async () => {
    const cases: ReadonlyArray<[unknown, RegExp, string]> = [
      [{}, /"task"/, "invalid_request"],
      [{ task: "   " }, /the task is empty/, "invalid_request"],
      [{ task: "x".repeat(8001) }, /limit is 8000/, "invalid_request"],
      [{ task: offsite, workers: 9 }, /"workers" is a whole number from 1 to 5/, "invalid_request"],
      [{ task: offsite, workers: 1.5 }, /"workers"/, "invalid_request"],
      ["{not json", /not valid JSON/, "invalid_json"]
    ]
    for (const [body, message, code] of cases) {
      const response = await post(simulated.url, body)
      expect(response.status).toBe(400)
      const payload: any = await response.json()
      expect(payload).toMatchObject({ error: { type: "invalid_request_error", code, param: null } })
      expect(payload.error.message).toMatch(message)
      if (code === "invalid_request") expect(payload.error.message).toContain(`Send {"task": `)
    }
  })

  it("needs a key: 401 without one, in the gateway's error shape", async () => {
    const response = await post(simulated.url, { task: offsite }, {})
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error: { type: expect.any(String), message: expect.any(String) } })
  })

  it("a colony that does not host the service's agents answers 503, naming what to host", async () => {
    const response = await post(unhosted.url, { task: offsite })
    expect(response.status).toBe(503)
    const payload: any = await response.json()
    expect(payload.error.code).toBe("task_service_unavailable")
    expect(payload.error.message).toContain(`no agent type "task-coordinator"`)
  })
})

const withKey: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers)
  headers.set("authorization", `Bearer ${key}`)
  return fetch(input, { ...init, headers })
}

const userMessage = (text: string): Message => ({
  messageId: randomUUID(),
  contextId: "",
  taskId: "",
  role: Role.ROLE_USER,
  parts: [{ content: { $case: "text", value: text }, metadata: undefined, filename: "", mediaType: "text/plain" }],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: []
})

describe("tasks: the A2A agent task-service (simulated model)", () => {
  it("has a card of its own, listed with the gateway's A2A agents", async () => {
    const index: any = await (await withKey(`${simulated.url}/a2a`)).json()
    const listed = index.agents.find((a: any) => a.name === "task-service")
    expect(listed).toBeDefined()
    const card: any = await (await withKey(listed.card, { headers: { "a2a-version": "1.0" } })).json()
    expect(card).toMatchObject({
      name: "task-service",
      supportedInterfaces: [{ url: `${simulated.url}/a2a/task-service`, protocolBinding: "JSONRPC" }, {}],
      securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: "Bearer" } } }
    })
    expect(card.skills[0].tags).toEqual(expect.arrayContaining(["application", "tasks", "master-slave"]))
    expect(card.skills[0].description).toContain("splits it into independent parts")
  })

  const sendTask = async (text: string) => {
    const client = await new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl: withKey })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl: withKey })
    })).createFromUrl(`${simulated.url}/a2a/task-service/.well-known/agent-card.json`, "")
    return (await client.sendMessage({ tenant: "", message: userMessage(text), configuration: undefined, metadata: undefined })) as Task
  }

  it("processes a message as a task: the answer with its parts, labelled simulated", async () => {
    const task = await sendTask(offsite)
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
    const text = task.artifacts.flatMap((a) => a.parts).map((p) => p.content?.$case === "text" ? p.content.value : "").join("")
    expect(text).toMatch(/^\[simulated\] /)
    expect(text).toContain("parts (planned (no usable plan; clauses)):")
    expect(text.split("\n").filter((l) => /^- .* \(task-worker\/task-.*-w\d\)$/.test(l)).length).toBe(3)
    expect(text).toContain("(simulated model: no model endpoint configured)")
  })

  it("a message that is not a task ends failed, saying why", async () => {
    const task = await sendTask("x".repeat(8001))
    expect(task.status?.state).toBe(TaskState.TASK_STATE_FAILED)
    const reason = (task.status?.message?.parts ?? []).map((p) => p.content?.$case === "text" ? p.content.value : "").join("")
    expect(reason).toMatch(/^InvalidTask: not a task: the task has 8001 characters; the limit is 8000/)
  })
})

// --- a real model's replies, scripted by the fake OpenAI server, through the openai client ---

const lastUser = (body: FakeOpenAI.ChatBody): string => {
  const content = [...(body.messages ?? [])].reverse().find((m) => m.role === "user")?.content
  return typeof content === "string" ? content : JSON.stringify(content ?? "")
}

// Replies by what is asked, not by arrival order: the workers call the model concurrently.
const replies = (body: FakeOpenAI.ChatBody): FakeOpenAI.Reply | undefined => {
  const asked = lastUser(body)
  if (asked.startsWith("Split this task")) return "1. Choose the city\n2. Write the agenda"
  if (asked.startsWith("Task: ")) return "Lisbon, with a two-day agenda of talks and a walk."
  if (asked === "Choose the city") return "Lisbon."
  if (asked === "Write the agenda") return "Day 1 talks, day 2 a walk."
  return undefined
}

describe("tasks: the coordinator's plan from a real model (the fake OpenAI server)", () => {
  let fake: FakeOpenAI.Server
  let gateway: Awaited<ReturnType<typeof start>>
  beforeAll(async () => {
    fake = await FakeOpenAI.start({ respond: replies })
    gateway = await start(Gateway.layerEmbedded({
      settings,
      applications: [Tasks.application],
      languageModel: LanguageModel.layerRegistry(
        ModelRegistry.make({ default: { provider: "openai", baseUrl: fake.url, apiKey: "fake", maxRetries: 0 } })
      )
    }))
  })
  afterAll(async () => {
    await gateway.close()
    await fake.close()
  })

  it("splits the task by the coordinator's list, one part per worker, and answers with its synthesis", async () => {
    const response = await post(gateway.url, { task: offsite, workers: 2 })
    expect(response.status).toBe(200)
    const result: any = await response.json()
    expect(result.simulated).toBe(false)
    expect(result.plan).toEqual({ strategy: "planned", subtasks: ["Choose the city", "Write the agenda"] })
    expect(result.parts).toEqual([
      { subtask: "Choose the city", worker: `task-worker/${result.id}-w1`, text: "Lisbon." },
      { subtask: "Write the agenda", worker: `task-worker/${result.id}-w2`, text: "Day 1 talks, day 2 a walk." }
    ])
    expect(result.answer).toBe("Lisbon, with a two-day agenda of talks and a walk.")
    // the plan, two parts and the synthesis: four model calls, the synthesis given both parts
    const asked = fake.requests().map((r) => lastUser(r.body))
    expect(asked.length).toBe(4)
    const synthesis = asked.find((a) => a.startsWith("Task: "))!
    expect(synthesis).toContain("Lisbon.")
    expect(synthesis).toContain("Day 1 talks, day 2 a walk.")
  })
})
