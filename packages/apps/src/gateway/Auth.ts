/**
 * Who may call what on the gateway.
 *
 * Every route declares its access: `public`, or the scope a caller needs (`client` <
 * `operator` < `admin`). The check runs on the router's match, inside the matched route, so a path
 * trick (`;`, `%2F`, a trailing segment) can only reach a route that makes the same check.
 *
 * Credentials:
 * - **API keys** (`COLONY_GATEWAY_KEYS`): `admin:<key>`, `operator:<key>`, `client:<key>`; a key
 *   without a prefix is `admin`. The subject of a key is its fingerprint.
 * - **Customer tokens**: short-lived, signed, bound to one subject (a customer), scope `client`;
 *   minted with `POST /auth/tokens` by an operator or admin (or `Credentials.mintToken` in an
 *   application's own sign-in). Signed with `COLONY_GATEWAY_TOKEN_SECRET`, which gateways that
 *   share callers must share.
 * - **Tickets**: one-use, 60-second credentials for what a browser cannot send a header with
 *   (WebSocket, `EventSource`): `POST /auth/tickets`, then `?ticket=` on those routes only.
 * - **A session cookie** for a gateway started without keys: it makes an admin key for the run and
 *   prints a one-use sign-in URL that sets an HttpOnly, SameSite=Strict cookie.
 *
 * Sessions, conversations and A2A tasks of `client` callers live in a namespace of their subject
 * (`namespaced`): another client's ids cannot name them. Operators and admins use ids as given.
 *
 * @since 0.1.0
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Headers from "@effect/platform/Headers"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { Refusal } from "./ErrorResponse.js"
import type { Settings } from "./GatewayConfig.js"
import * as RateLimit from "./RateLimit.js"

// --- scopes and callers ---

/**
 * What a credential may do: `client` calls served agents and presets and sees its own sessions,
 * conversations and tasks; `operator` also sees everyone's, runs applications' dashboards and
 * mints customer tokens; `admin` may do everything.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "client" | "operator" | "admin"

/**
 * @since 0.1.0
 * @category models
 */
export const Scope = Schema.Literal("client", "operator", "admin")

/**
 * What a route asks of its caller.
 *
 * @since 0.1.0
 * @category models
 */
export type Access = "public" | Scope

const rank: Record<Scope, number> = { client: 0, operator: 1, admin: 2 }

/**
 * An authenticated caller.
 *
 * @since 0.1.0
 * @category models
 */
export class Caller extends Schema.Class<Caller>("@colony/apps/gateway/Caller")({
  /** `key:<fingerprint>`, `customer:<subject>`, ... — stable for one credential holder */
  subject: Schema.String,
  scope: Scope,
  /** the verified customer of a customer token: the subject it was minted for */
  customer: Schema.NullOr(Schema.String)
}) {}

/**
 * The caller of the current request; public routes see `None` when no credential was sent.
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentCaller extends Context.Tag("@colony/apps/gateway/CurrentCaller")<
  CurrentCaller,
  Option.Option<Caller>
>() {}

/**
 * Whether `caller` has at least `scope`.
 *
 * @since 0.1.0
 */
export const grants = (caller: Caller, scope: Scope): boolean => rank[caller.scope] >= rank[scope]

/**
 * Whether `caller` sees everyone's sessions, conversations and tasks.
 *
 * @since 0.1.0
 */
export const isStaff = (caller: Caller): boolean => grants(caller, "operator")

const shortHash = (value: string) => createHash("sha256").update(value).digest("base64url").slice(0, 16)

/**
 * The prefix of a client caller's ids: derived from the subject, fixed length, so two subjects'
 * namespaces never overlap whatever ids they choose.
 *
 * @since 0.1.0
 */
export const namespaceOf = (caller: Caller): string => `c-${shortHash(caller.subject).replace(/[^A-Za-z0-9]/g, "x")}-`

/**
 * The id a caller's `id` has in the colony: a client's ids live in its own namespace; staff use
 * ids as given.
 *
 * @since 0.1.0
 */
