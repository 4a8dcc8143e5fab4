/**
 * What the body of `POST /rpc` must be before the RPC server reads it: ndjson lines, each a
 * message of the RPC protocol whose request id is a number, whose headers are name/value pairs and
 * whose payload is the named RPC's. The RPC server would turn a malformed message into a defect
 * (and an empty 500 or an in-band "Cannot read properties of null"); checked here, it is a 400 that
 * names the line and what is wrong with it.
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

const Message = Schema.Union(
  Schema.Struct({
    _tag: Schema.Literal("Request"),
    id: Schema.String.pipe(Schema.pattern(/^\d{1,19}$/, { message: () => "a request id is a decimal number" })),
    tag: Schema.String,
    payload: Schema.Unknown,
    headers: Schema.Array(Header)
  }),
  Schema.Struct({ _tag: Schema.Literal("Ack", "Interrupt"), requestId: Schema.String }),
  Schema.Struct({ _tag: Schema.Literal("Ping", "Eof") })
)
const decodeMessage = Schema.decodeUnknownEither(Message)

const describe = (error: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => issue.path.length === 0 ? issue.message : `"${issue.path.join(".")}": ${issue.message}`)
    .join("; ")

/**
 * Why `text` is not a body of messages calling `rpcs`, if it is not.
 *
 * @since 0.1.0
 */
export const check = (rpcs: Rpcs, text: string): string | undefined => {
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line.length === 0) continue
    const parsed = JsonBody.parse(line)
    if (Either.isLeft(parsed)) return `line ${i + 1}: ${parsed.left.message}`
    const message = decodeMessage(parsed.right)
    if (Either.isLeft(message)) return `line ${i + 1} is not an RPC message: ${describe(message.left)}`
    if (message.right._tag !== "Request") continue
    const rpc = rpcs.get(message.right.tag)
    if (rpc === undefined) {
      return `line ${i + 1}: no RPC "${message.right.tag}"; the gateway's RPCs are ${[...rpcs.keys()].join(", ")}`
    }
    const payload = Schema.decodeUnknownEither(rpc.payloadSchema as Schema.Schema<unknown, unknown>)(message.right.payload)
    if (Either.isLeft(payload)) return `line ${i + 1}: invalid payload for ${message.right.tag}: ${describe(payload.left)}`
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
