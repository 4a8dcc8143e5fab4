/**
 * The gateway's robustness property (issue 17): whatever a caller with a valid key sends — any
 * body, name, header value or nesting, on any route — the answer is a 2xx, or a 4xx with a JSON
 * error in the route's shape, within a deadline, never a defect in band, and the gateway still
 * answers afterwards. Used by `gatewayProperties.test.ts` (a fixed seed, a bounded number of runs)
 * and by `gatewayProperties.run.ts` (a longer run that reports its violations).
 */
import * as fc from "fast-check"

/** One generated request. */
export interface Probe {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
}

const prototypeKeys = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"]

/** names of agents, models, presets and RPCs, real and not */
const name = fc.oneof(
  fc.constantFrom("writer", "agent:writer", "analyst", "default", "team:research", "agent:researcher"),
  fc.constantFrom(...prototypeKeys, ...prototypeKeys.map((key) => `team:${key}`), ...prototypeKeys.map((key) => `agent:${key}`)),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: "binary", maxLength: 24 })
)

/** text fields: plain, any code point, the troublesome ones, long */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", "\u0000", "a\u0000b", "line\u2028break", "\ud800", "\udc00x", "😀", "kund-ö", "\r\n", "x".repeat(300))
)

/** JSON text nested `depth` deep, in arrays or objects */
const nested = fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean()).map(([depth, arrays]) =>
  arrays ? "[".repeat(depth) + "1" + "]".repeat(depth) : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth)
)

// A JSON value as text: any value, a nested one, or a field of the right type with odd content.
const value = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: nested },
  { weight: 2, arbitrary: text.map((t) => JSON.stringify(t)) }
)

const object = (fields: ReadonlyArray<readonly [string, fc.Arbitrary<string>]>) =>
  fc.tuple(...fields.map(([key, field]) => fc.option(field, { freq: 5 }).map((v) => [key, v] as const))).map((pairs) =>
    `{${pairs.filter(([, v]) => v !== null).map(([key, v]) => `${JSON.stringify(key)}:${v}`).join(",")}}`
  )

const chatBody = object([
  ["model", fc.oneof(name.map((n) => JSON.stringify(n)), value)],
  [
    "messages",
    fc.oneof(
      fc.tuple(fc.constantFrom("user", "system", "assistant", "tool", "nobody"), fc.oneof(text.map((t) => JSON.stringify(t)), value))
        .map(([role, content]) => `[{"role":${JSON.stringify(role)},"content":${content}}]`),
      value
    )
  ],
  ["user", fc.oneof(text.map((t) => JSON.stringify(t)), value)],
  ["stream", fc.oneof(fc.boolean().map(String), value)]
])

// Well-formed calls with odd text in them, so the property also reaches the agents and the
// headers written after they answered.
const servedModel = fc.constantFrom("agent:writer", "writer", "default", "agent:analyst")

const validChat = fc.tuple(servedModel, text, fc.option(text, { freq: 4 }), fc.boolean()).map(([model, content, user, stream]) =>
  JSON.stringify({ model, messages: [{ role: "user", content }], ...(user === null ? {} : { user }), stream })
)

const validCall = fc.tuple(fc.nat({ max: 1000 }), text, text, fc.constantFrom("peer", "master-slave", "hybrid", "writer")).chain((
  [id, first, second, preset]
) =>
  fc.constantFrom(
    { tag: "Ask", payload: { agent: "writer", id: first, prompt: second } },
    { tag: "RunCollaboration", payload: { session: first, collaboration: preset, task: second } },
    { tag: "SessionStatus", payload: { session: first } },
    { tag: "ListAgents", payload: {} }
  ).map(({ payload, tag }) => JSON.stringify({ _tag: "Request", id: String(id), tag, payload, headers: [] }))
)

const rpcObject = object([
  ["_tag", fc.constantFrom("\"Request\"", "\"Ack\"", "\"Interrupt\"", "\"Ping\"", "\"Eof\"", "\"Nope\"", "1")],
  ["id", fc.oneof(fc.nat().map((n) => JSON.stringify(String(n))), value)],
  ["requestId", fc.oneof(fc.nat().map((n) => JSON.stringify(String(n))), value)],
  [
    "tag",
    fc.oneof(
      fc.constantFrom("ListAgents", "ListPresets", "Ask", "RunCollaboration", "SessionStatus", "CancelSession", "ListSessions")
        .map((t) => JSON.stringify(t)),
      name.map((n) => JSON.stringify(n))
    )
  ],
  [
    "payload",
    fc.oneof(
      object([["agent", name.map((n) => JSON.stringify(n))], ["id", text.map((t) => JSON.stringify(t))], ["prompt", value]]),
      object([
        ["session", text.map((t) => JSON.stringify(t))],
        ["collaboration", fc.oneof(name.map((n) => JSON.stringify(n)), value)],
        ["task", value]
      ]),
      value
    )
  ],
  ["headers", fc.oneof(fc.constant("[]"), fc.constant("{\"a\":\"b\"}"), value)]
])

