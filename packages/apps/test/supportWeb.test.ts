/**
 * The support desk on the gateway, as a customer and an operator use it: the JSON API over HTTP,
 * and the chat page and dashboard in headless Chromium (Debian's `chromium`, driven by
 * playwright-core), on an embedded gateway that hosts the desk with its own Postgres.
 */
import { Redacted, Schema } from "effect"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import * as SupportDesk from "../src/support/SupportDesk.js"
import * as Auth from "../src/gateway/Auth.js"
import * as Desk from "../src/support/Desk.js"
import * as DeskEvents from "../src/support/DeskEvents.js"
import * as SupportWeb from "../src/support/web/SupportWeb.js"
import { start } from "./gatewaySupport.js"

const CHROMIUM = "/usr/bin/chromium"
const screenshots = fileURLToPath(new URL("./screenshots/", import.meta.url))
const key = "support-web-key"

let gateway: Awaited<ReturnType<typeof start>>
let browser: BrowserContext
let profile: string

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the support pages are tested in it. ` +
        `Install it with "apt-get update && apt-get install -y chromium" (Debian), as .ci/run does.`
    )
  }
  gateway = await start(Gateway.layerEmbedded({ settings: { port: 0, keys: [Redacted.make(key)], rateLimit: 0 }, applications: [Demo.application, SupportDesk.application()] }))
  mkdirSync(screenshots, { recursive: true })
  profile = mkdtempSync(join(tmpdir(), "colony-chromium-"))
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ],
    viewport: { width: 1440, height: 900 }
  })
  // the operator signs the browser in once: the key goes in a header, the browser keeps a cookie
  const signedIn = await browser.request.post(`${gateway.url}/auth/session`, {
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    data: {}
  })
  expect(signedIn.status()).toBe(200)
}, 120_000)

/** A customer token, minted by the operator for the customer's e-mail address. */
const tokenFor = async (customer: string) => {
  const response = await fetch(`${gateway.url}/auth/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ subject: customer, ttlSeconds: 600 })
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { token: string }).token
}

/** The full id of a customer's conversation, as operators see it. */
const fullId = (customer: string, conversation: string) =>
  Auth.namespaced(new Auth.Caller({ subject: `customer:${customer}`, scope: "client", customer }), conversation)

const ana = "ana.ribeiro@example.com"
const jonas = "jonas.weber@example.com"

let closed = false
afterAll(async () => {
  await browser?.close()
  if (!closed) await gateway?.close()
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
})

