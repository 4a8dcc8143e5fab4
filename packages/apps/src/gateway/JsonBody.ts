/**
 * Reading a JSON request body the same way on every route: the bytes within the gateway's limit,
 * nesting no deeper than `maxDepth`, then `JSON.parse`. A body that fails any of it is a refusal
 * each route words in its own protocol's shape (an OpenAI error, a JSON-RPC error, ...).
 *
 * @since 0.1.0
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Either, Layer, ParseResult, Schema } from "effect"
import { error, Refusal as Refused, withStatus } from "./ErrorResponse.js"

/**
 * How deeply a request's JSON may nest. Deeper values are not read at all: a recursive decoder
 * would run out of stack on them.
 *
 * @since 0.1.0
 */
export const maxDepth = 64

/**
 * Why a body could not be read.
 *
 * @since 0.1.0
 * @category models
 */
export interface Refusal {
  readonly status: number
  readonly code: "unreadable_body" | "request_too_large" | "too_deep" | "invalid_json"
  readonly message: string
}

/**
 * The deepest nesting of arrays and objects in `text`, stopping as soon as it passes `limit`.
 * Brackets inside strings do not count.
 *
 * @since 0.1.0
 */
export const depthOf = (text: string, limit: number = maxDepth): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // a backslash escapes the next character
      else if (c === 34) inString = false
      continue
    }
    if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (c === 93 || c === 125) depth--
  }
  return deepest
}

/**
 * Parse `text` as JSON no deeper than `maxDepth`.
 *
 * @since 0.1.0
 */
export const parse = (text: string): Either.Either<unknown, Refusal> => {
  if (depthOf(text) > maxDepth) {
    return Either.left({ status: 400, code: "too_deep", message: `the request body nests deeper than ${maxDepth} levels` })
  }
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch (cause) {
    return Either.left({ status: 400, code: "invalid_json", message: `the request body is not valid JSON (${(cause as Error).message})` })
  }
}

/**
 * The request's body as text, within the gateway's limit.
 *
 * @since 0.1.0
 */
export const text = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<Either.Either<string, Refusal>> =>
  Effect.map(Effect.either(request.text), (text) =>
    Either.isRight(text)
      ? Either.right(text.right)
      : Either.left<Refusal>(
        String(text.left.cause ?? text.left.message).includes("maxBytes")
          ? { status: 413, code: "request_too_large", message: "the request body is over this gateway's limit (COLONY_GATEWAY_MAX_BODY_BYTES)" }
          : { status: 400, code: "unreadable_body", message: `could not read the request body: ${text.left.message}` }
      ))

/**
 * Read and parse the request's body.
 *
 * @since 0.1.0
 */
export const read = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<Either.Either<unknown, Refusal>> =>
  Effect.map(text(request), Either.flatMap(parse))

/**
 * Read the request's body as `schema`; a refusal is an error response in the gateway's shape
 * (`{error: {message, type, code}}`) that says what to send instead (`example`).
 *
 * @since 0.1.0
 */
export const decode = <A, I>(
  schema: Schema.Schema<A, I>,
  example: string
): Effect.Effect<Either.Either<A, HttpServerResponse.HttpServerResponse>, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const parsed = yield* read(yield* HttpServerRequest.HttpServerRequest)
    if (Either.isLeft(parsed)) return Either.left(refused(parsed.left, example))
    const decoded = Schema.decodeUnknownEither(schema)(parsed.right)
    if (Either.isRight(decoded)) return Either.right(decoded.right)
    const why = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
      .map((issue) => issue.path.length === 0 ? issue.message : `"${issue.path.join(".")}": ${issue.message}`)
      .join("; ")
    return Either.left(response(400, `invalid request body: ${why}. Send ${example}`, "invalid_request"))
  })

const response = (status: number, message: string, code: string) => error(status, message, "invalid_request_error", code)

/**
 * A refusal in the gateway's error shape.
 *
 * @since 0.1.0
 */
export const refused = (refusal: Refusal, example?: string) =>
  response(refusal.status, example === undefined ? refusal.message : `${refusal.message}. Send ${example}`, refusal.code)

/**
 * The middleware of a `GatewayApi` route with a JSON body: the body is read and checked here
 * (`application/json`, within the limit, not too deep, valid JSON), so the payload schema decodes a value and an
 * unreadable body is a 400 or 413 in the gateway's shape — never the platform's defect.
 *
 * @since 0.1.0
 * @category tags
 */
export class Readable extends HttpApiMiddleware.Tag<Readable>()("@colony/apps/gateway/JsonBody/Readable", {
  failure: Schema.Union(
    withStatus(400, "The body is not valid JSON, nests too deeply, or does not match the route's schema"),
    withStatus(413, "The body is over the gateway's limit (COLONY_GATEWAY_MAX_BODY_BYTES)"),
    withStatus(415, "The body is not sent as application/json")
  )
}) {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerReadable: Layer.Layer<Readable> = Layer.succeed(
  Readable,
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    // the platform decodes a payload as JSON only for this type (other types it reads as bytes,
    // from a body already read here)
    !(request.headers["content-type"] ?? "").toLowerCase().includes("application/json")
      ? new Refused({
        status: 415,
        message: `send the body as JSON with "Content-Type: application/json" (got "${request.headers["content-type"] ?? ""}").`,
        type: "invalid_request_error",
        code: "unsupported_media_type"
      })
      : Effect.flatMap(read(request), (parsed) =>
      Either.isRight(parsed)
        ? Effect.void
        : new Refused({
          status: parsed.left.status,
          message: parsed.left.message,
          type: "invalid_request_error",
          code: parsed.left.code
        })))
)
