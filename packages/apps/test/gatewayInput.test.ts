/**
 * Bad input at the gateway: every refusal is a 4xx with a JSON error in the route's own shape,
 * before any work is done, and a failure no route answered is a logged 500 naming the request.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import { Effect, Redacted } from "effect"
import * as fc from "fast-check"
import { request } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Gateway from "../src/Gateway.js"
import * as Auth from "../src/gateway/Auth.js"
import { depthOf } from "../src/gateway/JsonBody.js"
import { start } from "./gatewaySupport.js"

const key = "input-key-0123456789"
let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({
    settings: { port: 0, rateLimit: 0, keys: [Redacted.make(key)] },
    support: false,
    // an application route with a bug
    routes: [Effect.succeed(HttpRouter.empty.pipe(HttpRouter.get("/broken", Auth.route("client", Effect.die(new Error("a bug"))))))]
  }))
})
afterAll(() => gateway.close())

const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" }
const post = (path: string, body: string, extra: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, { method: "POST", headers: { ...headers, ...extra }, body })
const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string } }).error

// A POST sent with `Transfer-Encoding: chunked` and no `Content-Length`, one chunk per part.
const chunked = (path: string, parts: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const url = new URL(gateway.url)
    const req = request(
      { host: url.hostname, port: url.port, path, method: "POST", headers: { ...headers, ...extra, "transfer-encoding": "chunked" } },
      (res) => {
        let body = ""
        res.on("data", (d) => (body += d))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      }
    )
    req.on("error", reject)
    for (const part of parts) req.write(part)
    req.end()
  })

const chat = (fields: Record<string, unknown>) =>
  JSON.stringify({ model: "agent:writer", messages: [{ role: "user", content: "hi" }], ...fields })

describe("gateway input", () => {
  it("an OpenAI `user` that cannot be a conversation name is a 400 before the agent runs", async () => {
    for (const user of ["a\u0000b", "line\u2028break", "\ud800", "x".repeat(257), ""]) {
      const response = await post("/v1/chat/completions", chat({ user }))
      expect(response.status, JSON.stringify(user)).toBe(400)
      expect((await errorOf(response)).code).toBe("invalid_conversation")
    }
  })

  it("a `user` outside ASCII is served, and echoed percent-encoded in the conversation header", async () => {
    const response = await post("/v1/chat/completions", chat({ user: "kund-😀-ö" }))
    expect(response.status).toBe(200)
    expect(response.headers.get("x-colony-conversation")).toBe(encodeURIComponent("kund-😀-ö"))
  })

  it("JSON nested deeper than 64 levels is a 400 on every JSON route, not a crash", async () => {
    let deep = "\"x\""
    for (let i = 0; i < 3000; i++) deep = `[${deep}]`
    const chatDeep = await post("/v1/chat/completions", `{"model":"writer","messages":[{"role":"user","content":${deep}}]}`)
    expect(chatDeep.status).toBe(400)
    expect((await errorOf(chatDeep)).code).toBe("too_deep")
    const a2a = await post("/a2a/writer", `{"jsonrpc":"2.0","id":1,"method":"message/send","params":${deep}}`)
    expect(((await a2a.json()) as { error: { code: number } }).error.code).toBe(-32700)
    const token = await post("/auth/tokens", `{"subject":${deep}}`)
    expect(token.status).toBe(400)
  })

  it("property: the depth scan agrees with the nesting of any JSON value", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
      const nesting = (v: unknown): number =>
        Array.isArray(v)
          ? 1 + Math.max(0, ...v.map(nesting))
          : typeof v === "object" && v !== null
          ? 1 + Math.max(0, ...Object.values(v).map(nesting))
          : 0
      expect(depthOf(JSON.stringify(value))).toBe(nesting(value))
    }))
  })

  it("a malformed /rpc body is a 400 naming the line, never a defect", async () => {
    const rpc = (message: unknown) =>
      post("/rpc", JSON.stringify(message) + "\n", { "content-type": "application/ndjson" })
    const cases: Array<[unknown, RegExp]> = [
      [{ _tag: "Request", id: "1", tag: "ListPresets", payload: {}, headers: { a: "b" } }, /headers/],
      [{ _tag: "Request", id: "abc", tag: "ListPresets", payload: {}, headers: [] }, /decimal number/],
      [{ _tag: "Request", id: "1", tag: "Ask", payload: { agent: 1 }, headers: [] }, /invalid payload for Ask/],
      [{ _tag: "Request", id: "1", tag: "__proto__", payload: {}, headers: [] }, /no RPC "__proto__"/],
      [null, /not an RPC message/]
    ]
    for (const [message, why] of cases) {
      const response = await rpc(message)
      expect(response.status, JSON.stringify(message)).toBe(400)
      const error = await errorOf(response)
      expect(error.code).toBe("invalid_rpc")
      expect(error.message).toMatch(why)
    }
  })

  it("a chunked body over the limit is a 413 with a JSON error, not a reset connection", async () => {
    const answer = await chunked("/v1/chat/completions", Array.from({ length: 20 }, () => "x".repeat(100_000)))
    expect(answer.status).toBe(413)
    expect(answer.headers["content-type"]).toMatch(/application\/json/)
    expect(JSON.parse(answer.body).error).toMatchObject({ type: "invalid_request_error", code: "request_too_large" })
  })

  it("a chunked body within the limit is served like one with a length", async () => {
    const body = chat({ user: "chunked-caller" })
    const answer = await chunked("/v1/chat/completions", [body.slice(0, 10), body.slice(10, 40), body.slice(40)])
    expect(answer.status, answer.body).toBe(200)
    expect(JSON.parse(answer.body).object).toBe("chat.completion")
    // read again by the route after the gateway's check: /rpc and its ndjson body
    const rpc = await chunked("/rpc", [JSON.stringify({ _tag: "Request", id: "1", tag: "ListPresets", payload: {}, headers: [] }), "\n"], {
      "content-type": "application/ndjson"
    })
    expect(rpc.status, rpc.body).toBe(200)
    expect(rpc.body).toContain("\"_tag\":\"Success\"")
  })

  it("every response names its request; a route's bug is a JSON 500 naming it, not an empty body", async () => {
    const response = await fetch(`${gateway.url}/healthz`)
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
    const broken = await fetch(`${gateway.url}/broken`, { headers })
    expect(broken.status).toBe(500)
    const id = broken.headers.get("x-request-id")!
    const error = await errorOf(broken)
    expect(error.code).toBe("internal_error")
    expect(error.message).toContain(id)
    expect(error.message).not.toContain("a bug")
  })
})
