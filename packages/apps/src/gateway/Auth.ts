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
export * from "./auth/AuthRoutes.js"
export * from "./auth/Callers.js"
export * from "./auth/Credentials.js"
export * from "./auth/Guard.js"
export { forbidden, rateLimited } from "./auth/Refusals.js"
