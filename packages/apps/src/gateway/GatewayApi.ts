/**
 * The gateway's own HTTP routes as an `HttpApi`: health, metrics and this API's OpenAPI document
 * (`GET /openapi.json`), the OpenAI-compatible `/v1` routes and the `/auth` routes — each declared
 * once with its method, path, payload, answers, refusals and access (`Access.Client`,
 * `Access.Operator`, or none for a public route).
 *
 * The typed RPC (`/rpc`, `/rpc/ws`, which `GatewayRpcs` describes), A2A (JSON-RPC, with its own
 * agent cards) and the applications' routes stay on the gateway's router and are not in the
 * document.
 *
 * Every refusal has the gateway's error shape (`ErrorResponse.Body`), a payload that does not
 * decode included: the platform's own decode error is answered as a 400 in that shape.
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiError from "@effect/platform/HttpApiError"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as OpenApi from "@effect/platform/OpenApi"
import { Colony } from "@colony/runtime"
import { Effect, Layer, Option, Schema, SchemaAST } from "effect"
import * as Access from "./Access.js"
import * as Auth from "./Auth.js"
import * as ErrorResponse from "./ErrorResponse.js"
import { ServedAgents } from "./GatewayHandlers.js"
import * as JsonBody from "./JsonBody.js"
import * as OpenAICompat from "./OpenAICompat.js"
import * as Prometheus from "./Prometheus.js"

// --- schemas ---

/**
 * The answer of `GET /readyz`: 200 when the colony answers and knows every served agent type,
 * else 503 with the `reason`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Readiness = Schema.Struct({
  ready: Schema.Boolean,
  mode: Schema.optional(Schema.Literal("client", "embedded")),
  address: Schema.optional(Schema.String),
  agents: Schema.optional(Schema.Array(Schema.String)),
  reason: Schema.optional(Schema.String)
})

const NotReady = Readiness.annotations(HttpApiSchema.annotations({ status: 503, description: "The colony is not ready" }))

const badRequest = ErrorResponse.withStatus(400, "The request is not valid; the message says what to send")

// --- the API ---

const system = HttpApiGroup.make("system").add(
  HttpApiEndpoint.get("healthz", "/healthz")
    .addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
    .annotate(OpenApi.Description, "Whether the gateway process answers")
).add(
  HttpApiEndpoint.get("readyz", "/readyz")
    .addSuccess(Readiness)
    .addError(NotReady)
    .annotate(OpenApi.Description, "Whether the colony answers and knows every agent type the gateway serves")
).add(
  HttpApiEndpoint.get("metrics", "/metrics")
    .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: Prometheus.contentType })))
    .annotate(OpenApi.Description, "Prometheus metrics")
).add(
  HttpApiEndpoint.get("openapi", "/openapi.json")
    .addSuccess(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
    .annotate(OpenApi.Description, "This document")
)

const openai = HttpApiGroup.make("openai").add(
  HttpApiEndpoint.get("models", "/v1/models")
    .addSuccess(OpenAICompat.ModelList)
    .middleware(Access.Client)
    .annotate(OpenApi.Description, "The agents (`agent:<type>`) and collaboration presets (`team:<name>`) a caller may name as `model`")
).add(
  HttpApiEndpoint.post("chatCompletions", "/v1/chat/completions")
    .setPayload(OpenAICompat.ChatCompletionRequest)
    .setHeaders(OpenAICompat.ChatCompletionHeaders)
    .addSuccess(OpenAICompat.ChatCompletion)
    .addError(badRequest)
    .addError(ErrorResponse.withStatus(404, "No such model on this gateway"))
    .addError(ErrorResponse.withStatus(502, "The model failed"))
    .addError(ErrorResponse.withStatus(503, "The agent is not available; retry"))
    .addError(ErrorResponse.withStatus(504, "No answer within COLONY_GATEWAY_REQUEST_TIMEOUT"))
    .middleware(JsonBody.Readable)
    .middleware(Access.Client)
    .annotate(
      OpenApi.Description,
      "Ask an agent or run a collaboration preset. `stream: true` answers with an event stream (text/event-stream) " +
        "of chat.completion.chunk objects, ending with `data: [DONE]`. The `x-colony-conversation` header (or `user`) " +
        "names a conversation to continue."
    )
)

const auth = HttpApiGroup.make("auth").add(
  HttpApiEndpoint.post("mintToken", "/auth/tokens")
    .setPayload(Auth.TokenRequest)
    .addSuccess(Auth.MintedToken, { status: 201 })
    .addError(badRequest)
    .middleware(JsonBody.Readable)
    .middleware(Access.Operator)
    .annotate(OpenApi.Description, "A customer token: a `client` credential bound to `subject`, valid `ttlSeconds`")
).add(
  HttpApiEndpoint.post("mintTicket", "/auth/tickets")
    .addSuccess(Auth.MintedTicket, { status: 201 })
    .middleware(Access.Client)
    .annotate(OpenApi.Description, "A one-use, 60-second ticket for `?ticket=` on /rpc/ws and event streams")
).add(
  HttpApiEndpoint.post("signIn", "/auth/session")
    .addSuccess(Auth.SignedIn)
    .middleware(Access.Operator)
    .annotate(OpenApi.Description, "Exchange the key in the header for an HttpOnly session cookie")
).add(
  HttpApiEndpoint.del("signOut", "/auth/session")
    .addSuccess(Auth.SignedIn)
    .annotate(OpenApi.Description, "Clear the session cookie")
).add(
  HttpApiEndpoint.get("login", "/auth/login")
    .setUrlParams(Schema.Struct({ code: Schema.optional(Schema.String), next: Schema.optional(Schema.String) }))
    .addSuccess(HttpApiSchema.Empty(303))
    .addError(ErrorResponse.withStatus(401, "The sign-in link is not valid or was used already"))
    .annotate(OpenApi.Description, "The one-use sign-in link a gateway started without keys prints; sets the session cookie")
)

const decodeErrorRef = "#/components/schemas/HttpApiDecodeError"

// The platform declares its own decode error on every route; the gateway answers it in its own
// shape (`refusals`), and so does the document.
const documented = (spec: Record<string, any>): Record<string, any> => {
  const body = OpenApi.fromApi(HttpApi.make("body").add(
    HttpApiGroup.make("body").add(HttpApiEndpoint.get("body", "/").addSuccess(ErrorResponse.Body))
  )).paths["/"]!.get!.responses["200"]!.content!["application/json"]!.schema
  // members that differ in their description only are one schema
  const shape = (member: unknown) => {
    const { description: _, ...rest } = member as Record<string, unknown>
    return JSON.stringify(rest)
  }
  const replace = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(replace)
    if (typeof value !== "object" || value === null) return value
    if ((value as { $ref?: unknown }).$ref === decodeErrorRef) return body
    const out: Record<string, unknown> = Object.fromEntries(Object.entries(value).map(([key, field]) => [key, replace(field)]))
    if (Array.isArray(out.anyOf)) {
      const unique = [...new Map(out.anyOf.map((member) => [shape(member), member])).values()]
      if (unique.length === 1) {
        const { anyOf: _, ...rest } = out
        return { ...rest, ...unique[0] as object }
      }
      out.anyOf = unique
    }
    return out
  }
  const replaced = replace(spec) as Record<string, any>
  // OpenAPI 3.1 lets a requirement of a scheme other than OAuth name the roles it needs: the scope
  for (const endpoint of endpoints) {
    const scope = Access.scopeOf(endpoint.middlewares)
    const operation = replaced.paths?.[endpoint.path.replace(/:(\w+)\??/g, "{$1}")]?.[endpoint.method.toLowerCase()]
    if (scope !== undefined && operation !== undefined) {
      operation.security = operation.security.map((requirement: Record<string, Array<string>>) =>
        Object.fromEntries(Object.keys(requirement).map((name) => [name, [scope]]))
      )
    }
  }
  // the decode error's own components, now referenced by nothing
  const schemas: Record<string, unknown> = { ...replaced.components?.schemas }
  delete schemas.HttpApiDecodeError
  for (let removed = true; removed;) {
    removed = false
    const text = JSON.stringify({ ...replaced, components: { ...replaced.components, schemas } })
    for (const name of Object.keys(schemas)) {
      if (!text.includes(`"#/components/schemas/${name}"`)) {
        delete schemas[name]
        removed = true
      }
    }
  }
  return { ...replaced, components: { ...replaced.components, schemas } }
}

/**
 * The gateway's own routes.
 *
 * @since 0.1.0
 * @category api
 */
