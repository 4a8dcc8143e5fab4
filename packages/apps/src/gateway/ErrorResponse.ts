/**
 * The gateway's error response: OpenAI's shape (`{error: {message, type, code, param}}`), which
 * every route's clients can read — the OpenAI client, the typed client's HTTP layer, a browser
 * page, curl. Protocols with an error shape of their own (A2A's JSON-RPC) use theirs.
 *
 * @since 0.1.0
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Data, Schema } from "effect"

/**
 * An error response.
 *
 * @since 0.1.0
 */
export const error = (
  status: number,
  message: string,
  type: string,
  code: string | null,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson({ error: { message, type, code, param: null } }, { status, headers })

/**
 * The body of an error response, as a schema (the gateway's `HttpApi` declares it for each status
 * a route may refuse with).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Body = Schema.Struct({
  error: Schema.Struct({
    message: Schema.String,
    type: Schema.String,
    code: Schema.NullOr(Schema.String),
    param: Schema.Null
  })
})

/**
 * `Body` answered with `status`, for an `HttpApi` endpoint's errors.
 *
 * @since 0.1.0
 * @category schemas
 */
export const withStatus = (status: number, description: string) =>
  Body.annotations(HttpApiSchema.annotations({ status, description }))

/**
 * A refusal as a value: what a check fails with before a route's handler runs (no credential, no
 * scope, over the rate limit, an unreadable body), answered as `response`.
 *
 * @since 0.1.0
 * @category errors
 */
export class Refusal extends Data.TaggedError("Refusal")<{
  readonly status: number
  readonly message: string
  readonly type: string
  readonly code: string | null
  readonly headers?: Readonly<Record<string, string>> | undefined
}> {
  /** the body, so a refusal is a value of `Body` */
  get error() {
    return { message: this.message, type: this.type, code: this.code, param: null }
  }
  get response(): HttpServerResponse.HttpServerResponse {
    return error(this.status, this.message, this.type, this.code, { ...this.headers })
  }
}
