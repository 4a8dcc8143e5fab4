/**
 * A fake OpenAI-compatible server: a real HTTP server that speaks `/v1/chat/completions` (plain
 * and SSE streaming), `/v1/responses` (plain; what `@effect/ai-openai` calls) and `/v1/models`,
 * answers with scripted replies and tool calls (or, when nothing is scripted, deterministic ones
 * derived from the request), and injects the faults real
 * endpoints produce: 429 with Retry-After, 500, 503, a hang, malformed JSON, a stream cut
 * mid-way, a wrong content type. It counts requests and the most in flight at once.
 *
 * Tests and benchmarks reach it through the real `openai` client, so what they exercise is the
 * code that talks to real endpoints; nothing mocks the client. `make` gives it as a scoped
 * Effect, `start` as a promise for the CLI (`colony fake-llm`) and for benchmarks.
 *
 * @since 0.1.0
 */
import * as FakeResponses from "./fakeResponses.js"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Layer, type Scope } from "effect"
import { sampleJson } from "../LanguageModel.js"

/**
 * The faults the server can inject.
 * - `429` / `503`: the status with a `Retry-After` header (`retryAfterSeconds`, default 1 for 429;
 *   a 503 carries one only when `retryAfterSeconds` is given).
 * - `500`: an internal error.
 * - `hang`: never answers; the request stays open until the client gives up.
 * - `malformed-json`: a 200 whose body (or, streaming, whose second event) is not valid JSON.
 * - `cut-stream`: the connection is destroyed after `afterChunks` events (default 2); for a
 *   non-streaming request, half-way through the body.
 * - `wrong-content-type`: a 200 with an HTML page, as from a base URL that is not an API.
 *
 * @since 0.1.0
 */
export type FaultKind = "429" | "500" | "503" | "hang" | "malformed-json" | "cut-stream" | "wrong-content-type"

/**
 * @since 0.1.0
 */
export const faultKinds: ReadonlyArray<FaultKind> = [
  "429",
  "500",
  "503",
  "hang",
  "malformed-json",
  "cut-stream",
  "wrong-content-type"
]

/**
 * A fault with its parameters.
 *
 * @since 0.1.0
 */
export interface Fault {
  readonly kind: FaultKind
  readonly retryAfterSeconds?: number | undefined
  readonly afterChunks?: number | undefined
}

/**
 * A scripted answer: text, tool calls, or both. `usage` overrides the token counts the server
 * would otherwise estimate (about four characters per token).
 *
 * @since 0.1.0
 */
export type Reply =
  | string
  | {
    readonly text?: string | undefined
    readonly toolCalls?: ReadonlyArray<{
      readonly name: string
      readonly arguments: unknown
      readonly id?: string | undefined
    }> | undefined
    readonly usage?: { readonly promptTokens: number; readonly completionTokens: number } | undefined
  }

/**
 * @since 0.1.0
 */
export interface Options {
  /** 0 (the default) picks a free port. */
  readonly port?: number | undefined
  readonly host?: string | undefined
  /** What `/v1/models` lists; default `["fake-model"]`. */
  readonly models?: ReadonlyArray<string> | undefined
  /** Delay before every chat answer. */
  readonly latencyMs?: number | undefined
  /** Delay between stream events. */
  readonly chunkDelayMs?: number | undefined
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, else 401 (like OpenAI). */
  readonly apiKey?: string | undefined
  /** Probability in [0, 1] that a chat request gets one of `faults`. */
  readonly faultRate?: number | undefined
  /** The faults drawn from when `faultRate` fires; default all of them except `hang`. */
  readonly faults?: ReadonlyArray<FaultKind | Fault> | undefined
  /** Seed for the fault draw, so a run can be repeated. */
  readonly seed?: number | undefined
  /**
   * What to answer when nothing is scripted, given the request (`undefined`: the default reply).
   * A simulated model served over HTTP (such as `SkillModel.respond`) plugs in here.
   */
  readonly respond?: ((body: ChatBody) => Reply | undefined) | undefined
}

