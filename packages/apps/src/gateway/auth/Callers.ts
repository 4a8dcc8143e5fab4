/**
 * Who a caller is: its subject, its scope (`client` < `operator` < `admin`) and, for a customer,
 * the customer; and the namespace a client's own ids live in.
 */
import { Context, Option, Schema } from "effect"
import { createHash } from "node:crypto"

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