export const namespaced = (caller: Caller, id: string): string => isStaff(caller) ? id : `${namespaceOf(caller)}${id}`

/**
 * The caller's own name for a colony id, `None` if the id is not in its namespace.
 *
 * @since 0.1.0
 */
export const ownName = (caller: Caller, id: string): Option.Option<string> => {
  if (isStaff(caller)) return Option.some(id)
  const prefix = namespaceOf(caller)
  return id.startsWith(prefix) ? Option.some(id.slice(prefix.length)) : Option.none()
}

// --- signed values ---

const TOKEN_PREFIX = "v1."

const Claims = Schema.Struct({
  kind: Schema.Literal("token", "ticket", "session", "caller"),
  sub: Schema.String,
  scope: Scope,
  customer: Schema.NullOr(Schema.String),
  /** expiry, in ms since the epoch; 0 never expires (values signed with a per-process key only) */
  exp: Schema.Number,
  jti: Schema.optional(Schema.String)
})
type Claims = typeof Claims.Type

const decodeClaims = Schema.decodeUnknownEither(Schema.parseJson(Claims))

const mac = (key: Buffer, body: string) => createHmac("sha256", key).update(`colony-gateway-v1.${body}`).digest()

const seal = (key: Buffer, claims: Claims): string => {
  const body = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url")
  return `${TOKEN_PREFIX}${body}.${mac(key, body).toString("base64url")}`
}

const open = (key: Buffer, value: string): Claims | undefined => {
  if (!value.startsWith(TOKEN_PREFIX) || value.length > 4096) return undefined
  const [body, signature, ...rest] = value.slice(TOKEN_PREFIX.length).split(".")
  if (body === undefined || signature === undefined || rest.length > 0) return undefined
  const given = Buffer.from(signature, "base64url")
  const expected = mac(key, body)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const claims = decodeClaims(Buffer.from(body, "base64url").toString("utf8"))
  return Either.isRight(claims) ? claims.right : undefined
}

// --- credentials ---

/**
 * An API key from `COLONY_GATEWAY_KEYS`, with its scope.
 *
 * @since 0.1.0
 * @category models
 */
export interface Key {
  readonly scope: Scope
  readonly digest: Buffer
  readonly subject: string
}

const digest = (value: string) => createHash("sha256").update(value).digest()

/**
 * Read one entry of `COLONY_GATEWAY_KEYS`: `scope:key`, or a bare key (admin).
 *
 * @since 0.1.0
 */
export const parseKey = (entry: string): Key => {
  const match = /^(admin|operator|client):(.+)$/.exec(entry)
  const scope: Scope = match === null ? "admin" : match[1] as Scope
  const key = match === null ? entry : match[2]!
  const hash = digest(key)
  return { scope, digest: hash, subject: `key:${hash.toString("hex").slice(0, 12)}` }
}

/** Why a request carries no usable credential. */
type Identified =
  | { readonly _tag: "Caller"; readonly caller: Caller }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Invalid"; readonly reason: string }

/**
 * The gateway's credentials, limits and signing keys. The limits are taken from the `RateLimiter`
 * the layer is given (`RateLimit`).
 *
 * @since 0.1.0
 * @category tags
 */
