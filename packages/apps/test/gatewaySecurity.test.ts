/**
 * The gateway as an attacker meets it: path tricks, credentials with too little scope, one
 * customer reaching for another's sessions, conversations and tasks, browsers of other sites,
 * keys in URLs, and limits that a single request could otherwise break.
 */
import { Collaboration } from "@colony/agents"
import { Effect, Redacted, Stream } from "effect"
import * as fc from "fast-check"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import * as GatewayClient from "../src/GatewayClient.js"
import { start } from "./gatewaySupport.js"

const admin = "admin-key-0123456789"
const operator = "operator-key-0123456789"
const clientA = "client-a-key-0123456789"
const clientB = "client-b-key-0123456789"

let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({
    // the demo team is hosted; the gateway serves only the writer and the analyst
    agents: [Demo.Writer, Demo.Analyst],
    hosted: Demo.TeamLive,
    settings: {
      port: 0,
      rateLimit: 0,
      keys: [admin, `operator:${operator}`, `client:${clientA}`, `client:${clientB}`].map((k) => Redacted.make(k))
    }
  }))
})
afterAll(() => gateway.close())

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
const json = { "content-type": "application/json" }

const rpc = <A, E>(key: string, f: (client: GatewayClient.Client) => Effect.Effect<A, E>, transport: "http" | "websocket" = "http") =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(GatewayClient.make({ url: gateway.url, apiKey: key, transport }), f)))

const a2aSend = (path: string, headers: Record<string, string>, method = "message/send", params: unknown = {
  message: { kind: "message", messageId: crypto.randomUUID(), role: "user", parts: [{ kind: "text", text: "hello" }] }
}) =>
  fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { ...json, ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params })
  })

describe("gateway security: who may call a route is decided after routing", () => {
  it("an A2A endpoint is not reachable without a key through a path that looks like a card", async () => {
    for (
      const path of [
        "/a2a/writer;/.well-known/agent-card.json",
        "/a2a/writer;.well-known/agent-card.json",
        "/a2a/writer/.well-known/agent-card.json",
        "/a2a/writer%3B/.well-known/agent-card.json",
        "/a2a/writer?x=/.well-known/agent-card.json",
        "/a2a/writer#/.well-known/agent-card.json",
        "//a2a/writer;/.well-known/agent-card.json"
      ]
    ) {
      const response = await a2aSend(path, {})
      expect([401, 404], path).toContain(response.status)
      const listed = await a2aSend(path, {}, "tasks/list", {})
      expect([401, 404], path).toContain(listed.status)
    }
    // the card itself stays public, as the protocol expects
    expect((await fetch(`${gateway.url}/a2a/writer/.well-known/agent-card.json`)).status).toBe(200)
  })

  it("property: without a credential, nothing but the public routes answers other than 401, 403 or 404", async () => {
    const publicRoutes = new Set(["/healthz", "/readyz", "/metrics", "/openapi.json", "/.well-known/agent-card.json", "/auth/login"])
    // signing out only clears the caller's own cookie: it needs no credential
    const isPublic = (method: string, path: string) =>
      (method === "DELETE" && path === "/auth/session") ||
      (method === "GET" && (publicRoutes.has(path) || /^\/a2a\/[^/]+\/\.well-known\/agent-card\.json$/.test(path)))
    const segment = fc.oneof(
      fc.constantFrom(
        "a2a", "writer", "analyst", "researcher", "rpc", "ws", "v1", "chat", "completions", "models", "support", "api",
        "conversations", "escalations", "stats", "auth", "tokens", "tickets", "session", "login", "openapi.json",
        ".well-known", "agent-card.json", "..", "."
      ),
      fc.constantFrom(";", "%2F", "%2f", "%3B", "%00", "%2e%2e", "__proto__", "constructor", ";/.well-known/agent-card.json"),
      fc.string({ minLength: 0, maxLength: 6 }).map(encodeURIComponent)
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
        fc.constantFrom("", "?access_token=" + admin, "?ticket=v1.x.y", "#x", "?x=;"),
        fc.constantFrom<Record<string, string>>(
          {},
          { authorization: "Bearer " },
          { authorization: "Basic YWRtaW46YWRtaW4=" },
          { authorization: `Bearer ${admin}x` },
          { cookie: "colony_session=v1.e30.AAAA" },
          { "x-colony-caller": "v1.e30.AAAA" }
        ),
        async (segments, method, suffix, headers) => {
          const path = `/${segments.join("/")}`
          const response = await fetch(`${gateway.url}${path}${suffix}`, {
            method,
            headers: { ...json, ...headers },
            ...(method === "GET" ? {} : { body: "{}" })
          })
          // the router reads `//openapi.json/` as `/openapi.json`: repeated and trailing slashes do not
          // make a public route another one
          const normalized = new URL(`${gateway.url}${path}`).pathname.replace(/\/{2,}/g, "/").replace(/\/+$/, "") || "/"
          if (!isPublic(method, normalized)) {
            expect([401, 403, 404, 405], `${method} ${path}${suffix}`).toContain(response.status)
          }
          if (response.status >= 400) {
            const body = await response.json() as { error: unknown }
            expect(body.error, `${method} ${path}${suffix}`).toBeDefined()
          }
        }
      ),
      { numRuns: 300, ...(process.env["GATEWAY_PROPERTY_SEED"] === undefined ? {} : { seed: Number(process.env["GATEWAY_PROPERTY_SEED"]) }) }
    )
  })
})

