/**
 * The gateway's own routes as an `HttpApi` (`GatewayApi`): the OpenAPI document it serves, and
 * input that does not decode on each route that takes input answered in the gateway's error shape.
 */
import { Redacted } from "effect"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import { start } from "./gatewaySupport.js"

const admin = "api-admin-key-0123456789"
const operator = "api-operator-key-0123456789"
const client = "api-client-key-0123456789"

let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({
    settings: {
      port: 0,
      rateLimit: 0,
      keys: [admin, `operator:${operator}`, `client:${client}`].map((k) => Redacted.make(k))
    },
    applications: [Demo.application]
  }))
})
afterAll(() => gateway.close())

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
const json = { "content-type": "application/json" }

interface Operation {
  readonly security: ReadonlyArray<Record<string, ReadonlyArray<string>>>
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema: unknown }> }>
  readonly requestBody?: unknown
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly in: string; readonly required: boolean }>
}
interface Spec {
  readonly paths: Record<string, Record<string, Operation>>
  readonly components: { readonly securitySchemes: Record<string, { readonly type: string; readonly scheme?: string; readonly in?: string; readonly name?: string }> }
}

const refusal = async (response: Response) => {
  expect(response.headers.get("content-type")).toMatch(/^application\/json/)
  const body = await response.json() as { error: { message: string; type: string; code: string | null; param: null } }
  expect(Object.keys(body)).toEqual(["error"])
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"])
  return body.error
}

describe("GET /openapi.json", () => {
  it("is public and lists the gateway's own routes, each with the credentials it accepts", async () => {
    const response = await fetch(`${gateway.url}/openapi.json`)
    expect(response.status).toBe(200)
    const spec = await response.json() as Spec
    const routes = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    expect(routes.sort()).toEqual([
      "DELETE /auth/session",
      "GET /auth/login",
      "GET /healthz",
      "GET /metrics",
      "GET /openapi.json",
      "GET /readyz",
      "GET /v1/models",
      "POST /auth/session",
      "POST /auth/tickets",
      "POST /auth/tokens",
      "POST /v1/chat/completions"
    ])
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" })
    expect(spec.components.securitySchemes.session).toMatchObject({ type: "apiKey", in: "cookie", name: "colony_session" })
    for (
      const [method, path, scope] of [
        ["post", "/v1/chat/completions", "client"],
        ["get", "/v1/models", "client"],
        ["post", "/auth/tokens", "operator"],
        ["post", "/auth/tickets", "client"],
        ["post", "/auth/session", "operator"]
      ] as const
    ) {
      const operation = spec.paths[path]![method]!
      // a bearer key or token, or the session cookie, with the scope the route needs
      expect(operation.security, `${method} ${path}`).toEqual([{ bearer: [scope] }, { session: [scope] }])
      expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(["401", "403", "429"]))
    }
    for (const [method, path] of [["get", "/healthz"], ["get", "/readyz"], ["get", "/metrics"], ["get", "/openapi.json"], ["get", "/auth/login"], ["delete", "/auth/session"]] as const) {
      expect(spec.paths[path]![method]!.security, `${method} ${path}`).toEqual([])
    }
    // a refusal is documented in the shape it is sent in, not the platform's decode error
    const refused = spec.paths["/v1/chat/completions"]!.post!.responses["400"]!.content!["application/json"]!.schema
    expect(refused).toMatchObject({ required: ["error"], properties: { error: { required: ["message", "type", "code", "param"] } } })
    expect(JSON.stringify(spec)).not.toContain("HttpApiDecodeError")
    const chat = spec.paths["/v1/chat/completions"]!.post!
    expect(chat.requestBody).toBeDefined()
    expect(chat.parameters).toEqual([expect.objectContaining({ name: "x-colony-conversation", in: "header", required: false })])
  })

  it("a path trick reaches an API route only through its access check", async () => {
    for (const path of ["/v1/models;x", "/v1/models;/openapi.json", "/v1%2Fmodels", "//v1/models", "/v1/models#/openapi.json", "/openapi.json/../v1/models"]) {
      const response = await fetch(`${gateway.url}${path}`)
      expect([401, 404], path).toContain(response.status)
      await refusal(response)
      const token = await fetch(`${gateway.url}${path.replace("/v1/models", "/auth/tokens")}`, {
        method: "POST",
        headers: { ...json, ...bearer(client) },
        body: JSON.stringify({ subject: "x" })
      })
      expect([403, 404, 405], path).toContain(token.status)
    }
  })
})