/**
 * Messages for `/rpc/ws`, one a line: calls, malformed messages, anything. (Not `Eof`, which ends
 * the socket's calls as it should.)
 */
export const socketMessage: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: validCall },
  { weight: 2, arbitrary: rpcObject },
  { weight: 1, arbitrary: value },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }
).filter((line) => !/"_tag"\s*:\s*"Eof"/.test(line))

const rpcLine = fc.oneof(
  { weight: 2, arbitrary: validCall },
  { weight: 2, arbitrary: rpcObject },
  { weight: 1, arbitrary: value },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }
)

const a2aBody = object([
  ["jsonrpc", fc.oneof(fc.constant("\"2.0\""), value)],
  ["id", fc.oneof(fc.nat().map(String), value)],
  ["method", fc.oneof(fc.constantFrom("message/send", "message/stream", "tasks/get", "tasks/cancel").map((m) => JSON.stringify(m)), value)],
  [
    "params",
    fc.oneof(
      fc.tuple(text, fc.constantFrom("user", "agent", "x")).map(([t, role]) =>
        JSON.stringify({ message: { kind: "message", messageId: "m-1", role, parts: [{ kind: "text", text: t }] } })
      ),
      value
    )
  ]
])

/** header values a client can send: visible Latin-1, which is all HTTP allows */
const headerValue = fc.string({
  unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)),
  maxLength: 60
})

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  { weight: 1, arbitrary: fc.constantFrom("application/ndjson", "text/plain", "application/json; charset=latin1", "") }
)

const post = (path: fc.Arbitrary<string>, body: fc.Arbitrary<string>, type = contentType) =>
  fc.tuple(path, fc.oneof({ weight: 6, arbitrary: body }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }), type, headerValue).map(
    ([path, body, type, conversation]): Probe => ({
      method: "POST",
      path,
      headers: { ...(type === "" ? {} : { "content-type": type }), "x-colony-conversation": conversation },
      body
    })
  )

const segment = name.map((n) => encodeURIComponent(n))

/**
 * Requests to every route of the gateway, with generated bodies, names, header values and nesting.
 */
export const probe: fc.Arbitrary<Probe> = fc.oneof(
  post(fc.constant("/v1/chat/completions"), fc.oneof(validChat, chatBody)),
  post(
    fc.constant("/rpc"),
    fc.oneof(validCall, fc.array(rpcLine, { minLength: 1, maxLength: 3 }).map((lines) => lines.join("\n"))).map((body) => body + "\n"),
    fc.constant("application/ndjson")
  ),
  post(segment.map((agent) => `/a2a/${agent}`), a2aBody),
  post(fc.constant("/auth/tokens"), object([["subject", value], ["ttlSeconds", value], ["scope", value]])),
  post(fc.constant("/auth/tickets"), value),
  fc.tuple(
    fc.oneof(
      segment.map((agent) => `/a2a/${agent}/.well-known/agent-card.json`),
      fc.constantFrom("/v1/models", "/healthz", "/readyz", "/.well-known/agent-card.json")
    ),
    headerValue
  ).map(([path, conversation]): Probe => ({ method: "GET", path, headers: { "x-colony-conversation": conversation }, body: undefined }))
)

/** What a response broke of the property, if anything. */
export const violation = async (
  probe: Probe,
  response: Response
): Promise<string | undefined> => {
  const text = await response.text()
  if (response.status >= 500 || response.status < 200 || (response.status >= 300 && response.status < 400)) {
    return `status ${response.status}: ${text.slice(0, 200)}`
  }
  if (response.status >= 400) {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return `status ${response.status} without a JSON body: ${text.slice(0, 200)}`
    }
    const error = (body as { error?: { message?: unknown } } | null)?.error
    if (typeof error !== "object" || error === null || typeof error.message !== "string") {
      return `status ${response.status} without an error in the route's shape: ${text.slice(0, 200)}`
    }
    return undefined
  }
  // in band: a typed RPC failure is data, a defect is a bug
  if (probe.path === "/rpc" && /"_tag":"Die"|"_tag":"Defect"/.test(text)) return `a defect in band: ${text.slice(0, 300)}`
  return undefined
}

/** Send `probe` to the gateway at `url` with `key`, within `deadlineMs`; what it broke, if anything. */
export const check = async (url: string, key: string, probe: Probe, deadlineMs: number): Promise<string | undefined> => {
  let response: Response
  try {
    response = await fetch(`${url}${probe.path}`, {
      method: probe.method,
      headers: { ...probe.headers, authorization: `Bearer ${key}` },
      ...(probe.body === undefined ? {} : { body: probe.body }),
      signal: AbortSignal.timeout(deadlineMs)
    })
    return await violation(probe, response)
  } catch (error) {
    return `no answer within ${deadlineMs} ms: ${String(error)}`
  } finally {
    const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(deadlineMs) }).catch(() => undefined)
    if (health?.status !== 200) throw new Error(`the gateway stopped answering after ${probe.method} ${probe.path}`)
  }
}