describe("gateway security: names that are properties of every object", () => {
  it("an agent, preset or model named like an Object.prototype key, or with a % in it, is a 404, not a crash", async () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "team:__proto__", "team:constructor", "100%", "%E0%A4%A"]) {
      const card = await fetch(`${gateway.url}/a2a/${encodeURIComponent(name)}/.well-known/agent-card.json`)
      expect(card.status, name).toBe(404)
      expect(((await card.json()) as { error: { code: string } }).error.code, name).toBe("agent_not_found")
      const send = await a2aSend(`/a2a/${encodeURIComponent(name)}`, bearer(admin))
      expect(send.status, name).toBe(404)
      expect(((await send.json()) as { error: { message: string } }).error.message, name).toContain("no A2A agent")
      const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...json, ...bearer(admin) },
        body: JSON.stringify({ model: name, messages: [{ role: "user", content: "hi" }] })
      })
      expect(chat.status, name).toBe(404)
      expect(((await chat.json()) as { error: { code: string } }).error.code).toBe("model_not_found")
      const preset = await rpc(admin, (c) => Effect.flip(Stream.runDrain(c.RunCollaboration({ session: "p", collaboration: name, task: "t" }))))
      expect(preset._tag, name).toBe("UnknownPreset")
    }
  })
})

