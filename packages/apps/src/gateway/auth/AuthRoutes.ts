/**
 * The handlers of the `/auth` routes (declared in `GatewayApi`): customer tokens, one-use
 * tickets, and the sign-in cookie.
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Option, Schema } from "effect"
import type { Settings } from "../GatewayConfig.js"
import { cookieName, Credentials, maxTokenSeconds } from "./Credentials.js"
import { unauthorized } from "./Refusals.js"
import { caller } from "./Guard.js"

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