export class Credentials extends Context.Tag("@colony/apps/gateway/Credentials")<Credentials, {
  readonly settings: Settings
  /** who sent `request`; `ticket`: accept a `?ticket=` (routes a browser opens without headers) */
  readonly identify: (request: HttpServerRequest.HttpServerRequest, options: { readonly ticket: boolean }) => Effect.Effect<Identified>
  /** take one request of `subject`'s rate limit */
  readonly take: (subject: string) => Effect.Effect<RateLimit.Decision>
  /** a customer token for `subject`, valid `ttlSeconds` */
  readonly mintToken: (subject: string, ttlSeconds: number) => Effect.Effect<{ readonly token: string; readonly expiresAt: number }>
  /** a one-use ticket acting as `caller` for 60 s */
  readonly mintTicket: (caller: Caller) => Effect.Effect<{ readonly ticket: string; readonly expiresAt: number }>
  /** exchange the one-use sign-in code of a gateway without keys for a session cookie value */
  readonly login: (code: string) => Effect.Effect<Option.Option<{ readonly cookie: string; readonly maxAgeSeconds: number }>>
  /** a session cookie value acting as `caller` */
  readonly session: (caller: Caller) => Effect.Effect<{ readonly cookie: string; readonly maxAgeSeconds: number }>
  /** `caller`, sealed with a key of this process, to travel in a header to the RPC handlers */
  readonly sealCaller: (caller: Caller) => string
  readonly openCaller: (value: string) => Option.Option<Caller>
}>() {}

/**
 * How long a ticket lives.
 *
 * @since 0.1.0
 */
export const ticketSeconds = 60

/**
 * How long a sign-in cookie lives.
 *
 * @since 0.1.0
 */
export const sessionSeconds = 12 * 3600

/**
 * The longest customer token `POST /auth/tokens` mints.
 *
 * @since 0.1.0
 */
export const maxTokenSeconds = 7 * 24 * 3600

/**
 * The session cookie's name.
 *
 * @since 0.1.0
 */
export const cookieName = "colony_session"

const bearer = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const header = request.headers["authorization"]
  if (header === undefined) return undefined
  const match = /^Bearer\s+(.+)$/i.exec(header.trim())
  return match?.[1]?.trim() ?? ""
}