const api = (path: string, init: { readonly method?: string; readonly body?: string; readonly headers?: Record<string, string> } = {}) =>
  fetch(`${gateway.url}/support/api${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body })
  })

const post = (path: string, body: unknown) => api(path, { method: "POST", body: JSON.stringify(body) })

/** A response's body, read with the schema the API promises. */
const read = async <A, I>(schema: Schema.Schema<A, I>, response: Response | Promise<Response>): Promise<A> =>
  Schema.decodeUnknownSync(schema)(await (await response).json())

const Failure = Schema.Struct({ error: Schema.Struct({ message: Schema.String, code: Schema.String }) })
const Tickets = Schema.Struct({ tickets: Schema.Array(Desk.Ticket) })

/** Read SSE frames from a response until `enough` says stop. */
const readEvents = async (response: Response, enough: (events: ReadonlyArray<{ id: number; event: DeskEvents.Event }>) => boolean) => {
  const decode = Schema.decodeUnknownSync(DeskEvents.Event)
  const reader = response.body!.getReader()
  const events: Array<{ id: number; event: DeskEvents.Event }> = []
  let buffer = ""
  while (!enough(events)) {
    const { done, value } = await reader.read()
    if (done) break
    buffer += new TextDecoder().decode(value)
    let end: number
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const id = /^id: (\d+)$/m.exec(frame)
      const data = /^data: (.*)$/m.exec(frame)
      if (id && data) events.push({ id: Number(id[1]), event: decode(JSON.parse(data[1]!)) })
    }
  }
  await reader.cancel()
  return events
}

describe("support API", () => {
  it("a message gets the desk's reply, and the conversation its transcript", async () => {
    const sent = await post("/conversations/api-1/messages", { text: "Where is my order A-10023?" })
    expect(sent.status).toBe(200)
    const reply = await read(Desk.Reply, sent)
    expect(reply).toMatchObject({ conversationId: "api-1", simulated: true, intents: expect.arrayContaining(["orders"]) })
    expect(reply.handledBy).toEqual(expect.arrayContaining(["triage/api-1"]))

    const conversation = await read(SupportWeb.Conversation, api("/conversations/api-1"))
    expect(conversation.turns.map((t) => t.role)).toEqual(["customer", "agent"])
    expect(conversation.turns[1]?.text).toBe(reply.text)
    expect(conversation.ticket).toBeNull()
  })

  it("bad bodies and ids get 400, unknown conversations and tickets 404, and no key 401", async () => {
    const cases = [
      [await api("/conversations/api-2/messages", { method: "POST", body: "{\"text\": " }), 400, "invalid_json"],
      [await post("/conversations/api-2/messages", { txt: "hello" }), 400, "invalid_request"],
      [await post("/conversations/api-2/messages", { text: "   " }), 400, "invalid_request"],
      [await post("/conversations/not.valid/messages", { text: "hello" }), 400, "invalid_conversation_id"],
      [await post("/escalations/T-1/reply", {}), 400, "invalid_request"],
      [await api("/conversations/never-used"), 404, "conversation_not_found"],
      [await post("/escalations/T-424242/reply", { text: "hello" }), 404, "ticket_not_found"],
      [await api("/escalations", { headers: { authorization: "" } }), 401, "invalid_api_key"]
    ] as const
    for (const [response, status, code] of cases) {
      const body = await read(Failure, response)
      expect({ status: response.status, code: body.error.code }).toEqual({ status, code })
      expect(body.error.message.length).toBeGreaterThan(10)
    }
    const missing = await read(Failure, post("/conversations/api-2/messages", { txt: "hello" }))
    expect(missing.error.message).toMatch(/"text": is missing/)
  })

  it("the events stream sends a conversation's events, live, and resumes after the last id it sent", async () => {
    const stream = await api("/conversations/api-3/events")
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/)
    const reading = readEvents(stream, (events) => events.some((e) => e.event._tag === "MessageHandled" && e.event.agent === "desk"))
    await post("/conversations/api-3/messages", { text: "Where is my order A-10024?" })
    const live = await reading
    expect(live.every(({ event }) => event.id === "api-3" || event.id.startsWith("api-3."))).toBe(true)
    expect(live.map((e) => `${e.event._tag} ${e.event.agent}`)).toEqual(
      expect.arrayContaining(["MessageReceived desk", "MessageReceived triage", "ModelCalled triage"])
    )

    // a client that saw up to the triage's message misses nothing after it
    const cut = live.find((e) => e.event._tag === "MessageReceived" && e.event.agent === "triage")!.id
    const resumed = await readEvents(
      await api("/conversations/api-3/events", { headers: { "last-event-id": String(cut) } }),
      (events) => events.length >= live.filter((e) => e.id > cut).length
    )
    expect(resumed.map((e) => e.id)).toEqual(live.filter((e) => e.id > cut).map((e) => e.id))
  })

  it("stats count each agent type's messages and tokens, and the conversation's agents", async () => {
    const stats = await read(SupportWeb.Stats, api("/stats?conversation=api-1"))
    const triage = stats.agents.find((a) => a.agent === "triage")!
    expect(triage.handled).toBeGreaterThan(0)
    expect(triage.tokens).toBeGreaterThan(0)
    expect(stats.total.tokens).toBeGreaterThanOrEqual(triage.tokens)
    expect(stats.conversation?.agents.map((a) => a.agent)).toEqual(expect.arrayContaining(["desk/api-1", "triage/api-1"]))
  })
})

describe("support API: each customer sees only their own", () => {
  const as = (token: string, path: string, init: { readonly method?: string; readonly body?: unknown } = {}) =>
    fetch(`${gateway.url}/support/api${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
    })

  it("another customer can neither read, follow nor write into a conversation, and customers cannot reach staff routes", async () => {
    const [anaToken, jonasToken] = await Promise.all([tokenFor(ana), tokenFor(jonas)])
    const sent = await as(anaToken, "/conversations/private-1/messages", { method: "POST", body: { text: "Where is my order A-10023?" } })
    expect(sent.status).toBe(200)
    const reply = await read(Desk.Reply, sent)
    // Ana's own order: the tool answered with it
    expect(reply.text).toMatch(/A-10023/)
    expect((await as(anaToken, "/conversations/private-1")).status).toBe(200)

    expect((await as(jonasToken, "/conversations/private-1")).status).toBe(404)
    const events = await as(jonasToken, "/conversations/private-1/events")
    const seen = await readEvents(events, (e) => e.length > 0 || true)
    expect(seen).toEqual([])
    // Jonas's message under the same name is his own conversation
    const his = await read(Desk.Reply, as(jonasToken, "/conversations/private-1/messages", { method: "POST", body: { text: "What is your return policy?" } }))
    expect(his.conversationId).not.toBe(reply.conversationId)
    const transcript = await read(SupportWeb.Conversation, as(anaToken, "/conversations/private-1"))
    expect(transcript.turns).toHaveLength(2)

    for (const path of ["/escalations", "/conversations", "/stats"]) {
      const refused = await as(anaToken, path)
      expect(refused.status, path).toBe(403)
    }
  })

  it("a customer asking about another customer's order gets none of its details", async () => {
    const token = await tokenFor(ana)
    const reply = await read(Desk.Reply, as(token, "/conversations/nosy-1/messages", { method: "POST", body: { text: "Where is my order A-10024?" } }))
    // A-10024 is Jonas Weber's, shipped to Berlin with DPD
    expect(reply.text).not.toMatch(/Lindenstrasse|Berlin|01905 5521 7789|Jonas/)
  })
})

