/**
 * The gateway's A2A endpoints: which name serves what (an agent the colony hosts, a preset, an
 * application), and one SDK request handler per target, made on first use with its own bounded
 * task store.
 */
import type { Collaboration } from "@colony/agents"
import { type Agent, Colony } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { LegacyJsonRpcTransportHandler } from "@a2a-js/sdk/compat/v0_3/server"
import { DefaultRequestHandler, JsonRpcTransportHandler } from "@a2a-js/sdk/server"
import { Effect, FiberMap, Option } from "effect"
import type { Settings } from "../GatewayConfig.js"
import * as Presets from "../Presets.js"
import { type Application, basePath, card, type Served } from "./Cards.js"
import { executor } from "./Executor.js"
import { BoundedTaskStore } from "./TaskStore.js"

/** How many tasks each endpoint remembers (see `BoundedTaskStore`). */
const taskCapacity = 10_000

/** One served target's request handler, with its 1.0 and v0.3 JSON-RPC transports. */
export interface Endpoint {
  readonly handler: DefaultRequestHandler
  readonly jsonRpc: JsonRpcTransportHandler
  readonly legacy: LegacyJsonRpcTransportHandler
}

/** The URL the gateway is reached at, as the request names it. */
export const baseUrl = (request: HttpServerRequest.HttpServerRequest, settings: Settings) => {
  const scheme = Option.isSome(settings.tlsCert) ? "https" : "http"
  return `${scheme}://${request.headers["host"] ?? `${settings.host}:${settings.port}`}`
}

// what reading the colony's registered agent types needs
type Known = Effect.Effect.Context<typeof Colony.agents>

/** What a name serves, every name served, and each served target's endpoint. */
export interface Endpoints {
  readonly resolve: (name: string) => Effect.Effect<Served | undefined, never, Known>
  readonly listing: Effect.Effect<ReadonlyArray<string>, never, Known>
  /** the 404 text for a name nothing serves, listing what is served */
  readonly unknown: (name: string) => Effect.Effect<string, never, Known>
  readonly endpointFor: (served: Served, url: string) => Endpoint
}

export const make = (options: {
  readonly agents: ReadonlyArray<Agent.Any>
  readonly offered: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>
  readonly applications: ReadonlyArray<Application>
  readonly settings: Settings
}) =>
  Effect.gen(function*() {
    const { agents, applications, offered, settings } = options
    const runtime = yield* Effect.runtime<Colony.Services | Sharding>()
    const running = yield* FiberMap.make<string>()
    const endpoints = new Map<string, Endpoint>()

    const servedNames = Effect.map(Colony.agents, (known) => agents.map((a) => a.type as string).filter((n) => known.includes(n)))

    const resolve = (name: string) =>
      Effect.map(servedNames, (served): Served | undefined => {
        const application = applications.find((a) => a.name === name)
        if (application !== undefined) return { name, target: { _tag: "Application", application } }
        const target = Presets.resolve(name, served, (session) => Presets.presets(offered, settings.presets, session), "a2a")
        return target === undefined ? undefined : { name, target }
      })

    const listing = Effect.map(servedNames, (served): ReadonlyArray<string> => {
      const presets = Object.keys(Presets.presets(offered, settings.presets, "a2a"))
      return [
        ...served,
        ...presets.map((p) => served.includes(p) ? `team:${p}` : p),
        ...applications.map((a) => a.name)
      ]
    })

    const unknown = (name: string) =>
      Effect.map(listing, (names) =>
        `no A2A agent "${name}" on this gateway; it serves ${names.map((n) => `${basePath}/${n}`).join(", ")} (GET ${basePath} lists their cards)`)

    const endpointFor = (served: Served, url: string): Endpoint => {
      const key = served.target._tag === "Agent"
        ? `agent:${served.target.agent}`
        : served.target._tag === "Application"
        ? `application:${served.target.application.name}`
        : `team:${served.target.name}`
      const existing = endpoints.get(key)
      if (existing !== undefined) return existing
      const handler = new DefaultRequestHandler(
        card(served, agents, settings, url),
        new BoundedTaskStore(taskCapacity),
        executor(served.target, settings, offered, running, runtime)
      )
      const endpoint = { handler, jsonRpc: new JsonRpcTransportHandler(handler), legacy: new LegacyJsonRpcTransportHandler(handler) }
      endpoints.set(key, endpoint)
      return endpoint
    }

    return { resolve, listing, unknown, endpointFor } satisfies Endpoints
  })