/**
 * What the server has seen. `usage` sums the token counts it *reported* in answers that
 * completed (a cut stream reports none), which is what a client's accounting must equal.
 *
 * @since 0.1.0
 */
export interface Stats {
  readonly requests: number
  readonly chatRequests: number
  readonly streamRequests: number
  readonly inFlight: number
  readonly maxInFlight: number
  readonly faults: Readonly<Record<FaultKind, number>>
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number; readonly totalTokens: number }
}

/**
 * One chat request as received. `authorization` is kept so a test can prove the key was sent.
 *
 * @since 0.1.0
 */
export interface RecordedRequest {
  readonly body: ChatBody
  readonly stream: boolean
  readonly authorization: string | undefined
  readonly fault: FaultKind | undefined
  readonly receivedAt: number
}

/**
 * The parts of a chat completion request the server reads.
 *
 * @since 0.1.0
 */
export interface ChatBody {
  readonly model?: string
  readonly messages?: ReadonlyArray<{
    readonly role?: string
    readonly content?: unknown
    readonly tool_calls?: ReadonlyArray<unknown>
    readonly tool_call_id?: string
  }>
  readonly stream?: boolean
  readonly stream_options?: { readonly include_usage?: boolean } | null
  readonly tools?: ReadonlyArray<{ readonly function?: { readonly name?: string; readonly parameters?: unknown } }>
  readonly tool_choice?: unknown
  readonly response_format?: {
    readonly type?: string
    readonly json_schema?: { readonly schema?: unknown }
  }
}

/**
 * A running fake server and its controls.
 *
 * @since 0.1.0
 */
export interface Server {
  /** The base URL to give a client, ending in `/v1`. */
  readonly url: string
  readonly port: number
  /** Queue answers; each chat request takes the next one. */
  readonly script: (...replies: ReadonlyArray<Reply>) => void
  /** The next `times` chat requests (default 1) get `fault`. */
  readonly inject: (fault: FaultKind | Fault, times?: number) => void
  /** Inject faults at random from now on; rate 0 turns it off. */
  readonly setFaultRate: (rate: number, faults?: ReadonlyArray<FaultKind | Fault>) => void
  readonly setLatency: (latencyMs: number) => void
  readonly stats: () => Stats
  readonly requests: () => ReadonlyArray<RecordedRequest>
  /** Forget scripts, pending faults, recorded requests and counters. */
  readonly reset: () => void
  /** Resolves once `count` chat requests have arrived in total. */
  readonly waitForRequests: (count: number) => Promise<void>
  /** Resolves once no chat request is in flight. */
  readonly waitForIdle: () => Promise<void>
  readonly close: () => Promise<void>
}

/**
 * The server as a service, for tests that build it with `layer`.
 *
 * @since 0.1.0
 * @category tags
 */
export class FakeOpenAI extends Context.Tag("@colony/runtime/testing/FakeOpenAI")<FakeOpenAI, Server>() {}

const toFault = (fault: FaultKind | Fault): Fault => typeof fault === "string" ? { kind: fault } : fault

/**
 * A tiny seeded random generator (mulberry32): the same seed gives the same sequence on every run,
 * so a fault rate injects the same faults and a benchmark interleaves contenders the same way.
 *
 * @since 0.1.0
 */
export const seeded = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const estimate = (text: string) => Math.max(1, Math.ceil(text.length / 4))

const readBody = (request: Http.IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    request.on("error", reject)
  })

const sleep = (ms: number, response: Http.ServerResponse) =>
  new Promise<void>((resolve) => {
    if (ms <= 0) return resolve()
    const timer = setTimeout(resolve, ms)
    response.once("close", () => {
      clearTimeout(timer)
      resolve()
    })
  })

// Waiting for each write to reach the socket makes a cut land where it is asked to: destroying
// a socket with writes still buffered would drop the headers too and look like a refused request.
const write = (response: Http.ServerResponse, data: string) =>
  new Promise<void>((resolve) => {
    if (response.destroyed) return resolve()
    response.write(data, () => resolve())
  })

