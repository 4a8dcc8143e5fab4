/**
 * What every request passes before it reaches a route: CORS, API keys, the per-key rate limit,
 * the body size limit, and the request metrics. Refusals use OpenAI's error shape, which every
 * route's clients can read.
 *
 * @since 0.1.0
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Effect, Metric, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import type { Settings } from "./GatewayConfig.js"
import * as GatewayMetrics from "./GatewayMetrics.js"
import { error } from "./OpenAICompat.js"
import * as RateLimit from "./RateLimit.js"

/**
 * Routes anyone may call: probes and the metrics scrape.
 *
 * @since 0.1.0
 */
export const publicRoutes: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"])

/**
 * A2A agent cards are public, as the protocol expects: a card is how a caller learns that the
 * agent wants a key (its security scheme) before it has one. The endpoints behind them are not.
 */
const isAgentCard = (path: string) =>
  path === "/.well-known/agent-card.json" || (path.startsWith("/a2a/") && path.endsWith("/.well-known/agent-card.json"))

const routes = new Set([...publicRoutes, "/rpc", "/rpc/ws", "/v1/chat/completions", "/v1/models"])

// route labels of the metrics: a fixed set, so a caller cannot mint label values with paths
const routeLabel = (path: string) =>
  routes.has(path)
    ? path
    : path === "/a2a" || path.startsWith("/a2a/") || isAgentCard(path)
    ? "/a2a"
    : path === "/support" || path.startsWith("/support/")
    ? "/support"
    : "other"

const digest = (value: string) => createHash("sha256").update(value).digest()

/**
 * The key a request presents: `Authorization: Bearer <key>`, or (for browsers opening a
 * WebSocket, which cannot set headers) the `access_token` query parameter.
 *
 * @since 0.1.0
 */
export const presentedKey = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const header = request.headers["authorization"]
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim())
    return match?.[1]?.trim()
  }
  const query = request.url.indexOf("?")
  if (query < 0) return undefined
  return new URLSearchParams(request.url.slice(query + 1)).get("access_token") ?? undefined
}

/**
 * Wrap the gateway's app with CORS, authentication, rate limiting, the body limit and metrics.
 *
 * @since 0.1.0
 */
export const make = (settings: Settings) => {
  const limiter = RateLimit.make(settings.rateLimit)
  // Keys are compared as SHA-256 digests in constant time; the bucket of a key is named by a
  // short fingerprint, never by the key.
  const keys = settings.keys.map((key) => digest(Redacted.value(key)))
  const identify = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
    if (keys.length === 0) return `address:${Option.getOrElse(request.remoteAddress, () => "unknown")}`
    const presented = presentedKey(request)
    if (presented === undefined) return undefined
    const hash = digest(presented)
    return keys.some((key) => timingSafeEqual(key, hash)) ? `key:${hash.toString("hex").slice(0, 12)}` : undefined
  }

  const guard = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = request.url.split("?")[0]!
      if (publicRoutes.has(path) || isAgentCard(path)) return yield* app
      const caller = identify(request)
      if (caller === undefined) {
        const presented = presentedKey(request) !== undefined
        return error(
          401,
          presented
            ? "the API key is not valid for this gateway. Check the key, or ask the operator for one (COLONY_GATEWAY_KEYS)."
            : "no API key: send one as \"Authorization: Bearer <key>\".",
          "authentication_error",
          "invalid_api_key",
          { "www-authenticate": "Bearer" }
        )
      }
      const decision = yield* limiter.take(caller)
      if (!decision.allowed) {
        const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000))
        return error(
          429,
          `rate limit of ${settings.rateLimit} requests per minute reached for this key; retry in ${seconds} s.`,
          "rate_limit_error",
          "rate_limit_exceeded",
          { "retry-after": String(seconds) }
        )
      }
      const length = Number(request.headers["content-length"] ?? "0")
      if (length > settings.maxBodyBytes) {
        return error(
          413,
          `the request body is ${length} bytes, over this gateway's limit of ${settings.maxBodyBytes} bytes (COLONY_GATEWAY_MAX_BODY_BYTES). Send less.`,
          "invalid_request_error",
          "request_too_large"
        )
      }
      return yield* HttpIncomingMessage.withMaxBodySize(app, Option.some(settings.maxBodyBytes))
    })

  const measured = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = request.url.split("?")[0]!
      const route = routeLabel(path)
      const started = yield* Clock.currentTimeMillis
      const response = yield* Effect.onError(app, () =>
        Metric.increment(Metric.tagged(Metric.tagged(GatewayMetrics.requests, "route", route), "status", "500")))
      const elapsed = (yield* Clock.currentTimeMillis) - started
      yield* Metric.increment(
        Metric.tagged(Metric.tagged(GatewayMetrics.requests, "route", route), "status", String(response.status))
      )
      yield* Metric.update(Metric.tagged(GatewayMetrics.requestDuration, "route", route), elapsed / 1000)
      return response
    })

  const cors = settings.corsOrigins.length === 0
    ? <E, R>(app: HttpApp.Default<E, R>) => app
    : HttpMiddleware.cors({
      allowedOrigins: settings.corsOrigins.includes("*") ? ["*"] : settings.corsOrigins,
      allowedHeaders: ["authorization", "content-type", "x-colony-conversation"],
      exposedHeaders: ["retry-after", "x-colony-conversation"]
    })

  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => cors(measured(guard(app)))
}

/**
 * A response for a route that does not exist.
 *
 * @since 0.1.0
 */
export const notFound = HttpServerResponse.unsafeJson(
  {
    error: {
      message: "no such route; the gateway serves /v1/chat/completions, /v1/models, /rpc (HTTP), /rpc/ws (WebSocket), /healthz, /readyz and /metrics",
      type: "not_found_error",
      code: "route_not_found",
      param: null
    }
  },
  { status: 404 }
)
