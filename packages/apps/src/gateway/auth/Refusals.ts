/**
 * How the gateway refuses a caller: 401 without a valid credential, 403 without the scope, 429
 * over the rate limit, each in the gateway's JSON error shape.
 */
import { Refusal } from "../ErrorResponse.js"
import type { Settings } from "../GatewayConfig.js"
import type { Scope } from "./Callers.js"

export const unauthorized = (message: string) =>
  new Refusal({
    status: 401,
    message,
    type: "authentication_error",
    code: "invalid_api_key",
    headers: { "www-authenticate": "Bearer" }
  })

/**
 * The refusal of a caller without the scope a route needs.
 *
 * @since 0.1.0
 */
export const forbidden = (needed: Scope) =>
  new Refusal({
    status: 403,
    message: `this credential may not do this: it needs the "${needed}" scope. Ask the gateway's operator for a key with it.`,
    type: "permission_error",
    code: "insufficient_scope"
  })

/**
 * The refusal of a caller over its rate limit.
 *
 * @since 0.1.0
 */
export const rateLimited = (settings: Settings, retryAfterMs: number) => {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000))
  return new Refusal({
    status: 429,
    message: `rate limit of ${settings.rateLimit} requests per minute reached for this credential; retry in ${seconds} s.`,
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    headers: { "retry-after": String(seconds) }
  })
}
