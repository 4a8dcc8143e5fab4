/**
 * Bad input at the gateway: every refusal is a 4xx with a JSON error in the route's own shape,
 * before any work is done, and a failure no route answered is a logged 500 naming the request.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import { Effect, Redacted } from "effect"
import * as fc from "fast-check"
import { request } from "node:http"
import WebSocket from "ws"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import * as Auth from "../src/gateway/Auth.js"
import { depthOf } from "../src/gateway/JsonBody.js"
import { start } from "./gatewaySupport.js"

const key = "input-key-0123456789"
let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({
    settings: { port: 0, rateLimit: 0, keys: [Redacted.make(key)] },
    applications: [Demo.application],
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
const chunked = (path: string, parts: ReadonlyArray<string | Uint8Array>, extra: Record<string, string> = {}) =>
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
    const cases: Array<[unknown, RegExp]> = [
      [{ _tag: "Request", id: "1", tag: "ListPresets", payload: {}, headers: { a: "b" } }, /headers/],
      [{ _tag: "Request", id: "abc", tag: "ListPresets", payload: {}, headers: [] }, /decimal number/],
      [{ _tag: "Interrupt", requestId: "abc" }, /decimal number/],
      [{ _tag: "Request", id: "1", tag: "Ask", payload: { agent: 1 }, headers: [] }, /invalid payload for Ask/],
      [{ _tag: "Request", id: "1", tag: "__proto__", payload: {}, headers: [] }, /no RPC "__proto__"/],
      [null, /not an RPC message/]
    ]
    const bodies: Array<[string, RegExp]> = [
      ...cases.map(([message, why]): [string, RegExp] => [JSON.stringify(message) + "\n", why]),
      ["\n", /line 1 is empty/],
      ["{\"_tag\":\"Ping\"}\n\r\n", /line 2 is empty/],
      ["", /no message/],
      [`${JSON.stringify({ _tag: "Request", id: "1", tag: "ListPresets", payload: {}, headers: [] })}\n{"_tag":"Eof"}\n`, /Eof is not sent over HTTP/],
      [JSON.stringify({ _tag: "Request", id: "1", tag: "ListPresets", payload: {}, headers: [] }), /does not end with a newline/]
    ]
    for (const [body, why] of bodies) {
      const response = await post("/rpc", body, { "content-type": "application/ndjson" })
      expect(response.status, JSON.stringify(body)).toBe(400)
      const error = await errorOf(response)
      expect(error.code).toBe("invalid_rpc")
      expect(error.message).toMatch(why)
    }
  })

  it("a malformed /rpc/ws message is answered with a typed failure or a protocol error, and the socket goes on", async () => {
    const socket = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/rpc/ws`, { headers: { authorization: `Bearer ${key}` } })
    const received: Array<Record<string, any>> = []
    const waiting: Array<() => void> = []
    socket.on("message", (data) => {
      for (const line of String(data).split("\n")) {
        if (line.trim().length > 0) received.push(JSON.parse(line))
      }
      waiting.splice(0).forEach((wake) => wake())
    })
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject))
    // the one answer to what was sent since `before` answers
    const next = async (before: number) => {
      while (received.length === before) {
        await new Promise<void>((wake, fail) => {
          const deadline = setTimeout(() => fail(new Error(`no answer within 5 s; answers so far: ${JSON.stringify(received)}`)), 5000)
          waiting.push(() => (clearTimeout(deadline), wake()))
        })
      }
      expect(received.length).toBe(before + 1)
      return received[before]!
    }
    const ask = (text: string) => {
      const before = received.length
      socket.send(text + "\n")
      return next(before)
    }
    const request = (id: string, tag: string, payload: unknown, headers: unknown = []) =>
      JSON.stringify({ _tag: "Request", id, tag, payload, headers })
    const invalidRequest = (id: string, why: RegExp) => ({
      _tag: "Exit",
      requestId: id,
      exit: { _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "InvalidRequest", reason: expect.stringMatching(why) } } }
    })
    const protocolError = (why: RegExp) => ({
      _tag: "ClientProtocolError",
      error: { _tag: "RpcClientError", reason: "Protocol", message: expect.stringMatching(why) }
    })
    let deep = "1"
    for (let i = 0; i < 3000; i++) deep = `[${deep}]`
    try {
      expect(await ask(request("1", "ListPresets", {}, { a: "b" }))).toEqual(invalidRequest("1", /headers/))
      expect(await ask(request("2", "Ask", { agent: 1 }))).toEqual(invalidRequest("2", /invalid payload for Ask/))
      expect(await ask(request("3", "__proto__", {}))).toEqual(invalidRequest("3", /no RPC "__proto__"/))
      // a line that grows past the limit over several frames is refused once, and its end skipped
      const before = received.length
      socket.send(`{"_tag":"Request","id":"4","tag":"Ask","payload":{"agent":"writer","message":"${"x".repeat(400_000)}`)
      for (let i = 0; i < 2; i++) socket.send("x".repeat(400_000))
      expect(await next(before)).toEqual(protocolError(/longer than this gateway's limit/))
      socket.send(`"},"headers":[]}\n`)
      expect(await ask(request("abc", "ListPresets", {}))).toEqual(protocolError(/decimal number/))
      expect(await ask("{\"_tag\":\"Interrupt\",\"requestId\":\"x\"}")).toEqual(protocolError(/decimal number/))
      expect(await ask("{not json")).toEqual(protocolError(/not JSON/))
      expect(await ask("null")).toEqual(protocolError(/not an RPC message/))
      expect(await ask(`{"_tag":"Request","id":"5","tag":"Ask","payload":${deep},"headers":[]}`))
        .toEqual(protocolError(/nests deeper than 64/))
      // nothing reached the RPC server as a defect, and the same socket still serves calls
      expect(JSON.stringify(received)).not.toMatch(/Die|Defect|Cannot read/)
      const ok = await ask(request("6", "ListPresets", {}))
      expect(ok).toMatchObject({ _tag: "Exit", requestId: "6", exit: { _tag: "Success" } })
      expect(socket.readyState).toBe(WebSocket.OPEN)
    } finally {
      socket.close()
    }
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200)
  })

  it("a body that is not UTF-8, or declares another charset, is refused on every JSON route before any work", async () => {
    const latin1 = Buffer.concat([
      Buffer.from("{\"model\":\"writer\",\"messages\":[{\"role\":\"user\",\"content\":\"caf"),
      Buffer.from([0xe9]),
      Buffer.from("\"}]}")
    ])
    const send = (path: string, body: Uint8Array, type = "application/json") =>
      fetch(`${gateway.url}${path}`, { method: "POST", headers: { ...headers, "content-type": type }, body })
    for (const path of ["/v1/chat/completions", "/auth/tokens", "/a2a/writer", "/rpc"]) {
      const answer = await send(path, latin1)
      expect(answer.status, path).toBe(400)
      expect((await errorOf(answer)).code, path).toBe("invalid_encoding")
    }
    const declared = await send("/v1/chat/completions", latin1, "application/json; charset=iso-8859-1")
    expect(declared.status).toBe(415)
    expect((await errorOf(declared)).code).toBe("unsupported_charset")
    // a body of unknown length is checked the same way
    const chunkedLatin1 = await chunked("/v1/chat/completions", [latin1])
    expect(chunkedLatin1.status).toBe(400)
    // UTF-8, declared or not, and a real U+FFFD in it, are served
    const utf8 = Buffer.from(chat({ user: "utf8-caller" }).replace("\"content\":\"", "\"content\":\"café \ufffd "), "utf8")
    expect((await send("/v1/chat/completions", utf8, "application/json; charset=UTF-8")).status).toBe(200)
    expect((await send("/v1/chat/completions", utf8)).status).toBe(200)
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