export class GatewayApi extends HttpApi.make("colony-gateway")
  .add(system)
  .add(openai)
  .add(auth)
  .annotate(OpenApi.Title, "Colony gateway")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Transform, documented)
{}

/**
 * The OpenAPI document of `GatewayApi`, as `GET /openapi.json` serves it.
 *
 * @since 0.1.0
 */
export const openApi = (): Record<string, unknown> => ({ ...OpenApi.fromApi(GatewayApi) })

// --- handlers ---

const readiness = Effect.gen(function*() {
  const status = yield* Colony.status.pipe(Effect.timeout("2 seconds"), Effect.option)
  const { agents } = yield* ServedAgents
  if (Option.isNone(status)) {
    return yield* Effect.fail({ ready: false, reason: "the colony did not answer a status request within 2 s" })
  }
  const missing = agents.map((agent) => agent.type as string).filter((name) => !status.value.agents.includes(name))
  const answer = {
    ready: missing.length === 0,
    mode: status.value.clientOnly ? "client" as const : "embedded" as const,
    address: status.value.address,
    agents: status.value.agents,
    ...(missing.length === 0 ? {} : { reason: `agent types not registered: ${missing.join(", ")}` })
  }
  return missing.length === 0 ? answer : yield* Effect.fail(answer)
})

