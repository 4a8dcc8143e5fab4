/**
 * What the body of `POST /rpc` must be before the RPC server reads it: ndjson lines, each a
 * message of the RPC protocol whose request id is a number, whose headers are name/value pairs and
 * whose payload is the named RPC's. The RPC server would turn a malformed message into a defect
 * (and an empty 500 or an in-band "Cannot read properties of null"); checked here, it is a 400 that
 * names the line and what is wrong with it. The messages of `/rpc/ws` pass the same check one by
 * one (`RpcSocket`).
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Either, ParseResult, Schema } from "effect"
import { error } from "./ErrorResponse.js"
import * as JsonBody from "./JsonBody.js"

/**
 * The RPCs a body may call, by tag (`RpcGroup.requests`).
 *
 * @since 0.1.0
 * @category models
 */
export type Rpcs = ReadonlyMap<string, { readonly payloadSchema: Schema.Schema.Any }>

const Header = Schema.Tuple(Schema.String, Schema.String)

// the RPC server reads ids with `BigInt`: anything else would be a defect there
const RequestId = Schema.String.pipe(Schema.pattern(/^\d{1,19}$/, { message: () => "a request id is a decimal number" }))

const Message = Schema.Union(
  Schema.Struct({
    _tag: Schema.Literal("Request"),
    id: RequestId,
    tag: Schema.String,
    payload: Schema.Unknown,
    headers: Schema.Array(Header)
  }),
  Schema.Struct({ _tag: Schema.Literal("Ack", "Interrupt"), requestId: RequestId }),
  Schema.Struct({ _tag: Schema.Literal("Ping", "Eof") })
)
const decodeMessage = Schema.decodeUnknownEither(Message)
const isRequestId = Schema.is(RequestId)

const describe = (error: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => issue.path.length === 0 ? issue.message : `"${issue.path.join(".")}": ${issue.message}`)
    .join("; ")

/**
 * Why one message is not one the RPC server can read, and the id of the request it meant to make
 * when it names one a reply can go to.
 *
 * @since 0.1.0
 * @category models
 */
export interface Invalid {
  readonly reason: string
  readonly requestId: string | undefined
}

/**
 * Why `line`, one message of the protocol's ndjson, is not a message calling `rpcs`, if it is not.
 * `Eof` is a message of the WebSocket only (`eof: false` refuses it).
 *
 * @since 0.1.0
 */
export const checkMessage = (
  rpcs: Rpcs,
  line: string,
  options: { readonly eof?: boolean | undefined } = {}
): Invalid | undefined => {
  const parsed = JsonBody.parse(line)
  if (Either.isLeft(parsed)) {
    const reason = parsed.left.code === "too_deep" ? `the message nests deeper than ${JsonBody.maxDepth} levels` : "the message is not JSON"
    return { reason, requestId: undefined }
  }
  const value = parsed.right
  const id = typeof value === "object" && value !== null && "_tag" in value && value._tag === "Request" && "id" in value &&
      isRequestId(value.id)
    ? value.id
    : undefined
  const message = decodeMessage(value)
  if (Either.isLeft(message)) return { reason: `not an RPC message: ${describe(message.left)}`, requestId: id }
  if (message.right._tag === "Eof" && options.eof === false) {
    return { reason: "Eof is not sent over HTTP: the end of the body ends the calls", requestId: undefined }
  }
  if (message.right._tag !== "Request") return undefined
  const rpc = rpcs.get(message.right.tag)
  if (rpc === undefined) {
    return { reason: `no RPC "${message.right.tag}"; the gateway's RPCs are ${[...rpcs.keys()].join(", ")}`, requestId: id }
  }
  const payload = Schema.decodeUnknownEither(rpc.payloadSchema as Schema.Schema<unknown, unknown>)(message.right.payload)
  if (Either.isLeft(payload)) return { reason: `invalid payload for ${message.right.tag}: ${describe(payload.left)}`, requestId: id }
  return undefined
}

/**
 * Why `text` is not a body of messages calling `rpcs`, if it is not.
 *
 * @since 0.1.0
 */
export const check = (rpcs: Rpcs, text: string): string | undefined => {
  // The RPC server parses every line up to the last newline, a blank one too (a defect there), and
  // drops what follows it without a word.
  const lines = text.split("\n")
  const rest = lines.pop()!
  if (rest.trim().length > 0) return `line ${lines.length + 1} does not end with a newline (ndjson ends every message with one)`
  if (lines.length === 0) return "the body has no message: send one RPC message a line, each ending with a newline"
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line.length === 0) return `line ${i + 1} is empty`
    // the HTTP transport ends the calls itself after the body; an Eof before that would end them
    // with the requests still running, and the response with a bare 503
    const invalid = checkMessage(rpcs, line, { eof: false })
    if (invalid !== undefined) return `line ${i + 1}: ${invalid.reason}`
  }
  return undefined
}

/**
 * Serve `app` (the RPC server's HTTP app) only with a body `check` accepts.
 *
 * @since 0.1.0
 */
export const checked = <E, R>(
  rpcs: Rpcs,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    // the request caches its text: the RPC server reads the same body again without a copy
    const text = yield* JsonBody.text(request)
    if (Either.isLeft(text)) return JsonBody.refused(text.left)
    const wrong = check(rpcs, text.right)
    if (wrong !== undefined) return error(400, `invalid RPC request: ${wrong}`, "invalid_request_error", "invalid_rpc")
    return yield* app
  })