const sendJson = (response: Http.ServerResponse, status: number, body: unknown, headers: Http.OutgoingHttpHeaders = {}) => {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers
  })
  response.end(text)
}

const apiError = (message: string, type: string, code: string | null) => ({ error: { message, type, param: null, code } })

interface Answer {
  readonly text: string
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: string }>
  readonly promptTokens: number
  readonly completionTokens: number
}

const lastUserText = (body: ChatBody) => {
  const messages = body.messages ?? []
  const index = messages.map((m) => m.role).lastIndexOf("user")
  return { index, text: index === -1 ? "" : String(messages[index]!.content ?? "") }
}

/**
 * What the server answers when nothing is scripted: schema-shaped JSON for structured requests,
 * a call to the first tool when tools are offered and none has answered yet, else a short text.
 * Mirrors the simulated provider so agents behave alike against either.
 */
const defaultReply = (body: ChatBody, sequence: number): Reply => {
  const { index, text } = lastUserText(body)
  const format = body.response_format
  if (format?.type === "json_schema") {
    return { text: JSON.stringify(sampleJson(format.json_schema?.schema, { label: "fake", seed: sequence })) }
  }
  if (format?.type === "json_object") return { text: JSON.stringify({ answer: `fake reply to: ${text.slice(0, 60)}` }) }
  const answered = (body.messages ?? []).slice(index + 1).some((m) => m.role === "tool")
  const tool = body.tools?.[0]?.function
  if (tool?.name !== undefined && body.tool_choice !== "none" && !answered) {
    return { toolCalls: [{ name: tool.name, arguments: sampleJson(tool.parameters, { label: "fake", seed: sequence }) }] }
  }
  if (answered) return { text: `fake answer from the tool results to: "${text.slice(0, 80)}"` }
  return { text: `fake reply to: "${text.slice(0, 80)}"` }
}

const toAnswer = (reply: Reply, body: ChatBody, sequence: number): Answer => {
  const scripted = typeof reply === "string" ? { text: reply } : reply
  const toolCalls = (scripted.toolCalls ?? []).map((call, i) => ({
    id: call.id ?? `call_fake_${sequence}_${i}`,
    name: call.name,
    arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments)
  }))
  const text = scripted.text ?? ""
  return {
    text,
    toolCalls,
    promptTokens: scripted.usage?.promptTokens ?? estimate(JSON.stringify(body.messages ?? [])),
    completionTokens: scripted.usage?.completionTokens ??
      estimate(text + toolCalls.map((c) => c.name + c.arguments).join(""))
  }
}

const pieces = (text: string): ReadonlyArray<string> => text.match(/\S+\s*|\s+/g) ?? []

/**
 * Start a fake server (on a free port unless `port` is given).
 *
 * @since 0.1.0
 */