describe("GatewayApi: input that does not decode is a 4xx in the gateway's shape", () => {
  const post = (path: string, body: string, headers: Record<string, string> = bearer(admin)) =>
    fetch(`${gateway.url}${path}`, { method: "POST", headers: { ...json, ...headers }, body })

  it("POST /v1/chat/completions: each field that does not decode is named, with what to send", async () => {
    const response = await post("/v1/chat/completions", JSON.stringify({ model: 7, messages: [] }))
    expect(response.status).toBe(400)
    const error = await refusal(response)
    expect(error.code).toBe("invalid_request")
    expect(error.type).toBe("invalid_request_error")
    expect(error.message).toMatch(/"model": Expected string, actual 7/)
    expect(error.message).toMatch(/"messages"/)
    expect(error.message).toContain(`Send {"model":"agent:writer"`)
    // and the OpenAI client reads it as its own error
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: admin, maxRetries: 0 })
    const thrown = await openai.chat.completions.create({ model: "agent:writer", messages: [] }).catch((e) => e)
    expect(thrown).toBeInstanceOf(OpenAI.BadRequestError)
    expect(thrown.code).toBe("invalid_request")
  })

  it("POST /auth/tokens: a subject or lifetime out of bounds is a 400 naming the field", async () => {
    for (
      const [body, field] of [
        [{ subject: "" }, /"subject"/],
        [{ subject: "a b" }, /no spaces or control characters/],
        [{ subject: "x", ttlSeconds: 0 }, /"ttlSeconds"/],
        [{ ttlSeconds: 60 }, /"subject": is missing/],
        [[1, 2], /Expected/]
      ] as const
    ) {
      const response = await post("/auth/tokens", JSON.stringify(body), bearer(operator))
      expect(response.status, JSON.stringify(body)).toBe(400)
      const error = await refusal(response)
      expect(error.code).toBe("invalid_request")
      expect(error.message, JSON.stringify(body)).toMatch(field)
      expect(error.message).toContain(`Send {"subject":"customer@example.com"`)
    }
  })

  it("a body that is not JSON, or not sent as JSON, is refused before its schema is tried", async () => {
    for (const path of ["/v1/chat/completions", "/auth/tokens"]) {
      const broken = await post(path, "{\"subject\": ", bearer(operator))
      expect(broken.status, path).toBe(400)
      expect((await refusal(broken)).code, path).toBe("invalid_json")
      const empty = await post(path, "", bearer(operator))
      expect(empty.status, path).toBe(400)
      expect((await refusal(empty)).code, path).toBe("invalid_json")
      const ndjson = await post(path, "{}\n", { ...bearer(operator), "content-type": "application/ndjson" })
      expect(ndjson.status, path).toBe(415)
      expect((await refusal(ndjson)).code, path).toBe("unsupported_media_type")
    }
  })

  it("the credential is checked before the body is read: without one, a bad body is a 401", async () => {
    const response = await post("/auth/tokens", "{\"subject\": ", {})
    expect(response.status).toBe(401)
    expect((await refusal(response)).code).toBe("invalid_api_key")
    const asClient = await post("/auth/tokens", "not json", bearer(client))
    expect(asClient.status).toBe(403)
    expect((await refusal(asClient)).code).toBe("insufficient_scope")
  })

  it("GET /auth/login: a query that does not decode is a 400, a wrong code a 401", async () => {
    const twice = await fetch(`${gateway.url}/auth/login?code=a&code=b`, { redirect: "manual" })
    expect(twice.status).toBe(400)
    expect((await refusal(twice)).message).toMatch(/"code"/)
    const wrong = await fetch(`${gateway.url}/auth/login?code=nope`, { redirect: "manual" })
    expect(wrong.status).toBe(401)
    expect((await refusal(wrong)).type).toBe("authentication_error")
  })

  it("routes without a payload do not read one: any JSON body is ignored", async () => {
    const ticket = await post("/auth/tickets", "[[[\"anything\"]]]", bearer(client))
    expect(ticket.status).toBe(201)
    expect(ticket.headers.get("cache-control")).toBe("no-store")
    expect(Object.keys(await ticket.json() as object).sort()).toEqual(["expiresAt", "ticket"])
  })
})

describe("GatewayApi: credentials", () => {
  it("the session cookie set by POST /auth/session is a credential of the API's routes; DELETE clears it", async () => {
    const signedIn = await fetch(`${gateway.url}/auth/session`, { method: "POST", headers: { ...json, ...bearer(operator) }, body: "{}" })
    expect(signedIn.status).toBe(200)
    expect(await signedIn.json()).toEqual({ signedIn: true, expiresInSeconds: 12 * 3600 })
    const cookie = (signedIn.headers.get("set-cookie") ?? "").split(";")[0]!
    expect(cookie).toMatch(/^colony_session=v1\./)
    expect((await fetch(`${gateway.url}/v1/models`, { headers: { cookie } })).status).toBe(200)
    // the cookie carries the operator's scope
    const token = await fetch(`${gateway.url}/auth/tokens`, {
      method: "POST",
      headers: { ...json, cookie },
      body: JSON.stringify({ subject: "ana@example.com", ttlSeconds: 60 })
    })
    expect(token.status).toBe(201)
    const signedOut = await fetch(`${gateway.url}/auth/session`, { method: "DELETE" })
    expect(signedOut.status).toBe(200)
    expect(signedOut.headers.get("set-cookie")).toMatch(/^colony_session=; .*Max-Age=0/)
  })

  it("a bearer credential decides when present: a bad key with a valid cookie is refused", async () => {
    const signedIn = await fetch(`${gateway.url}/auth/session`, { method: "POST", headers: { ...json, ...bearer(operator) }, body: "{}" })
    const cookie = (signedIn.headers.get("set-cookie") ?? "").split(";")[0]!
    const response = await fetch(`${gateway.url}/v1/models`, { headers: { cookie, authorization: "Bearer not-a-key" } })
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe("Bearer")
    expect((await refusal(response)).message).toMatch(/API key is not valid/)
  })
})

describe("GET /readyz", () => {
  it("is a 503 with the reason, in the documented shape, while a served agent type is not registered", async () => {
    // serves the writer without hosting it: no process of the colony registers it
    const unready = await start(Gateway.layerEmbedded({ agents: [Demo.Writer], settings: { port: 0, rateLimit: 0, keys: [Redacted.make(admin)] } }))
    try {
      const response = await fetch(`${unready.url}/readyz`)
      expect(response.status).toBe(503)
      const body = await response.json() as { ready: boolean; mode: string; agents: Array<string>; reason: string }
      expect(body).toMatchObject({ ready: false, mode: "embedded", reason: "agent types not registered: writer" })
      expect(body.agents).not.toContain("writer")
    } finally {
      await unready.close()
    }
    const ready = await fetch(`${gateway.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, mode: "embedded" })
  })
})
