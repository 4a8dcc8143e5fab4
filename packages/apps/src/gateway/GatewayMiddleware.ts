/**
 * What every request passes before it reaches a route: the `Host` and `Origin` checks, JSON
 * bodies only, the body size limit, CORS and the request metrics. Refusals use OpenAI's error
 * shape, which every route's clients can read.
 *
 * @since 0.1.0
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cause, Clock, Effect, Either, FiberRef, Metric, Option } from "effect"
import { randomUUID } from "node:crypto"
import { isUtf8 } from "node:buffer"
import * as CountedBody from "./CountedBody.js"
import type { Settings } from "./GatewayConfig.js"
import * as GatewayMetrics from "./GatewayMetrics.js"
import { error } from "./ErrorResponse.js"

const loopbackNames = new Set(["localhost", "127.0.0.1", "[::1]", "::1"])
const loopbackHosts = new Set(["127.0.0.1", "::1", "localhost"])

/**
 * The host name of a `Host` header: without its port, lower case; `[v6]` keeps its brackets.
 *
 * @since 0.1.0
 */
export const hostName = (host: string): string => {
  const lower = host.trim().toLowerCase()
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1)
  const colon = lower.lastIndexOf(":")
  return colon < 0 ? lower : lower.slice(0, colon)
}

/**
 * The host names a gateway answers to: the configured ones, else (on loopback) the loopback
 * names, so a page whose own name a rebinding DNS points at 127.0.0.1 is refused.
 *
 * @since 0.1.0
 */
export const allowedHosts = (settings: Settings): ReadonlySet<string> | "any" => {
  if (settings.allowedHosts.includes("*")) return "any"
  if (settings.allowedHosts.length > 0) return new Set(settings.allowedHosts.map((h) => h.toLowerCase()))
  return loopbackHosts.has(settings.host) ? loopbackNames : "any"
}

// Bodies a browser may send to another site without asking it first (a CORS "simple" request):
// a JSON route that accepted them could be called by any page a user visits.
const jsonType = /^application\/(?:json|ndjson|[\w.+-]+\+json)\s*(?:;|$)/i

const hasBody = (method: string) => method !== "GET" && method !== "HEAD" && method !== "OPTIONS"

const charsetOf = (type: string): string | undefined =>
  /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(type)?.[1]

// Route labels of the metrics: the first segment of a served route (`/v1/chat/completions` and
// `/rpc/ws` keep theirs whole), so a caller cannot mint label values with paths.
const labelOf = (labels: ReadonlySet<string>, path: string) => {
  if (labels.has(path)) return path
  const first = /^\/[^/]*/.exec(path)?.[0] ?? "/"
  return first === "/.well-known" ? "/a2a" : labels.has(first) ? first : "other"
}

/**
 * The metric labels of a router's routes.
 *
 * @since 0.1.0
 */
export const labelsOf = (paths: ReadonlyArray<string>): ReadonlySet<string> =>
  new Set([
    ...paths.filter((path) => !path.includes(":") && !path.includes("*") && path.split("/").length <= 4),
    ...paths.map((path) => /^\/[^/:*]*/.exec(path)?.[0] ?? "/")
  ])

// The gateway's own pages: the origin names the host the request was sent to. The scheme is not
// compared, so a gateway behind a proxy that ends TLS still knows its pages.
const sameHost = (origin: string, host: string) => {
  try {
    return new URL(origin).host.toLowerCase() === host.trim().toLowerCase()
  } catch {
    return false
  }
}

