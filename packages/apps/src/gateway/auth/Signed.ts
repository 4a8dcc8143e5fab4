/**
 * Values the gateway signs (tokens, tickets, session cookies, sealed callers): claims in JSON,
 * HMAC-SHA-256 under a key, checked in constant time.
 */
import { Either, Schema } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { Scope } from "./Callers.js"

export const TOKEN_PREFIX = "v1."

const Claims = Schema.Struct({
  kind: Schema.Literal("token", "ticket", "session", "caller"),
  sub: Schema.String,
  scope: Scope,
  customer: Schema.NullOr(Schema.String),
  /** expiry, in ms since the epoch; 0 never expires (values signed with a per-process key only) */
  exp: Schema.Number,
  jti: Schema.optional(Schema.String)
})
export type Claims = typeof Claims.Type

const decodeClaims = Schema.decodeUnknownEither(Schema.parseJson(Claims))

const mac = (key: Buffer, body: string) => createHmac("sha256", key).update(`colony-gateway-v1.${body}`).digest()

export const seal = (key: Buffer, claims: Claims): string => {
  const body = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url")
  return `${TOKEN_PREFIX}${body}.${mac(key, body).toString("base64url")}`
}

export const open = (key: Buffer, value: string): Claims | undefined => {
  if (!value.startsWith(TOKEN_PREFIX) || value.length > 4096) return undefined
  const [body, signature, ...rest] = value.slice(TOKEN_PREFIX.length).split(".")
  if (body === undefined || signature === undefined || rest.length > 0) return undefined
  const given = Buffer.from(signature, "base64url")
  const expected = mac(key, body)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const claims = decodeClaims(Buffer.from(body, "base64url").toString("utf8"))
  return Either.isRight(claims) ? claims.right : undefined
}