describe("gateway security: scopes", () => {
  it("a client key may not mint customer tokens; an operator key may", async () => {
    const asClient = await fetch(`${gateway.url}/auth/tokens`, {
      method: "POST",
      headers: { ...json, ...bearer(clientA) },
      body: JSON.stringify({ subject: "ana.ribeiro@example.com" })
    })
    expect(asClient.status).toBe(403)
    expect(((await asClient.json()) as { error: { code: string } }).error.code).toBe("insufficient_scope")
    const asOperator = await fetch(`${gateway.url}/auth/tokens`, {
      method: "POST",
      headers: { ...json, ...bearer(operator) },
      body: JSON.stringify({ subject: "ana.ribeiro@example.com", ttlSeconds: 60 })
    })
    expect(asOperator.status).toBe(201)
    const { token } = await asOperator.json() as { token: string }
    // the token is a client credential of its own
    const models = await fetch(`${gateway.url}/v1/models`, { headers: bearer(token) })
    expect(models.status).toBe(200)
    const again = await fetch(`${gateway.url}/auth/tokens`, {
      method: "POST",
      headers: { ...json, ...bearer(token) },
      body: JSON.stringify({ subject: "someone.else@example.com" })
    })
    expect(again.status).toBe(403)
  })

  it("a tampered or expired token is refused", async () => {
    const minted = await (await fetch(`${gateway.url}/auth/tokens`, {
      method: "POST",
      headers: { ...json, ...bearer(operator) },
      body: JSON.stringify({ subject: "ana.ribeiro@example.com", ttlSeconds: 60 })
    })).json() as { token: string }
    const [, body, mac] = minted.token.split(".")
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString("utf8"))
    const forged = `v1.${Buffer.from(JSON.stringify({ ...claims, scope: "admin" })).toString("base64url")}.${mac}`
    expect((await fetch(`${gateway.url}/v1/models`, { headers: bearer(forged) })).status).toBe(401)
  })

  it("the typed RPC reaches only the agents the gateway serves", async () => {
    const refused = await rpc(admin, (c) => Effect.flip(c.Ask({ agent: "researcher", id: "x", prompt: "hi" })))
    expect(refused._tag).toBe("UnknownAgent")
    expect(refused.message).not.toMatch(/researcher.*coordinator|coordinator.*researcher/)
    const collaboration = Collaboration.Peer.make({
      peers: [new Collaboration.AgentRef({ agent: "writer", id: "p" }), new Collaboration.AgentRef({ agent: "coordinator", id: "p" })],
      options: ["ship", "wait"]
    })
    const run = await rpc(admin, (c) => Effect.flip(Stream.runDrain(c.RunCollaboration({ session: "s-unserved", collaboration, task: "Ship?" }))))
    expect(run._tag).toBe("UnknownAgent")
    const served = await rpc(clientA, (c) => c.Ask({ agent: "writer", id: "x", prompt: "Write a tagline" }))
    expect(served.agent).toBe("writer")
  })

  it("a caller-supplied collaboration over the bounds is refused with the bound it broke", async () => {
    const huge = Collaboration.Peer.make({
      peers: [new Collaboration.AgentRef({ agent: "writer", id: "p" }), new Collaboration.AgentRef({ agent: "analyst", id: "p" })],
      options: ["ship", "wait"],
      rounds: 5000
    })
    const refused = await rpc(clientA, (c) => Effect.flip(Stream.runDrain(c.RunCollaboration({ session: "huge", collaboration: huge, task: "Ship?" }))))
    expect(refused._tag).toBe("CollaborationTooLarge")
    expect(refused.message).toMatch(/round/)
  })
})

