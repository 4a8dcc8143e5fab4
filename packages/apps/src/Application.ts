/**
 * An application on a colony: what it hosts (its agents, with the storage they keep), what it
 * adds to a gateway (HTTP routes, A2A cards, agents callers may name, collaboration presets) and
 * the task sets it offers `colony eval`. The
 * gateway, the runner and the CLI take applications as arguments and know none of them: a program
 * (`main.ts`, a runner's `--agents` module) chooses which to wire in.
 *
 * @since 0.1.0
 */
import type { Collaboration, TaskSet } from "@colony/agents"
import type { Agent, Colony, ColonyError } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { type Effect, Layer, type Scope } from "effect"
import type * as A2A from "./gateway/A2A.js"
import type * as Auth from "./gateway/Auth.js"
import type { GatewayConfig } from "./gateway/GatewayConfig.js"

/**
 * Any agent type, whatever its protocol.
 *
 * @since 0.1.0
 * @category models
 */
export type AnyAgent = Agent.Any | Agent.Agent<any, any>

/**
 * What the routes of an application on the gateway may use: the colony, the gateway's settings,
 * and the request with its path parameters and scope.
 *
 * @since 0.1.0
 * @category models
 */
export type RouteContext =
  | Auth.Credentials
  | Colony.Services
  | Sharding
  | GatewayConfig
  | HttpRouter.RouteContext
  | HttpServerRequest.HttpServerRequest
  | Scope.Scope

/**
 * Routes an application adds to the gateway, served behind the same checks, body limit and
 * metrics as the gateway's own. Each route declares who may call it with `Auth.route` (a route that
 * does not is unreachable: it has no caller). Its handlers answer their own failures (a bad body
 * is a 400 the route writes). An effect, so that an application can start what its routes share
 * (a feed, a cache) once, for as long as the gateway runs.
 *
 * @since 0.1.0
 * @category models
 */
export type Routes = Effect.Effect<
  HttpRouter.HttpRouter<never, RouteContext>,
  never,
  Colony.Services | Sharding | GatewayConfig | Scope.Scope
>

/**
 * What hosts an application's agents in a colony, with the storage they need (its migrations run
 * when it is built).
 *
 * @since 0.1.0
 * @category models
 */
export type Hosted = Layer.Layer<never, ColonyError.StartFailed, Agent.Requirements | Colony.Services | Sharding>

/**
 * Collaboration presets by name for a session: the session id is the agents' instance id, so
 * concurrent runs do not share memory.
 *
 * @since 0.1.0
 * @category models
 */
export type Presets = (session: string) => Readonly<Record<string, Collaboration.Collaboration>>

/**
 * Task sets an application offers `colony eval`, by the name `--tasks <name>:<count>` gives them:
 * tasks from its own domain, with checkable answers.
 *
 * @since 0.1.0
 * @category models
 */
export type TaskSets = Readonly<Record<string, TaskSet.Generator>>

/**
 * @since 0.1.0
 * @category models
 */
export interface Application {
  /** a short name, unique on a gateway (the CLI's `--NAME` / `--no-NAME` flags use it) */
  readonly name: string
  /** its agents, hosted in an embedded colony or on the runners, with their storage */
  readonly hosted: Hosted
  /** every agent type it hosts: a gateway in front of runners declares them */
  readonly agents: ReadonlyArray<AnyAgent>
  /** the agent types callers may name (RPC, OpenAI model names, A2A); the others work behind its routes */
  readonly served: ReadonlyArray<AnyAgent>
  /** collaboration presets over its agents */
  readonly presets: Presets
  /** its HTTP routes on the gateway */
  readonly routes: ReadonlyArray<Routes>
  /** its A2A agents, each with its card */
  readonly a2aCards: ReadonlyArray<A2A.Application>
  /** the page a browser lands on after signing in with the gateway's one-use link, if it has pages */
  readonly home: string | undefined
  /** its task sets for `colony eval` */
  readonly taskSets: TaskSets
}

/**
 * An application from what it contributes; what it leaves out it does not have.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly name: string
  readonly hosted?: Hosted | undefined
  readonly agents?: ReadonlyArray<AnyAgent> | undefined
  readonly served?: ReadonlyArray<AnyAgent> | undefined
  readonly presets?: Presets | undefined
  readonly routes?: ReadonlyArray<Routes> | undefined
  readonly a2aCards?: ReadonlyArray<A2A.Application> | undefined
  readonly home?: string | undefined
  readonly taskSets?: TaskSets | undefined
}): Application => ({
  name: options.name,
  hosted: options.hosted ?? Layer.empty,
  agents: options.agents ?? [],
  served: options.served ?? [],
  presets: options.presets ?? (() => ({})),
  routes: options.routes ?? [],
  a2aCards: options.a2aCards ?? [],
  home: options.home,
  taskSets: options.taskSets ?? {}
})

/**
 * The agents a gateway serves: the applications' `served`, then `extra`, each type once.
 *
 * @since 0.1.0
 */
export const served = (applications: ReadonlyArray<Application>, extra: ReadonlyArray<AnyAgent> = []): ReadonlyArray<AnyAgent> =>
  unique([...applications.flatMap((application) => application.served), ...extra])

/**
 * Every agent type the applications host, each once.
 *
 * @since 0.1.0
 */
export const agents = (applications: ReadonlyArray<Application>): ReadonlyArray<AnyAgent> =>
  unique(applications.flatMap((application) => application.agents))

/**
 * The applications' presets together; a later application's preset wins on a name clash.
 *
 * @since 0.1.0
 */
export const presets = (applications: ReadonlyArray<Application>): Presets => (session) =>
  Object.assign({}, ...applications.map((application) => application.presets(session)))

/**
 * The applications' task sets together; a later application's set wins on a name clash.
 *
 * @since 0.1.0
 */
export const taskSets = (applications: ReadonlyArray<Application>): TaskSets =>
  Object.assign({}, ...applications.map((application) => application.taskSets))

/**
 * The agent types a gateway in front of runners declares: `extra`, then every agent type the
 * applications serve or host, each once.
 *
 * @since 0.1.0
 */
export const declared = (applications: ReadonlyArray<Application>, extra: ReadonlyArray<AnyAgent> = []): ReadonlyArray<AnyAgent> =>
  unique([...extra, ...applications.flatMap((application) => [...application.served, ...application.agents])])

const unique = (agents: ReadonlyArray<AnyAgent>): ReadonlyArray<AnyAgent> => {
  const seen = new Set<string>()
  return agents.filter((agent) => {
    if (seen.has(agent.type)) return false
    seen.add(agent.type)
    return true
  })
}
