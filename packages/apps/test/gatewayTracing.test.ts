import { Option, Redacted } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import { start } from "./gatewaySupport.js"

interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
}

/** An in-process OTLP/HTTP (JSON) collector: keeps every span it is sent. */
const collector = () => {
  const spans: Array<Span> = []
  const waiters: Array<() => void> = []
  const server: Server = createServer((request, response) => {
    let body = ""
    request.on("data", (chunk) => (body += chunk))
    request.on("end", () => {
      const payload = JSON.parse(body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Span> }> }>
      }
      for (const rs of payload.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      for (const wake of waiters.splice(0)) wake()
      response.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  const until = async (predicate: () => boolean) => {
    while (!predicate()) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  return { server, spans, until }
}

describe("gateway tracing", () => {
  const otlp = collector()
  let gateway: Awaited<ReturnType<typeof start>>
  beforeAll(async () => {
    await new Promise<void>((resolve) => otlp.server.listen(0, "127.0.0.1", resolve))
    const port = (otlp.server.address() as AddressInfo).port
    gateway = await start(Gateway.layerEmbedded({
      settings: { port: 0, keys: [Redacted.make("k")], otlpEndpoint: Option.some(`http://127.0.0.1:${port}`) },
      applications: [Demo.application]
    }))
  })
  afterAll(async () => {
    await gateway.close()
    otlp.server.close()
  })

  it("one trace spans the gateway, the agent and the model when an OTLP collector is configured", async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "k", maxRetries: 0 })
    await openai.chat.completions.create({ model: "agent:writer", messages: [{ role: "user", content: "A tagline?" }] })
    await otlp.until(() => otlp.spans.some((s) => s.name === "LanguageModel.chat"))
    const model = otlp.spans.find((s) => s.name === "LanguageModel.chat")!
    const trace = otlp.spans.filter((s) => s.traceId === model.traceId)
    const names = trace.map((s) => s.name)
    expect(names).toEqual(expect.arrayContaining(["http.server POST", "Gateway.chatCompletion", "LanguageModel.chat"]))
    expect(names.some((n) => /^writer\(.+\)\.Ask$/.test(n))).toBe(true)
    // the model span descends from the HTTP request's span, hop by hop
    const byId = new Map(trace.map((s) => [s.spanId, s]))
    const ancestors: Array<string> = []
    for (let s: Span | undefined = model; s !== undefined; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined) {
      ancestors.push(s.name)
    }
    expect(ancestors[ancestors.length - 1]).toBe("http.server POST")
  })

  it("a collaboration's trace goes from the gateway through the session to its agents' model calls", async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "k", maxRetries: 0 })
    await openai.chat.completions.create({ model: "team:master-slave", messages: [{ role: "user", content: "Research, and write" }] })
    const sessionTrace = () => {
      const session = otlp.spans.find((s) => /^colony-session\(.+\)\.Run$/.test(s.name))
      return session === undefined ? [] : otlp.spans.filter((s) => s.traceId === session.traceId)
    }
    await otlp.until(() => sessionTrace().filter((s) => s.name === "LanguageModel.chat").length >= 3)
    const names = sessionTrace().map((s) => s.name)
    expect(names).toEqual(expect.arrayContaining(["http.server POST", "Gateway.chatCompletion"]))
    for (const agent of ["coordinator", "researcher", "writer"]) {
      expect(names.some((n) => n.startsWith(`${agent}(`))).toBe(true)
    }
  })
})