describe("gateway security: each caller sees only its own", () => {
  it("sessions: another client cannot watch, cancel, inspect or list them; an operator can", async () => {
    const pattern = Collaboration.Peer.make({
      peers: [new Collaboration.AgentRef({ agent: "writer", id: "p" }), new Collaboration.AgentRef({ agent: "analyst", id: "p" })],
      options: ["ship", "wait"]
    })
    await rpc(clientA, (c) => Stream.runDrain(c.RunCollaboration({ session: "private-run", collaboration: pattern, task: "Launch the secret plan?" })))
    const a = await rpc(clientA, (c) => Effect.all({ status: c.SessionStatus({ session: "private-run" }), sessions: c.ListSessions() }))
    expect(a.status.state).toBe("completed")
    expect(a.sessions.map((s) => s.session)).toContain("private-run")

    const b = await rpc(clientB, (c) =>
      Effect.all({
        status: c.SessionStatus({ session: "private-run" }),
        sessions: c.ListSessions(),
        cancelled: c.CancelSession({ session: "private-run" }),
        watched: Stream.runCollect(c.WatchSession({ session: "private-run" })).pipe(Effect.timeout("3 seconds"), Effect.either)
      }))
    expect(b.status.state).not.toBe("completed")
    expect(b.sessions.map((s) => s.task)).not.toContain("Launch the secret plan?")
    expect(b.cancelled).toBe(false)
    const watched = b.watched._tag === "Right" ? [...b.watched.right] : []
    expect(JSON.stringify(watched)).not.toContain("secret plan")

    const staff = await rpc(operator, (c) => c.ListSessions())
    expect(staff.map((s) => s.task)).toContain("Launch the secret plan?")
  })

  it("an OpenAI `user` is the caller's own: a second caller with the same `user` starts afresh", async () => {
    const as = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 })
    const ask = (key: string, content: string) =>
      as(key).chat.completions.create({ model: "agent:analyst", user: "shared-name", messages: [{ role: "user", content }] })
    const context = (reply: OpenAI.ChatCompletion) => /It read (\d+) messages? of context/.exec(reply.choices[0]?.message.content ?? "")?.[1]
    const first = await ask(clientA, "My budget is 4711 euros")
    const mine = await ask(clientA, "And the timeline?")
    expect(Number(context(mine))).toBeGreaterThan(Number(context(first)))
    const theirs = await ask(clientB, "What budget did I give you?")
    // a fresh conversation: the other caller's turns are not in its context
    expect(context(theirs)).toBe(context(first))
    expect(theirs.choices[0]?.message.content).not.toContain("4711")
  })

  it("A2A tasks: another client cannot get, list or cancel them", async () => {
    const created = await (await a2aSend("/a2a/writer", bearer(clientA))).json() as { result: { id: string; contextId: string } }
    const taskId = created.result.id
    expect(taskId).toBeTruthy()
    const mine = await (await a2aSend("/a2a/writer", bearer(clientA), "tasks/get", { id: taskId })).json() as { result?: { id: string } }
    expect(mine.result?.id).toBe(taskId)
    const theirs = await (await a2aSend("/a2a/writer", bearer(clientB), "tasks/get", { id: taskId })).json() as { error?: { code: number } }
    expect(theirs.error?.code).toBe(-32001) // TaskNotFound
    const listed = await (await a2aSend("/a2a/writer", { ...bearer(clientB), "a2a-version": "1.0" }, "ListTasks", {})).json() as {
      result?: { tasks: Array<{ id: string }> }
    }
    expect((listed.result?.tasks ?? []).map((t) => t.id)).not.toContain(taskId)
    const cancel = await (await a2aSend("/a2a/writer", bearer(clientB), "tasks/cancel", { id: taskId })).json() as { error?: { code: number } }
    expect(cancel.error?.code).toBe(-32001)
  })
})

describe("gateway security: browsers", () => {
  it("a WebSocket from another origin is refused; from the gateway's own origin it opens", async () => {
    const open = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/rpc/ws`, { headers })
        socket.on("open", () => {
          socket.close()
          resolve(101)
        })
        socket.on("unexpected-response", (_, response) => resolve(response.statusCode ?? 0))
        socket.on("error", () => resolve(0))
      })
    expect(await open({ ...bearer(admin), origin: "https://evil.example" })).toBe(403)
    expect(await open({ ...bearer(admin), origin: gateway.url })).toBe(101)
  })

  it("a JSON route refuses a text/plain body (a cross-site form post)", async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...bearer(admin), "content-type": "text/plain" },
      body: JSON.stringify({ model: "agent:writer", messages: [{ role: "user", content: "hi" }] })
    })
    expect(response.status).toBe(415)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type")
  })

  it("a request for another host name is refused (DNS rebinding)", async () => {
    const { request } = await import("node:http")
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${gateway.url}/v1/models`)
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { ...bearer(admin), host: "attacker.example:80" } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on("error", reject)
      req.end()
    })
    expect(status).toBe(403)
  })
})

