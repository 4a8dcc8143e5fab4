/**
 * The gateway's error response: OpenAI's shape (`{error: {message, type, code, param}}`), which
 * every route's clients can read — the OpenAI client, the typed client's HTTP layer, a browser
 * page, curl. Protocols with an error shape of their own (A2A's JSON-RPC) use theirs.
 *
 * @since 0.1.0
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"

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