const queryParam = (url: string, name: string): string | undefined => {
  const query = url.indexOf("?")
  if (query < 0) return undefined
  try {
    return new URLSearchParams(url.slice(query + 1)).get(name) ?? undefined
  } catch {
    return undefined
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (settings: Settings): Layer.Layer<Credentials, never, RateLimiter.RateLimiter> =>
  Layer.effect(Credentials, Effect.map(RateLimit.make(settings.rateLimit), (limiter) => {
    const keys = settings.keys.map((key) => parseKey(Redacted.value(key)))
    const tokenKey = Option.match(settings.tokenSecret, {
      onNone: () => randomBytes(32),
      onSome: (secret) => Buffer.from(Redacted.value(secret), "utf8")
    })
    // Callers sealed for the RPC handlers never leave this process: a key of its own.
    const callerKey = randomBytes(32)
    // tickets are one-use: remembered until they expire
    const usedTickets = new Map<string, number>()
    let loginCode = Option.map(settings.loginCode, Redacted.value)

    const fromClaims = (claims: Claims) => new Caller({ subject: claims.sub, scope: claims.scope, customer: claims.customer })

    const verify = (value: string, kind: Claims["kind"], now: number): Claims | undefined => {
      const claims = open(tokenKey, value)
      return claims !== undefined && claims.kind === kind && claims.exp > now ? claims : undefined
    }

    const identify = (request: HttpServerRequest.HttpServerRequest, options: { readonly ticket: boolean }) =>
      Effect.map(Clock.currentTimeMillis, (now): Identified => {
        const presented = bearer(request)
        if (presented !== undefined) {
          if (presented.startsWith(TOKEN_PREFIX)) {
            const claims = verify(presented, "token", now)
            return claims === undefined
              ? { _tag: "Invalid", reason: "the token is not valid or has expired; ask for a new one" }
              : { _tag: "Caller", caller: fromClaims(claims) }
          }
          const hash = digest(presented)
          let found: Key | undefined
          for (const key of keys) if (timingSafeEqual(key.digest, hash)) found = key
          return found === undefined
            ? {
              _tag: "Invalid",
              reason: "the API key is not valid for this gateway. Check the key, or ask the operator for one (COLONY_GATEWAY_KEYS)."
            }
            : { _tag: "Caller", caller: new Caller({ subject: found.subject, scope: found.scope, customer: null }) }
        }
        if (options.ticket) {
          const ticket = queryParam(request.url, "ticket")
          if (ticket !== undefined) {
            const claims = verify(ticket, "ticket", now)
            if (claims === undefined || claims.jti === undefined || usedTickets.has(claims.jti)) {
              return { _tag: "Invalid", reason: "the ticket is not valid, was used already or has expired; get a new one with POST /auth/tickets" }
            }
            for (const [jti, exp] of usedTickets) if (exp <= now) usedTickets.delete(jti)
            usedTickets.set(claims.jti, claims.exp)
            return { _tag: "Caller", caller: fromClaims(claims) }
          }
        }
        const cookie = request.cookies[cookieName]
        if (cookie !== undefined) {
          const claims = verify(cookie, "session", now)
          return claims === undefined
            ? { _tag: "Invalid", reason: "the sign-in has expired; sign in again with the URL the gateway printed" }
            : { _tag: "Caller", caller: fromClaims(claims) }
        }
        return { _tag: "Missing" }
      })

    return Credentials.of({
      settings,
      identify,
      take: limiter.take,
      mintToken: (subject, ttlSeconds) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expiresAt = now + ttlSeconds * 1000
          return {
            token: seal(tokenKey, { kind: "token", sub: `customer:${subject}`, scope: "client", customer: subject, exp: expiresAt }),
            expiresAt
          }
        }),
      mintTicket: (caller) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expiresAt = now + ticketSeconds * 1000
          return {
            ticket: seal(tokenKey, {
              kind: "ticket",
              sub: caller.subject,
              scope: caller.scope,
              customer: caller.customer,
              exp: expiresAt,
              jti: randomBytes(16).toString("base64url")
            }),
            expiresAt
          }
        }),
      login: (code) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          if (Option.isNone(loginCode)) return Option.none()
          const expected = digest(loginCode.value)
          if (!timingSafeEqual(expected, digest(code))) return Option.none()
          loginCode = Option.none()
          const admin = keys.find((key) => key.scope === "admin")
          return Option.some({
            cookie: seal(tokenKey, {
              kind: "session",
              sub: admin?.subject ?? "local-admin",
              scope: "admin",
              customer: null,
              exp: now + sessionSeconds * 1000
            }),
            maxAgeSeconds: sessionSeconds
          })
        }),
      session: (caller) =>
        Effect.map(Clock.currentTimeMillis, (now) => ({
          cookie: seal(tokenKey, {
            kind: "session",
            sub: caller.subject,
            scope: caller.scope,
            customer: caller.customer,
            exp: now + sessionSeconds * 1000
          }),
          maxAgeSeconds: sessionSeconds
        })),
      sealCaller: (caller) =>
        seal(callerKey, { kind: "caller", sub: caller.subject, scope: caller.scope, customer: caller.customer, exp: 0 }),
      openCaller: (value) => {
        const claims = open(callerKey, value)
        return claims === undefined || claims.kind !== "caller" ? Option.none() : Option.some(fromClaims(claims))
      }
    })
  }))

// --- refusals ---

const unauthorized = (message: string) =>
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

// --- routes ---

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

// --- the /auth routes (declared in `GatewayApi`) ---