describe("support desk over A2A", () => {
  const a2a = (body: unknown) =>
    fetch(`${gateway.url}/a2a/support-desk`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    }).then((r) => r.json() as Promise<any>)
  const send = (id: number, contextId: string, text: string) =>
    a2a({
      jsonrpc: "2.0",
      id,
      method: "message/send",
      params: { message: { kind: "message", messageId: `m-${id}`, role: "user", contextId, parts: [{ kind: "text", text }] } }
    })

  it("another framework's agent talks to the desk as a customer: the context is the conversation", async () => {
    const card = await (await fetch(`${gateway.url}/a2a/support-desk/.well-known/agent-card.json`, {
      headers: { authorization: `Bearer ${key}` }
    })).json() as any
    expect(card).toMatchObject({ name: "support-desk", skills: [{ id: "support-desk" }] })

    const first = await send(1, "a2a-conv-1", "Where is my order A-10023?")
    expect(first.result).toMatchObject({ kind: "task", contextId: "a2a-conv-1", status: { state: "completed" } })
    const answer = first.result.artifacts[0].parts[0].text as string
    expect(answer).toContain("[simulated]")
    // the same conversation the chat and the dashboard see
    const conversation = await read(SupportWeb.Conversation, api("/conversations/a2a-conv-1"))
    expect(conversation.turns.map((t) => t.text)).toEqual(["Where is my order A-10023?", answer])

    const handedOver = await send(2, "a2a-conv-1", "Can I speak to a real person, please? A human operator.")
    expect(handedOver.result.status.state).toBe("completed")
    expect(handedOver.result.artifacts[0].parts[0].text).toMatch(/handed to a person: ticket T-\d+/)
  })
})