const pathOf = (url: string) => {
  const query = url.search(/[?#]/)
  return query < 0 ? url : url.slice(0, query)
}

/**
 * Wrap the gateway's app with the checks every request passes before routing — `Host`,
 * `Origin`, JSON content type, body size — then CORS and the request metrics. Who may call a
 * route is decided by the route itself, after routing (`Auth.route`; `Access` on `GatewayApi`).
 *
 * @since 0.1.0
 */
export const make = (settings: Settings, labels: ReadonlySet<string>) => {
  const hosts = allowedHosts(settings)
  const origins = new Set(settings.corsOrigins)
  const scheme = Option.isSome(settings.tlsCert) ? "https" : "http"

  const guard = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const host = request.headers["host"]
      if (host === undefined || (hosts !== "any" && !hosts.has(hostName(host)))) {
        return error(
          403,
          `this gateway does not answer to the host "${host ?? ""}". Call it by one of its names, or add this one to COLONY_GATEWAY_ALLOWED_HOSTS.`,
          "permission_error",
          "host_not_allowed"
        )
      }
      const origin = request.headers["origin"]
      if (origin !== undefined && !sameHost(origin, host) && !origins.has(origin) && !origins.has("*")) {
        return error(
          403,
          `requests from the origin "${origin}" are not allowed. Serve the page from the gateway, or add its origin to COLONY_GATEWAY_CORS_ORIGINS.`,
          "permission_error",
          "origin_not_allowed"
        )
      }
      if (hasBody(request.method) && request.method !== "DELETE") {
        const type = request.headers["content-type"]
        if (type === undefined || !jsonType.test(type)) {
          return error(
            415,
            `send the body as JSON with "Content-Type: application/json" (got ${type === undefined ? "no content type" : `"${type}"`}).`,
            "invalid_request_error",
            "unsupported_media_type"
          )
        }
        const charset = charsetOf(type)
        if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
          return error(
            415,
            `send the JSON encoded as UTF-8 (got charset "${charset}"); JSON on the wire is UTF-8.`,
            "invalid_request_error",
            "unsupported_charset"
          )
        }
      }
      const declared = request.headers["content-length"]
      const tooLarge = (what: string) =>
        error(
          413,
          `${what} this gateway's limit of ${settings.maxBodyBytes} bytes (COLONY_GATEWAY_MAX_BODY_BYTES). Send less.`,
          "invalid_request_error",
          "request_too_large",
          { connection: "close" }
        )
      const length = Number(declared ?? "0")
      if (length > settings.maxBodyBytes) return tooLarge(`the request body is ${length} bytes, over`)
      const chunked = declared === undefined && request.headers["transfer-encoding"] !== undefined
      if (!hasBody(request.method) || (length === 0 && !chunked)) {
        return yield* HttpIncomingMessage.withMaxBodySize(app, Option.some(settings.maxBodyBytes))
      }
      // A body is read here, with a running count up to the limit (the platform's reader would cut
      // the connection at the limit instead of answering, for a body of unknown length), and
      // checked to be UTF-8: the platform's decoder would put U+FFFD for each bad byte and the
      // route would act on text the caller never sent.
      const body = yield* CountedBody.read(request, settings.maxBodyBytes)
      if (Either.isLeft(body)) {
        return body.left === "too_large"
          ? tooLarge("the request body (sent without a length) runs past")
          : error(400, "could not read the request body: the connection failed while sending it", "invalid_request_error", "unreadable_body")
      }
      if (!isUtf8(body.right)) {
        return error(
          400,
          "the request body is not valid UTF-8; send JSON encoded as UTF-8.",
          "invalid_request_error",
          "invalid_encoding"
        )
      }
      return yield* Effect.provideService(app, HttpServerRequest.HttpServerRequest, CountedBody.withBody(request, body.right))
    })

  // The platform's own server span records the full URL (`url.full`, `url.query`), which may hold
  // a ticket or a sign-in code: the gateway turns it off (`Gateway.layerServe`) and records the
  // path only.
  const traced = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.useSpan(
        `http.server ${request.method}`,
        {
          parent: Option.getOrUndefined(HttpTraceContext.fromHeaders(request.headers)),
          kind: "server",
          captureStackTrace: false,
          attributes: {
            "http.request.method": request.method,
            "url.path": pathOf(request.url),
            "url.scheme": scheme
          }
        },
        (span) =>
          Effect.tap(
            Effect.withParentSpan(app, span),
            (response) => Effect.sync(() => span.attribute("http.response.status_code", response.status))
          )
      ))

  const measured = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const route = labelOf(labels, pathOf(request.url))
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

  // Every response names its request (set as the response is sent: the platform writes the app's
  // response before a middleware sees it).
  const identified = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.suspend(() => {
      const id = randomUUID()
      return HttpApp.appendPreResponseHandler((_, response) =>
        Effect.succeed(HttpServerResponse.setHeader(response, "x-request-id", id))
      ).pipe(Effect.zipRight(Effect.locally(app, requestId, id)))
    })

  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => traced(identified(cors(measured(guard(app)))))
}

/**
 * The id of the request being served (`x-request-id` on its response).
 *
 * @since 0.1.0
 */
export const requestId: FiberRef.FiberRef<string> = FiberRef.unsafeMake("")

/**
 * Answer a failure no route answered in the gateway's error shape, logged under the request's id,
 * instead of the platform's empty 500.
 *
 * @since 0.1.0
 */
export const recover = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> =>
  Effect.catchAllCause(app, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.failCause(cause as Cause.Cause<never>)
      : Effect.gen(function*() {
        const id = yield* FiberRef.get(requestId)
        const request = yield* HttpServerRequest.HttpServerRequest
        yield* Effect.logError(`request ${id} (${request.method} ${pathOf(request.url)}) failed`, cause)
        return error(500, `the gateway failed on this request; its log names it ${id}`, "server_error", "internal_error")
      }))

/**
 * A response for a route that does not exist.
 *
 * @since 0.1.0
 */
export const notFound = HttpServerResponse.unsafeJson(
  {
    error: {
      message: "no such route; the gateway serves /v1/chat/completions, /v1/models, /rpc (HTTP), /rpc/ws (WebSocket), /healthz, " +
        "/readyz and /metrics; GET /openapi.json describes its HTTP routes",
      type: "not_found_error",
      code: "route_not_found",
      param: null
    }
  },
  { status: 404 }
)
