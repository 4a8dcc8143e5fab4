/**
 * `colony runner`: one runner process. It hosts a set of agent types (a module whose default
 * export is a layer of `Agent.toLayer`s, or the applications the program gives it) and the
 * collaboration infrastructure
 * (sessions, durable sessions, topics, locks), joins the colony through Postgres, and
 * reports where it listens and which shards it holds whenever that changes.
 *
 * @since 0.1.0
 */
import { Infrastructure } from "@colony/agents"
import { type Agent, Colony, type ColonyError } from "@colony/runtime"
import { Console, Effect, Layer, Schedule, Schema } from "effect"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import * as Application from "../Application.js"

/**
 * A module given to `--agents` could not be used.
 *
 * @since 0.1.0
 * @category errors
 */
export class AgentsModuleInvalid extends Schema.TaggedError<AgentsModuleInvalid>()("AgentsModuleInvalid", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot host the agents of ${this.path}: ${this.reason}. The module's default export must be a ` +
      `Layer built from Agent.toLayer(...) (merge several with Layer.mergeAll)`
  }
}

/**
 * The agents of a module: its default export, a layer of hosted agent types; without a module,
 * those of `applications`.
 *
 * @since 0.1.0
 */
export const loadAgents = (
  path: string | undefined,
  applications: ReadonlyArray<Application.Application> = []
): Effect.Effect<Application.Hosted, AgentsModuleInvalid> =>
  path === undefined
    ? Effect.succeed(Layer.mergeAll(Layer.empty, ...applications.map((application) => application.hosted)))
    : Effect.tryPromise({
      try: () => import(pathToFileURL(resolve(path)).href) as Promise<{ readonly default?: unknown }>,
      catch: (error) => new AgentsModuleInvalid({ path, reason: String(error) })
    }).pipe(
      Effect.flatMap((module) =>
        Layer.isLayer(module.default)
          ? Effect.succeed(module.default as unknown as Layer.Layer<never, never, Agent.Requirements>)
          : Effect.fail(new AgentsModuleInvalid({ path, reason: "its default export is not a Layer" }))
      )
    )

/** 1,2,3,7,8 → "1-3,7-8" */
const ranges = (ids: ReadonlyArray<number>): string => {
  const out: Array<string> = []
  for (let i = 0; i < ids.length; i++) {
    const start = ids[i]!
    while (i + 1 < ids.length && ids[i + 1] === ids[i]! + 1) i++
    out.push(start === ids[i] ? `${start}` : `${start}-${ids[i]}`)
  }
  return out.join(",")
}

const describe = (status: Colony.Status) => {
  const shards = Object.entries(status.shardIds)
    .map(([group, ids]) => `${ids.length} ${group} shard(s)${ids.length > 0 ? ` [${ranges(ids)}]` : ""}`)
    .join(", ")
  return `runner ${status.address}: holds ${shards}; ${status.activeAgents} active agent(s)`
}

/**
 * Run a runner until interrupted, hosting the module `agents`, else the `applications`. With
 * `json`, every report is one JSON line.
 *
 * @since 0.1.0
 */
export const run = (
  options: {
    readonly agents: string | undefined
    readonly json: boolean
    readonly applications?: ReadonlyArray<Application.Application> | undefined
  }
): Effect.Effect<never, AgentsModuleInvalid | ColonyError.StartFailed | ColonyError.RunnerRefused> =>
  Effect.gen(function*() {
    const agents = yield* loadAgents(options.agents, options.applications)
    const report = (status: Colony.Status, kind: "started" | "status") =>
      options.json
        ? Console.log(JSON.stringify({ event: kind, ...status }))
        : kind === "started"
        ? Console.log(
          `runner listening on ${status.listen}, reachable at ${status.address}; hosting ${status.agents.join(", ")}`
        )
        : Console.log(describe(status))
    return yield* Effect.gen(function*() {
      yield* report(yield* Colony.status, "started")
      let last = ""
      yield* Effect.gen(function*() {
        const status = yield* Colony.status
        const line = JSON.stringify(status.shards)
        if (line !== last) {
          last = line
          yield* report(status, "status")
        }
      }).pipe(Effect.repeat(Schedule.spaced("1 second")))
      return yield* Effect.never
    }).pipe(Effect.provide(Layer.merge(agents, Infrastructure.layer).pipe(Layer.provideMerge(Colony.runner))))
  })