/**
 * The body of `POST /auth/tokens`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenRequest = Schema.Struct({
  subject: Schema.String.pipe(
    Schema.minLength(1),
    Schema.maxLength(200),
    Schema.pattern(/^[^\s\u0000-\u001f]+$/, { message: () => "a subject has no spaces or control characters" })
  ),
  ttlSeconds: Schema.optionalWith(
    Schema.Int.pipe(Schema.between(1, maxTokenSeconds)),
    { default: () => 3600 }
  )
}).annotations({ examples: [{ subject: "customer@example.com", ttlSeconds: 3600 }] })

/**
 * A customer token minted by `POST /auth/tokens`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MintedToken = Schema.Struct({
  token: Schema.String,
  subject: Schema.String,
  scope: Schema.Literal("client"),
  expiresAt: Schema.String
})

/**
 * A ticket minted by `POST /auth/tickets`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MintedTicket = Schema.Struct({ ticket: Schema.String, expiresAt: Schema.String })

/**
 * Whether a browser is signed in, after `POST` or `DELETE /auth/session`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SignedIn = Schema.Struct({ signedIn: Schema.Boolean, expiresInSeconds: Schema.optional(Schema.Number) })

// Minted credentials are never cached on the way.
const noStore = HttpApp.appendPreResponseHandler((_, response) =>
  Effect.succeed(HttpServerResponse.setHeader(response, "cache-control", "no-store"))
)

const setCookie = (value: string) =>
  HttpApp.appendPreResponseHandler((_, response) => Effect.succeed(HttpServerResponse.setHeader(response, "set-cookie", value)))

/**
 * `POST /auth/tokens` (operator): a customer token for `subject`.
 *
 * @since 0.1.0
 */
export const mintToken = (body: typeof TokenRequest.Type) => Effect.gen(function*() {
  const credentials = yield* Credentials
  const minted = yield* credentials.mintToken(body.subject, body.ttlSeconds)
  yield* noStore
  return {
    token: minted.token,
    subject: body.subject,
    scope: "client" as const,
    expiresAt: new Date(minted.expiresAt).toISOString()
  }
})

/**
 * `POST /auth/tickets` (any caller): a one-use ticket acting as the caller for a WebSocket or an
 * event stream.
 *
 * @since 0.1.0
 */
export const mintTicket = Effect.gen(function*() {
  const credentials = yield* Credentials
  const minted = yield* credentials.mintTicket(yield* caller)
  yield* noStore
  return { ticket: minted.ticket, expiresAt: new Date(minted.expiresAt).toISOString() }
})

// Only a path of this gateway: "//host" or "/\host" would send the browser elsewhere.
const safeNext = (next: string | undefined, home: string) =>
  next !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : home

const cookieHeader = (settings: Settings, value: string, maxAgeSeconds: number) =>
  `${cookieName}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${
    Option.isSome(settings.tlsCert) ? "; Secure" : ""
  }`

/**
 * `GET /auth/login?code=&next=`: the one-use sign-in link of a gateway without keys, which sets
 * the session cookie and lands on `next` (a path of this gateway) or `home`.
 *
 * @since 0.1.0
 */
export const login = (home: string, query: { readonly code?: string | undefined; readonly next?: string | undefined }) =>
  Effect.gen(function*() {
    const credentials = yield* Credentials
    const session = yield* credentials.login(query.code ?? "")
    if (Option.isNone(session)) {
      return yield* unauthorized(
        "this sign-in link is not valid or was used already; restart the gateway for a new one, or use an API key"
      )
    }
    return HttpServerResponse.empty({
      status: 303,
      headers: {
        location: safeNext(query.next, home),
        "set-cookie": cookieHeader(credentials.settings, session.value.cookie, session.value.maxAgeSeconds),
        "cache-control": "no-store",
        "referrer-policy": "no-referrer"
      }
    })
  })

/**
 * `POST /auth/session` (operator): a staff member's browser signs in with a key once (sent in a
 * header, by the page's sign-in form) and keeps an HttpOnly cookie instead of the key.
 *
 * @since 0.1.0
 */
export const signIn = Effect.gen(function*() {
  const credentials = yield* Credentials
  const session = yield* credentials.session(yield* caller)
  yield* setCookie(cookieHeader(credentials.settings, session.cookie, session.maxAgeSeconds))
  yield* noStore
  return { signedIn: true, expiresInSeconds: session.maxAgeSeconds }
})

/**
 * `DELETE /auth/session` (public): clears the session cookie.
 *
 * @since 0.1.0
 */
export const signOut = Effect.gen(function*() {
  const credentials = yield* Credentials
  yield* setCookie(cookieHeader(credentials.settings, "", 0))
  yield* noStore
  return { signedIn: false }
})