const handlers = (home: string) =>
  Layer.mergeAll(
    HttpApiBuilder.group(GatewayApi, "system", (handlers) =>
      handlers
        .handle("healthz", () => Effect.succeed({ status: "ok" as const }))
        .handle("readyz", () => readiness)
        .handle("metrics", () => Prometheus.text)
        .handle("openapi", () => Effect.sync(openApi))),
    HttpApiBuilder.group(GatewayApi, "openai", (handlers) =>
      handlers
        .handle("models", () => OpenAICompat.models)
        .handle("chatCompletions", ({ headers, payload }) => OpenAICompat.chatCompletions(payload, headers))),
    HttpApiBuilder.group(GatewayApi, "auth", (handlers) =>
      handlers
        .handle("mintToken", ({ payload }) => Auth.mintToken(payload))
        .handle("mintTicket", () => Auth.mintTicket)
        .handle("signIn", () => Auth.signIn)
        .handle("signOut", () => Auth.signOut)
        .handle("login", ({ urlParams }) => Auth.login(home, urlParams)))
  ).pipe(Layer.provide([Access.layer, JsonBody.layerReadable]))

// --- serving ---

const endpoints = Object.values(GatewayApi.groups).flatMap((group) =>
  Object.values(group.endpoints) as ReadonlyArray<HttpApiEndpoint.HttpApiEndpoint.AnyWithProps>
)

const exampleOf = (method: string, path: string): string | undefined => {
  const endpoint = endpoints.find((e) => e.method === method && e.path === path)
  return Option.fromNullable(endpoint).pipe(
    Option.flatMap((e) => e.payloadSchema),
    Option.flatMap((schema) => SchemaAST.getExamplesAnnotation(schema.ast)),
    Option.map((examples) => JSON.stringify(examples[0])),
    Option.getOrUndefined
  )
}

/**
 * A route's refusals in the gateway's shape: the checks' own (`ErrorResponse.Refusal`, with their
 * headers) and the platform's decode error, as a 400 that names each field and what to send.
 * Other failures are left to the API's error schemas.
 */
const refusal = (example: string | undefined) => (failure: unknown) => {
  if (failure instanceof ErrorResponse.Refusal) return Effect.succeed(failure.response)
  if (!(failure instanceof HttpApiError.HttpApiDecodeError)) return Effect.fail(failure)
  const why = failure.issues
    .map((issue) => issue.path.length === 0 ? issue.message : `"${issue.path.join(".")}": ${issue.message}`)
    .join("; ")
  return Effect.succeed(ErrorResponse.error(
    400,
    `invalid request: ${why}${example === undefined ? "" : `. Send ${example}`}`,
    "invalid_request_error",
    "invalid_request"
  ))
}

/**
 * `GatewayApi` as routes of the gateway's router, which serves them behind the same middleware as
 * every other route (`GatewayMiddleware`: Host and Origin checks, JSON only, body limit, metrics,
 * tracing). The sign-in link lands on `home`.
 *
 * This is the platform's `HttpLayerRouter.addHttpApi` for the router the gateway is built on:
 * each of the API's routes, wrapped in the API's error encoding (`HttpApiBuilder.buildMiddleware`).
 *
 * @since 0.1.0
 */
export const router = (home: string) =>
  Effect.gen(function*() {
    const built = yield* HttpApiBuilder.Router.router
    const encodeErrors = yield* HttpApiBuilder.buildMiddleware(GatewayApi)
    return HttpRouter.fromIterable([...built.routes].map((route) => {
      const answered = Effect.catchAll(route.handler, refusal(exampleOf(route.method, route.path)))
      // the route's requirements are the router's own (request, route context), provided by the
      // router that serves it, as in `HttpLayerRouter.addHttpApi`
      const encoded = encodeErrors(answered as Effect.Effect<HttpServerResponse.HttpServerResponse, unknown>)
      // a failure no schema answers is a bug: the gateway's logged 500 (`GatewayMiddleware.recover`)
      return HttpRouter.makeRoute(route.method, route.path, Effect.orDie(encoded), { uninterruptible: route.uninterruptible })
    }))
  }).pipe(Effect.provide(handlers(home).pipe(Layer.provideMerge(HttpApiBuilder.Router.Live))))
