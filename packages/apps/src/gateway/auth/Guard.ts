/**
 * The check every route makes after the router matched it: its access, the caller's credential,
 * scope and rate limit; and the caller it gives the route's handler.
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Either, Option } from "effect"
import type { Refusal } from "../ErrorResponse.js"
import { type Access, type Caller, CurrentCaller, grants, type Scope } from "./Callers.js"
import { Credentials } from "./Credentials.js"
import { forbidden, rateLimited, unauthorized } from "./Refusals.js"

/**
 * The header that carries the sealed caller from a route to the RPC handlers.
 *
 * @since 0.1.0
 */
export const callerHeader = "x-colony-caller"

/**
 * @since 0.1.0
 * @category models
 */
export interface RouteOptions {
  /** accept a `?ticket=` (WebSocket and event-stream routes, which browsers open without headers) */
  readonly ticket?: boolean | undefined
  /** take one request of the rate limit here (off for `/rpc`, whose handlers take one per call) */
  readonly limit?: boolean | undefined
  /** pass the caller to RPC handlers in `callerHeader` */
  readonly sealCaller?: boolean | undefined
}

/**
 * The caller of `request` if it has `scope`: else a refusal — 401 without a credential, 403
 * without the scope, 429 over its rate limit. Failed attempts are limited by address too, so
 * keys cannot be guessed at full speed.
 *
 * @since 0.1.0
 */
export const authorize = (
  credentials: Credentials["Type"],
  request: HttpServerRequest.HttpServerRequest,
  scope: Scope,
  options: RouteOptions = {}
): Effect.Effect<Caller, Refusal> =>
  Effect.gen(function*() {
    const identified = yield* credentials.identify(request, { ticket: options.ticket === true })
    if (identified._tag !== "Caller") {
      const address = `address:${Option.getOrElse(request.remoteAddress, () => "unknown")}`
      const decision = yield* credentials.take(address)
      if (!decision.allowed) return yield* rateLimited(credentials.settings, decision.retryAfterMs)
      return yield* unauthorized(
        identified._tag === "Invalid"
          ? identified.reason
          : "no credential: send an API key or token as \"Authorization: Bearer <key>\"."
      )
    }
    const caller = identified.caller
    if (!grants(caller, scope)) return yield* forbidden(scope)
    if (options.limit !== false) {
      const decision = yield* credentials.take(caller.subject)
      if (!decision.allowed) return yield* rateLimited(credentials.settings, decision.retryAfterMs)
    }
    return caller
  })

/**
 * Guard `handler` by `access` (`authorize`): the check runs after the router matched this route,
 * so only the route itself decides whether it is public.
 *
 * @since 0.1.0
 */
export const route = <E, R>(
  access: Access,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  options: RouteOptions = {}
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  E,
  Exclude<R, CurrentCaller> | Credentials | HttpServerRequest.HttpServerRequest
> =>
  Effect.gen(function*() {
    const credentials = yield* Credentials
    const request = yield* HttpServerRequest.HttpServerRequest
    if (access === "public") {
      const identified = yield* credentials.identify(request, { ticket: options.ticket === true })
      const caller = identified._tag === "Caller" ? Option.some(identified.caller) : Option.none()
      return yield* Effect.provideService(handler, CurrentCaller, caller)
    }
    const authorized = yield* Effect.either(authorize(credentials, request, access, options))
    if (Either.isLeft(authorized)) return authorized.left.response
    const caller = authorized.right
    const passed = options.sealCaller === true
      ? request.modify({ headers: Headers.set(request.headers, callerHeader, credentials.sealCaller(caller)) })
      : request
    return yield* handler.pipe(
      Effect.provideService(CurrentCaller, Option.some(caller)),
      Effect.provideService(HttpServerRequest.HttpServerRequest, passed)
    )
  })

/**
 * The caller of a route that is not public.
 *
 * @since 0.1.0
 */
export const caller: Effect.Effect<Caller, never, CurrentCaller> = Effect.flatMap(
  CurrentCaller,
  Option.match({
    onSome: Effect.succeed,
    onNone: () => Effect.dieMessage("Auth.caller used on a public route: guard the route with a scope")
  })
)
