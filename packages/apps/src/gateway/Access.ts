/**
 * Who may call a route of the gateway's `HttpApi` (`GatewayApi`), as its security middleware: a
 * route declares `Access.Client` or `Access.Operator` (a public route declares neither), and the
 * OpenAPI document lists the credentials each accepts — a bearer key or token in `Authorization`,
 * or the session cookie of a signed-in browser.
 *
 * The check is `Auth.authorize`, the same the router's routes make (`Auth.route`): it runs after
 * the route matched, so a path trick can only reach a route that makes the same check.
 *
 * @since 0.1.0
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as OpenApi from "@effect/platform/OpenApi"
import { Effect, Layer, Option, Schema } from "effect"
import * as Auth from "./Auth.js"
import * as ErrorResponse from "./ErrorResponse.js"

/**
 * The credentials a route that is not public accepts.
 *
 * @since 0.1.0
 */
export const security = {
  bearer: HttpApiSecurity.bearer.pipe(
    HttpApiSecurity.annotate(
      OpenApi.Description,
      "An API key (COLONY_GATEWAY_KEYS) or a customer token (POST /auth/tokens)"
    )
  ),
  session: HttpApiSecurity.apiKey({ key: Auth.cookieName, in: "cookie" }).pipe(
    HttpApiSecurity.annotate(OpenApi.Description, "The cookie of a signed-in browser (POST /auth/session)")
  )
} as const

/**
 * What a route that is not public refuses with.
 *
 * @since 0.1.0
 */
export const failure = Schema.Union(
  ErrorResponse.withStatus(401, "No credential, or one that is not valid"),
  ErrorResponse.withStatus(403, "The credential does not have the scope this route needs"),
  ErrorResponse.withStatus(429, "Over the credential's rate limit (see `retry-after`)")
)

/**
 * Routes for any caller with a credential (`client` scope and up).
 *
 * @since 0.1.0
 * @category tags
 */
export class Client extends HttpApiMiddleware.Tag<Client>()("@colony/apps/gateway/Access/Client", {
  security,
  failure,
  provides: Auth.CurrentCaller
}) {}

/**
 * Routes for operators and admins.
 *
 * @since 0.1.0
 * @category tags
 */
export class Operator extends HttpApiMiddleware.Tag<Operator>()("@colony/apps/gateway/Access/Operator", {
  security,
  failure,
  provides: Auth.CurrentCaller
}) {}

/**
 * The scope a route with these middlewares needs, if any.
 *
 * @since 0.1.0
 */
export const scopeOf = (middlewares: Iterable<unknown>): Auth.Scope | undefined => {
  const all = [...middlewares]
  return all.includes(Operator) ? "operator" : all.includes(Client) ? "client" : undefined
}

/**
 * The checks of `Client` and `Operator`, with the gateway's `Credentials`.
 *
 * The platform tries a route's schemes in turn and answers with the last one's refusal; here each
 * scheme hands over to one decision per request (`Auth.authorize`, which reads the header first and
 * the cookie only without one), so a refused request is refused once: it takes one attempt of its
 * address's rate limit, not one per scheme.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Client | Operator, never, Auth.Credentials> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const credentials = yield* Auth.Credentials
    const decisions = new WeakMap<HttpServerRequest.HttpServerRequest, Effect.Effect<Auth.Caller, ErrorResponse.Refusal>>()
    const decide = (scope: Auth.Scope) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        let decision = decisions.get(request)
        if (decision === undefined) {
          decision = Effect.runSync(Effect.cached(Auth.authorize(credentials, request, scope)))
          decisions.set(request, decision)
        }
        return Effect.map(decision, Option.some)
      })
    const checks = (scope: Auth.Scope) => ({ bearer: () => decide(scope), session: () => decide(scope) })
    return Layer.mergeAll(Layer.succeed(Client, checks("client")), Layer.succeed(Operator, checks("operator")))
  })
)
