/**
 * The Agent2Agent (A2A) surface: every agent type the gateway serves, and every collaboration
 * preset, is an A2A agent with its own card and JSON-RPC endpoint, so agents built with other
 * frameworks can call a colony.
 *
 * - `GET /a2a` lists the cards' URLs;
 * - `GET /a2a/<name>/.well-known/agent-card.json` is the card of an agent (`writer`) or preset
 *   (`master-slave`, or `team:master-slave` when an agent has the same name): the A2A 1.0 card
 *   when the request says `A2A-Version: 1.0`, else the v0.3 one;
 * - `POST /a2a/<name>` speaks A2A JSON-RPC: `SendMessage`, `SendStreamingMessage` (SSE),
 *   `GetTask`, `CancelTask`, ... of A2A 1.0, and for clients that send no `A2A-Version` header
 *   (or `0.3`) the v0.3 methods `message/send`, `message/stream`, `tasks/get`, `tasks/cancel`;
 * - `GET /.well-known/agent-card.json` is the first served agent's card.
 *
 * The protocol is `@a2a-js/sdk`'s transport-agnostic request handler; this module adapts it to
 * the gateway's router and runs each task on the colony: an agent's task is an `Ask` whose
 * instance id is the A2A context id (a conversation keeps the agent's memory), a preset's task
 * is a collaboration run whose progress streams as `working` status updates.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { A2A_VERSION_HEADER, AgentCard } from "@a2a-js/sdk"
import { Effect } from "effect"
import { type Application, basePath, card, cardPath, legacyCard, legacyVersion } from "./a2a/Cards.js"
import * as Endpoints from "./a2a/Endpoints.js"
import * as JsonRpc from "./a2a/JsonRpc.js"
import * as Auth from "./Auth.js"
import { error } from "./ErrorResponse.js"
import { GatewayConfig } from "./GatewayConfig.js"
import { ServedAgents } from "./GatewayHandlers.js"

export { type Application, basePath, card, GatewayUser, legacyCard } from "./a2a/Cards.js"
export { textOf } from "./a2a/Messages.js"
export { BoundedTaskStore } from "./a2a/TaskStore.js"

/**
 * The A2A routes, to concatenate to the gateway's router. Task state lives in this gateway
 * (`BoundedTaskStore`): `GetTask` and `CancelTask` reach the tasks this gateway runs.
 *
 * @since 0.1.0
 */
export const router = (applications: ReadonlyArray<Application> = []) =>
  Effect.gen(function*() {
    const { agents, presets: offered } = yield* ServedAgents
    const settings = yield* GatewayConfig
    const endpoints = yield* Endpoints.make({ agents, offered, applications, settings })

    const serveCard = (name: string) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const served = yield* endpoints.resolve(name)
        if (served === undefined) {
          return error(404, yield* endpoints.unknown(name), "not_found_error", "agent_not_found")
        }
        const url = `${Endpoints.baseUrl(request, settings)}${basePath}/${encodeURIComponent(name)}`
        const current = card(served, agents, settings, url)
        const version = request.headers[A2A_VERSION_HEADER.toLowerCase()]
        const headers = { vary: A2A_VERSION_HEADER }
        return version === undefined || version === legacyVersion
          ? HttpServerResponse.unsafeJson(legacyCard(current, url, settings.keys.length > 0), { headers })
          : HttpServerResponse.unsafeJson(AgentCard.toJSON(current), { headers })
      })

    const index = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const base = Endpoints.baseUrl(request, settings)
      const names = yield* endpoints.listing
      return HttpServerResponse.unsafeJson({
        agents: names.map((name) => ({
          name,
          url: `${base}${basePath}/${encodeURIComponent(name)}`,
          card: `${base}${basePath}/${encodeURIComponent(name)}${cardPath}`
        }))
      })
    })

    const defaultCard = Effect.flatMap(endpoints.listing, (names) =>
      names[0] === undefined
        ? Effect.succeed(error(404, "this gateway serves no agents", "not_found_error", "agent_not_found"))
        : serveCard(names[0]))

    // Cards are public, as the protocol expects: a card is how a caller learns that the agent
    // wants a key (its security scheme) before it has one. The endpoints behind them are not.
    return HttpRouter.empty.pipe(
      HttpRouter.get(cardPath, Auth.route("public", defaultCard)),
      HttpRouter.get(basePath, Auth.route("client", index)),
      HttpRouter.get(`${basePath}/:name${cardPath}`, Auth.route("public", Effect.flatMap(JsonRpc.nameParam, serveCard))),
      HttpRouter.post(`${basePath}/:name`, Auth.route("client", JsonRpc.handler(endpoints, settings)))
    )
  })