describe("gateway security: no long-lived key in a URL", () => {
  it("?access_token= is not a credential", async () => {
    expect((await fetch(`${gateway.url}/v1/models?access_token=${admin}`)).status).toBe(401)
  })

  it("a ticket opens one WebSocket once", async () => {
    const minted = await (await fetch(`${gateway.url}/auth/tickets`, { method: "POST", headers: { ...json, ...bearer(clientA) }, body: "{}" }))
      .json() as { ticket: string }
    const open = () =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/rpc/ws?ticket=${encodeURIComponent(minted.ticket)}`)
        socket.on("open", () => {
          socket.close()
          resolve(101)
        })
        socket.on("unexpected-response", (_, response) => resolve(response.statusCode ?? 0))
        socket.on("error", () => resolve(0))
      })
    expect(await open()).toBe(101)
    expect(await open()).toBe(401)
    // a ticket is not a credential for routes that take headers
    expect((await fetch(`${gateway.url}/v1/models?ticket=${encodeURIComponent(minted.ticket)}`)).status).toBe(401)
  })
})

describe("gateway security: limits", () => {
  it("a WebSocket message over the body limit closes the connection; one under it is answered", async () => {
    const socket = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/rpc/ws`, { headers: bearer(admin) })
    await new Promise((resolve, reject) => {
      socket.on("open", resolve)
      socket.on("error", reject)
    })
    const answered = new Promise<string>((resolve) => socket.once("message", (data) => resolve(String(data))))
    socket.send(JSON.stringify({ _tag: "Request", id: "1", tag: "ListPresets", payload: {}, headers: [] }) + "\n")
    expect(await answered).toContain("\"Exit\"")
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()))
    socket.on("error", () => {})
    // 2 MiB, over the default limit of 1 MiB
    socket.send("x".repeat(2 * 1024 * 1024))
    await closed
    expect(socket.readyState).toBe(WebSocket.CLOSED)
  })

  it("one HTTP request carrying many RPCs takes one share of the rate limit per call", async () => {
    const limited = await start(Gateway.layerEmbedded({
      settings: { port: 0, rateLimit: 5, keys: [Redacted.make(clientA)] },
      applications: [Demo.application]
    }))
    try {
      const body = Array.from({ length: 20 }, (_, i) =>
        JSON.stringify({ _tag: "Request", id: String(i + 1), tag: "ListPresets", payload: {}, headers: [] })).join("\n") + "\n"
      const response = await fetch(`${limited.url}/rpc`, {
        method: "POST",
        headers: { ...bearer(clientA), "content-type": "application/ndjson" },
        body
      })
      const exits = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as {
        _tag: string
        exit?: { _tag: string; cause?: { failure?: { _tag: string } } }
      }).filter((message) => message._tag === "Exit")
      expect(exits).toHaveLength(20)
      const refused = exits.filter((e) => JSON.stringify(e.exit).includes("\"RateLimited\""))
      expect(exits.length - refused.length).toBe(5)
    } finally {
      await limited.close()
    }
  })

  it("metric labels stay a fixed set whatever paths are asked for", async () => {
    for (const path of ["/a2a/evil-1", "/zzz-1", "/support/../../x", "/a2a/%F0%9F%92%A9"]) {
      await fetch(`${gateway.url}${path}`, { headers: bearer(admin) })
    }
    const text = await (await fetch(`${gateway.url}/metrics`)).text()
    const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]))
    for (const route of routes) expect(route).toMatch(/^(\/[a-z0-9.-]*)+$|^other$/)
    expect([...routes].some((r) => r!.includes("evil") || r!.includes("zzz"))).toBe(false)
  })
})

describe("gateway security: a gateway started without keys", () => {
  it("still needs a credential, and its one-use sign-in link sets an HttpOnly cookie", async () => {
    const open = await start(Gateway.layerEmbedded({ settings: { port: 0, rateLimit: 0 }, applications: [Demo.application] }))
    try {
      expect((await fetch(`${open.url}/v1/models`)).status).toBe(401)
      const settings = await open.runtime.runPromise(Gateway.GatewayConfig)
      const credential = Gateway.generatedCredential(settings, open.url)
      expect(credential._tag).toBe("Some")
      if (credential._tag !== "Some") return
      const signIn = await fetch(credential.value.signIn, { redirect: "manual" })
      expect(signIn.status).toBe(303)
      const cookie = signIn.headers.get("set-cookie") ?? ""
      expect(cookie).toMatch(/HttpOnly/)
      expect(cookie).toMatch(/SameSite=Strict/)
      const session = cookie.split(";")[0]!
      expect((await fetch(`${open.url}/v1/models`, { headers: { cookie: session } })).status).toBe(200)
      // the link works once
      expect((await fetch(credential.value.signIn, { redirect: "manual" })).status).toBe(401)
      // the printed key works as a bearer key
      expect((await fetch(`${open.url}/v1/models`, { headers: bearer(credential.value.key) })).status).toBe(200)
    } finally {
      await open.close()
    }
  })
})