describe("support pages in Chromium", () => {
  // a script error on a page fails the test that opened it
  const scriptErrors: Array<string> = []
  afterEach(() => {
    expect(scriptErrors).toEqual([])
  })

  /** The chat page as a customer (a token in the URL's fragment), or the dashboard as the signed-in operator. */
  const open = async (path: string, conversation: string, customer?: string): Promise<Page> => {
    const page = await browser.newPage()
    page.on("pageerror", (error) => scriptErrors.push(`${path}: ${error.message}`))
    const fragment = customer === undefined ? "" : `#token=${await tokenFor(customer)}`
    await page.goto(`${gateway.url}${path}?conversation=${conversation}${fragment}`)
    return page
  }

  const say = async (chat: Page, text: string) => {
    const answers = await chat.locator(".turn[data-role=agent]").count()
    await chat.fill("#message", text)
    await chat.click("#send")
    await chat.locator(".turn[data-role=agent]").nth(answers).waitFor()
  }

  it("the chat page sends a message and shows the answer with its route, pattern and the simulated label", async () => {
    const chat = await open("/support/", "web-1", ana)
    await say(chat, "Where is my order A-10023, and how do I change the delivery address?")
    const answer = chat.locator(".turn[data-role=agent]").last()
    expect(await answer.locator(".bubble").textContent()).toMatch(/^\[simulated\]/)
    const badges = await answer.locator("[data-testid=reply-badges]").textContent()
    expect(badges).toContain("route: orders")
    expect(badges).toMatch(/pattern: (single|master-slave|peer-review|hybrid)/)
    expect(badges).toContain("simulated")
    expect(await chat.locator(".turn[data-role=customer] .bubble").textContent()).toContain("A-10023")
    await chat.screenshot({ path: join(screenshots, "support-chat.png") })
    await chat.close()
  })

  it("the dashboard's graph draws the conversation's agents and messages as they happen", async () => {
    const id = fullId(jonas, "web-2")
    const dashboard = await open("/support/dashboard", id)
    await dashboard.locator("#live.on").waitFor()
    expect(await dashboard.locator("#graph .node").count()).toBe(0)

    const chat = await open("/support/", "web-2", jonas)
    await say(chat, "Where is my order A-10024?")
    await dashboard.locator(`#graph .node[data-address='desk/${id}']`).waitFor()
    await dashboard.locator(`#graph .edge[data-from='customer'][data-to='desk/${id}']`).waitFor()
    await dashboard.locator(`#graph .node[data-address='triage/${id}']`).waitFor()
    expect(await dashboard.locator(`#graph .edge[data-from='desk/${id}'][data-to='triage/${id}']`).count()).toBe(1)
    // the transcript beside the graph follows the conversation too
    await dashboard.locator("#transcript .turn[data-role=agent]").waitFor()
    await chat.close()
    await dashboard.close()
  })

  it("an operator answers an escalation from the dashboard: the ticket leaves the queue and the answer reaches the chat", async () => {
    const chat = await open("/support/", "web-3", ana)
    await say(chat, "Can I speak to a real person, please? A human operator.")
    const notice = await chat.locator(".notice").textContent()
    const ticket = /ticket (T-[\w-]+)/.exec(notice ?? "")?.[1]
    expect(ticket, `the chat says the case went to a person: ${notice}`).toBeDefined()

    const dashboard = await open("/support/dashboard", fullId(ana, "web-3"))
    const card = dashboard.locator(`.ticket[data-ticket='${ticket}']`)
    await card.waitFor()
    await dashboard.locator(`#graph .node[data-address='escalation/${fullId(ana, "web-3")}']`).waitFor()
    await dashboard.screenshot({ path: join(screenshots, "support-escalation.png") })
    const answer = "A colleague here: I have checked your case and will call you today."
    await card.locator("textarea").fill(answer)
    await card.locator("button[type=submit]").click()
    await card.waitFor({ state: "detached" })

    const queue = await read(Tickets, api("/escalations"))
    expect(queue.tickets.map((t) => t.id)).not.toContain(ticket)
    // the chat follows the conversation's events and shows the person's answer without a reload
    await chat.locator(".turn[data-role=human] .bubble", { hasText: answer }).waitFor()
    await dashboard.locator("#transcript .turn[data-role=human]").waitFor()
    await dashboard.locator("#graph .node[data-address='operator']").waitFor()
    await chat.close()
    await dashboard.screenshot({ path: join(screenshots, "support-dashboard.png") })
    await dashboard.close()
  })
})

describe("support gateway shutdown", () => {
  it("a gateway stops while a dashboard follows a conversation: the event stream ends instead of holding it open", async () => {
    const stream = await api("/conversations/api-1/events")
    const reader = stream.body!.getReader()
    await reader.read()
    closed = true
    await gateway.close()
    let done = false
    while (!done) done = (await reader.read()).done
    expect(done).toBe(true)
  })
})
