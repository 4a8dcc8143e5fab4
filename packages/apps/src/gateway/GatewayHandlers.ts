/**
 * The gateway's RPC handlers: each call goes to the colony through the runtime's clients
 * (`Colony.ask`, `Session.run`, ...), so the gateway holds no agent state of its own.
 *
 * Every call is admitted first: the caller comes sealed from the route (`Auth.callerHeader`),
 * takes one call of its rate limit, and reaches only the agents the gateway serves; a `client`
 * caller's conversations and sessions live in its own namespace (`Auth.namespaced`).
 *
 * @since 0.1.0
 */
import { Collaboration, Session } from "@colony/agents"
import { Agent, AgentError, Colony, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import type * as Headers from "@effect/platform/Headers"
import { Clock, Context, Effect, Exit, Layer, Metric, Option, Stream } from "effect"
import * as Auth from "./Auth.js"
import * as GatewayMetrics from "./GatewayMetrics.js"
import {
  AccessDenied,
  AgentInfo,
  GatewayRpcs,
  PresetInfo,
  RateLimited,
  SessionSummary,
  UnknownPreset
} from "./GatewayRpcs.js"
import * as Presets from "./Presets.js"
import { GatewayConfig } from "./GatewayConfig.js"
import { SessionLog } from "./SessionLog.js"

/**
 * The agent types a gateway serves.
 *
 * @since 0.1.0
 * @category tags
 */
export class ServedAgents extends Context.Tag("@colony/apps/ServedAgents")<ServedAgents, {
  readonly agents: ReadonlyArray<Agent.Any>
  /** the collaboration presets of the applications served, before the configured ones */
  readonly presets: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>
}>() {}

const record = (rpc: string, outcome: "success" | "failure", started: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.zipRight(
      Metric.increment(Metric.tagged(Metric.tagged(GatewayMetrics.rpcCalls, "rpc", rpc), "outcome", outcome)),
      Metric.update(Metric.tagged(GatewayMetrics.rpcDuration, "rpc", rpc), (now - started) / 1000)
    ))

/**
 * Count and time a call under `rpc`.
 *
 * @since 0.1.0
 */
export const instrument = (rpc: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Clock.currentTimeMillis, (started) =>
    Effect.onExit(effect, (exit) => record(rpc, Exit.isSuccess(exit) ? "success" : "failure", started)))

const instrumentStream = (rpc: string) => <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Stream.unwrap(Effect.map(Clock.currentTimeMillis, (started) =>
    stream.pipe(
      Stream.onDone(() => record(rpc, "success", started)),
      Stream.tapErrorCause(() => record(rpc, "failure", started))
    )))

/**
 * Describe the agent types a gateway serves that the colony knows.
 *
 * @since 0.1.0
 */
export const agentInfos = (agents: ReadonlyArray<Agent.Any>, known: ReadonlyArray<string>) =>
  [...agents].sort((a, b) => a.type.localeCompare(b.type)).filter((agent) => known.includes(agent.type)).map((agent) => {
    const def = Agent.definition(agent)
    return new AgentInfo({
      name: def.name,
      instructions: def.instructions,
      model: def.model,
      capabilities: def.capabilities,
      rpcs: def.rpcs
    })
  })

/**
 * The instance asked to describe an agent type's tools: the tools are the type's, the same in
 * every instance, so one well-known instance answers for all.
 */
const toolsInstance = "colony-tools"

const withTools = (agents: ReadonlyArray<Agent.Any>, infos: ReadonlyArray<AgentInfo>) =>
  Effect.forEach(infos, (info) =>
    Effect.gen(function*() {
      const agent = agents.find((a) => a.type === info.name)!
      const client = yield* Colony.client(agent as unknown as Agent.Agent<string, never>)
      const description = yield* client(toolsInstance).Describe()
      return new AgentInfo({ ...info, tools: description.toolDetails })
    }), { concurrency: 8 })

/**
 * The handlers of `GatewayRpcs`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = GatewayRpcs.toLayer(Effect.gen(function*() {
  const context = yield* Effect.context<Colony.Services | Sharding>()
  const sharding = yield* Effect.context<Sharding>()
  const { agents, presets: offered } = yield* ServedAgents
  const { bounds, presets: configured } = yield* GatewayConfig
  const credentials = yield* Auth.Credentials
  const log = yield* SessionLog
  const presetsFor = (session: string) => Presets.presets(offered, configured, session)
  const known = Effect.provide(Colony.agents, context)
  const served = new Set(agents.map((agent) => agent.type as string))

  // The route sealed the caller into a header; a call that arrives without it did not pass a
  // route's check, and is refused.
  const admit = (headers: Headers.Headers): Effect.Effect<Auth.Caller, AccessDenied | RateLimited> =>
    Effect.gen(function*() {
      const sealed = headers[Auth.callerHeader]
      const caller = sealed === undefined ? Option.none() : credentials.openCaller(sealed)
      if (Option.isNone(caller)) {
        return yield* new AccessDenied({ reason: "no credential: call the gateway's /rpc or /rpc/ws with \"Authorization: Bearer <key>\"" })
      }
      const decision = yield* credentials.take(caller.value.subject)
      if (!decision.allowed) {
        return yield* new RateLimited({ limitPerMinute: credentials.settings.rateLimit, retryAfterMs: decision.retryAfterMs })
      }
      return caller.value
    })

  const unserved = (names: ReadonlyArray<string>) =>
    Effect.map(known, (registered) => {
      const offered = [...served].filter((name) => registered.includes(name)).sort()
      const missing = names.find((name) => !offered.includes(name))
      return missing === undefined ? Option.none() : Option.some(new AgentError.UnknownAgent({ agent: missing, registered: offered }))
    })

  return GatewayRpcs.of({
    ListAgents: ({ tools }, { headers }) =>
      instrument("ListAgents")(Effect.zipRight(
        admit(headers),
        Effect.flatMap(known, (names) => {
          const infos = agentInfos(agents, names)
          return tools ? Effect.provide(withTools(agents, infos), context) : Effect.succeed(infos)
        })
      )),
    ListPresets: (_, { headers }) =>
      instrument("ListPresets")(Effect.zipRight(
        admit(headers),
        Effect.sync(() =>
          Object.entries(presetsFor("<session>")).map(([name, collaboration]) =>
            new PresetInfo({
              name,
              pattern: collaboration._tag,
              participants: Collaboration.participants(collaboration).map((ref) => ref.toString())
            })
          )
        )
      )),
    Ask: ({ agent, id, prompt }, { headers }) =>
      Effect.gen(function*() {
        const caller = yield* admit(headers)
        const refused = yield* unserved([agent])
        if (Option.isSome(refused)) return yield* refused.value
        const conversation = Auth.namespaced(caller, id)
        return yield* Colony.ask(agent, conversation, prompt, { from: "gateway" }).pipe(
          Effect.tap((answer) => GatewayMetrics.countTokens(agent, answer.usage)),
          GatewayMetrics.trackInFlight(agent),
          Effect.withSpan("Gateway.Ask", { attributes: { "colony.agent": agent, "colony.id": conversation } })
        )
      }).pipe(instrument("Ask"), Effect.provide(context)),
    RunCollaboration: ({ collaboration, session: given, task }, { headers }) =>
      Stream.unwrap(Effect.gen(function*() {
        const caller = yield* admit(headers)
        const session = Auth.namespaced(caller, given)
        const chosen = typeof collaboration === "string"
          ? Option.fromNullable(Presets.lookup(presetsFor(session), collaboration))
          : Option.some(collaboration)
        if (Option.isNone(chosen)) {
          return yield* new UnknownPreset({ preset: collaboration as string, presets: Object.keys(presetsFor(session)) })
        }
        // a caller's own collaboration reaches the served agents only, within the bounds
        if (typeof collaboration !== "string") {
          const refused = yield* unserved(Collaboration.participants(collaboration).map((ref) => ref.agent))
          if (Option.isSome(refused)) return yield* refused.value
          const tooLarge = Collaboration.checkBounds(collaboration, bounds)
          if (Option.isSome(tooLarge)) return yield* tooLarge.value
        }
        const name = typeof collaboration === "string" ? collaboration : chosen.value._tag
        return log.start(session, chosen.value, task).pipe(
          Stream.tap((progress) =>
            progress instanceof Session.Finished ? GatewayMetrics.countTokens(
                `team:${name}`,
                new LanguageModel.Usage({ promptTokens: 0, completionTokens: 0, totalTokens: progress.result.totalTokens })
              ) : Effect.void
          )
        )
      }).pipe(Effect.provide(context))).pipe(instrumentStream("RunCollaboration")),
    WatchSession: ({ session }, { headers }) =>
      // the session entity replays the run from its start wherever it runs, whoever started it
      Stream.unwrap(Effect.map(admit(headers), (caller) =>
        Stream.provideContext(Session.watch(Auth.namespaced(caller, session)), sharding)
      )).pipe(instrumentStream("WatchSession")),
    SessionStatus: ({ session }, { headers }) =>
      instrument("SessionStatus")(
        Effect.flatMap(admit(headers), (caller) => Effect.provide(Session.status(Auth.namespaced(caller, session)), context))
      ),
    CancelSession: ({ session }, { headers }) =>
      instrument("CancelSession")(
        Effect.flatMap(admit(headers), (caller) => Effect.provide(Session.cancel(Auth.namespaced(caller, session)), context))
      ),
    ListSessions: (_, { headers }) =>
      instrument("ListSessions")(Effect.flatMap(admit(headers), (caller) =>
        Effect.map(log.list, (sessions) =>
          sessions.flatMap((summary) =>
            Option.match(Auth.ownName(caller, summary.session), {
              onNone: () => [],
              onSome: (session) => [new SessionSummary({ ...summary, session })]
            })
          ))))
  })
}))

/**
 * @since 0.1.0
 */
export const layerServedAgents = (
  agents: ReadonlyArray<Agent.Any>,
  presets: (session: string) => Readonly<Record<string, Collaboration.Collaboration>> = () => ({})
) => Layer.succeed(ServedAgents, { agents, presets })