export const start = async (options: Options = {}): Promise<Server> => {
  const models = options.models ?? ["fake-model"]
  let latencyMs = options.latencyMs ?? 0
  const chunkDelayMs = options.chunkDelayMs ?? 0
  let faultRate = options.faultRate ?? 0
  let rateFaults = (options.faults ?? faultKinds.filter((k) => k !== "hang")).map(toFault)
  const random = seeded(options.seed ?? 1)

  let replies: Array<Reply> = []
  let pending: Array<Fault> = []
  let recorded: Array<RecordedRequest> = []
  const zeroFaults = () => Object.fromEntries(faultKinds.map((k) => [k, 0])) as Record<FaultKind, number>
  let counters = {
    requests: 0,
    chatRequests: 0,
    streamRequests: 0,
    inFlight: 0,
    maxInFlight: 0,
    faults: zeroFaults(),
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 }
  }
  let sequence = 0
  let waiters: Array<() => void> = []
  const notify = () => {
    const current = waiters
    waiters = []
    current.forEach((wake) => wake())
  }
  const waitUntil = (ready: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (ready() ? resolve() : waiters.push(check))
      check()
    })

  const report = (answer: Answer) => {
    counters.usage.promptTokens += answer.promptTokens
    counters.usage.completionTokens += answer.completionTokens
    counters.usage.totalTokens += answer.promptTokens + answer.completionTokens
  }

  const nextFault = (): Fault | undefined => {
    const queued = pending.shift()
    if (queued !== undefined) return queued
    if (faultRate > 0 && rateFaults.length > 0 && random() < faultRate) {
      return rateFaults[Math.floor(random() * rateFaults.length)]
    }
    return undefined
  }

  const chat = async (request: Http.IncomingMessage, response: Http.ServerResponse, wire: "chat" | "responses" = "chat") => {
    counters.chatRequests++
    counters.inFlight++
    counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight)
    const id = ++sequence
    response.once("close", () => {
      counters.inFlight--
      notify()
    })
    notify()

    const raw = await readBody(request)
    let body: ChatBody
    try {
      const parsed = JSON.parse(raw)
      if (wire === "responses" && FakeResponses.isStreaming(parsed)) {
        return sendJson(response, 400, apiError("This fake does not stream /v1/responses; ask without stream.", "invalid_request_error", null))
      }
      body = wire === "responses" ? FakeResponses.toChatBody(parsed) : parsed as ChatBody
    } catch {
      return sendJson(response, 400, apiError("The request body is not valid JSON.", "invalid_request_error", null))
    }
    const stream = body.stream === true
    if (stream) counters.streamRequests++
    const authorization = request.headers.authorization
    const fault = nextFault()
    recorded.push({ body, stream, authorization, fault: fault?.kind, receivedAt: Date.now() })
    if (fault !== undefined) counters.faults[fault.kind]++

    if (options.apiKey !== undefined && authorization !== `Bearer ${options.apiKey}`) {
      // Like OpenAI, name the key that was presented: the client must keep it out of its errors.
      const presented = authorization?.replace(/^Bearer\s+/i, "") ?? "(none)"
      return sendJson(
        response,
        401,
        apiError(`Incorrect API key provided: ${presented}.`, "invalid_request_error", "invalid_api_key")
      )
    }

    await sleep(latencyMs, response)
    if (response.destroyed || response.writableEnded) return

    switch (fault?.kind) {
      case "429":
        return sendJson(response, 429, apiError("Rate limit reached; slow down.", "requests", "rate_limit_exceeded"), {
          "retry-after": String(fault.retryAfterSeconds ?? 1)
        })
      case "500":
        return sendJson(response, 500, apiError("The server had an error.", "server_error", null))
      case "503":
        return sendJson(
          response,
          503,
          apiError("The engine is currently overloaded.", "server_error", null),
          fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) }
        )
      case "hang":
        return
      case "wrong-content-type": {
        const page = "<!doctype html><html><body><h1>Welcome</h1><p>This is not an API.</p></body></html>"
        response.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(page) })
        return response.end(page)
      }
      default:
        break
    }

    const reply = replies.shift() ?? options.respond?.(body) ?? defaultReply(body, id)
    const answer = toAnswer(reply, body, id)
    const model = body.model ?? models[0] ?? "fake-model"
    const created = Math.floor(Date.now() / 1000)
    const finishReason = answer.toolCalls.length > 0 ? "tool_calls" : "stop"
    const usage = {
      prompt_tokens: answer.promptTokens,
      completion_tokens: answer.completionTokens,
      total_tokens: answer.promptTokens + answer.completionTokens
    }

    if (!stream) {
      const completion = wire === "responses" ? FakeResponses.responseOf(answer, model, id) : {
        id: `chatcmpl-fake-${id}`,
        object: "chat.completion",
        created,
        model,
        choices: [{
          index: 0,
          message: {
            role: "assistant",
            content: answer.toolCalls.length > 0 && answer.text === "" ? null : answer.text,
            ...(answer.toolCalls.length === 0 ? {} : {
              tool_calls: answer.toolCalls.map((call) => ({
                id: call.id,
                type: "function",
                function: { name: call.name, arguments: call.arguments }
              }))
            })
          },
          finish_reason: finishReason
        }],
        usage
      }
      const text = JSON.stringify(completion)
      if (fault?.kind === "malformed-json") {
        const broken = text.slice(0, Math.floor(text.length / 2))
        response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(broken) })
        return response.end(broken)
      }
      if (fault?.kind === "cut-stream") {
        response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
        await write(response, text.slice(0, Math.floor(text.length / 2)))
        return response.destroy()
      }
      report(answer)
      return sendJson(response, 200, completion)
    }

    const chunk = (delta: unknown, finish: string | null = null) =>
      JSON.stringify({
        id: `chatcmpl-fake-${id}`,
        object: "chat.completion.chunk",
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finish }]
      })
    const events: Array<string> = [chunk({ role: "assistant", content: "" })]
    for (const piece of pieces(answer.text)) events.push(chunk({ content: piece }))
    answer.toolCalls.forEach((call, index) => {
      events.push(chunk({
        tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }]
      }))
      const half = Math.ceil(call.arguments.length / 2)
      for (const part of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
        if (part !== "") events.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }))
      }
    })
    events.push(chunk({}, finishReason))
    const includeUsage = body.stream_options?.include_usage === true
    if (includeUsage) {
      events.push(JSON.stringify({ id: `chatcmpl-fake-${id}`, object: "chat.completion.chunk", created, model, choices: [], usage }))
    }
    events.push("[DONE]")

    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
    const cutAfter = fault?.kind === "cut-stream" ? Math.max(1, fault.afterChunks ?? 2) : Number.POSITIVE_INFINITY
    for (let i = 0; i < events.length; i++) {
      if (response.destroyed) return
      if (i >= cutAfter) return response.destroy()
      if (fault?.kind === "malformed-json" && i === 1) {
        response.write(`data: {"choices": [{"delta": {"content": "unterminated\n\n`)
        return response.end()
      }
      await write(response, `data: ${events[i]}\n\n`)
      if (chunkDelayMs > 0) await sleep(chunkDelayMs, response)
    }
    if (includeUsage) report(answer)
    response.end()
  }

  const server = Http.createServer((request, response) => {
    counters.requests++
    const path = new URL(request.url ?? "/", "http://fake").pathname.replace(/\/+$/, "")
    if (request.method === "GET" && path === "/v1/models") {
      return sendJson(response, 200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "colony-fake" }))
      })
    }
    if (request.method === "POST" && path === "/v1/chat/completions") {
      chat(request, response).catch(() => response.destroy())
      return
    }
    if (request.method === "POST" && path === "/v1/responses") {
      chat(request, response, "responses").catch(() => response.destroy())
      return
    }
    sendJson(response, 404, apiError(`No route ${request.method} ${path}; this fake serves /v1/chat/completions, /v1/responses and /v1/models.`, "invalid_request_error", "not_found"))
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address

  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    script: (...more) => {
      replies.push(...more)
    },
    inject: (fault, times = 1) => {
      for (let i = 0; i < times; i++) pending.push(toFault(fault))
    },
    setFaultRate: (rate, faults) => {
      faultRate = rate
      if (faults !== undefined) rateFaults = faults.map(toFault)
    },
    setLatency: (ms) => {
      latencyMs = ms
    },
    stats: () => ({ ...counters, faults: { ...counters.faults }, usage: { ...counters.usage } }),
    requests: () => [...recorded],
    reset: () => {
      replies = []
      pending = []
      recorded = []
      counters = {
        requests: 0,
        chatRequests: 0,
        streamRequests: 0,
        inFlight: counters.inFlight,
        maxInFlight: counters.inFlight,
        faults: zeroFaults(),
        usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 }
      }
    },
    waitForRequests: (count) => waitUntil(() => counters.chatRequests >= count),
    waitForIdle: () => waitUntil(() => counters.inFlight === 0),
    close: () =>
      new Promise<void>((resolve) => {
        // Hung requests would keep `close` waiting forever.
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * A fake server for the life of the scope.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<Server, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(options)),
    (server) => Effect.promise(() => server.close())
  )

/**
 * The fake server as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<FakeOpenAI> => Layer.scoped(FakeOpenAI, make(options))
