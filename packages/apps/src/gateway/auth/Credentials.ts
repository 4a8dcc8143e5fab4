/**
 * The gateway's credentials: API keys, customer tokens, one-use tickets, the sign-in cookie, and
 * callers sealed for the RPC handlers; which of them a request carries, and who it is.
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Clock, Context, Effect, Layer, Option, Redacted } from "effect"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { Settings } from "../GatewayConfig.js"
import * as RateLimit from "../RateLimit.js"
import { Caller, type Scope } from "./Callers.js"
import { type Claims, open, seal, TOKEN_PREFIX } from "./Signed.js"

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
export type Identified =
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

const fromClaims = (claims: Claims) => new Caller({ subject: claims.sub, scope: claims.scope, customer: claims.customer })

/**
 * Who a request says it is: a bearer key or token, else (on routes that take one) a ticket,
 * else the sign-in cookie. A ticket is spent when it is read.
 */
const identifier = (
  keys: ReadonlyArray<Key>,
  verify: (value: string, kind: Claims["kind"], now: number) => Claims | undefined,
  usedTickets: Map<string, number>
) =>
(request: HttpServerRequest.HttpServerRequest, options: { readonly ticket: boolean }) =>
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

    const verify = (value: string, kind: Claims["kind"], now: number): Claims | undefined => {
      const claims = open(tokenKey, value)
      return claims !== undefined && claims.kind === kind && claims.exp > now ? claims : undefined
    }

    const identify = identifier(keys, verify, usedTickets)

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
