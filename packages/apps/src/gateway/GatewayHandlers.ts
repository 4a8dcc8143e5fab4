/**
 * The gateway's RPC handlers: each call goes to the colony through the runtime's clients
 * (`Colony.ask`, `Session.run`, ...), so the gateway holds no agent state of its own.
 *
 * @since 0.1.0
 */
import { Collaboration, Session } from "@colony/agents"
import { Agent, type AgentError, Colony, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Clock, Context, Effect, Exit, Layer, Metric, Option, Stream } from "effect"
import * as GatewayMetrics from "./GatewayMetrics.js"
import { AgentInfo, GatewayRpcs, PresetInfo, UnknownPreset, type Watched } from "./GatewayRpcs.js"

type WatchError =
  | Session.SessionBusy
  | Session.SessionCancelled
  | AgentError.UnknownAgent
  | AgentError.AgentUnavailable
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
 * Follow a session this gateway did not start (another gateway or process did): the session
 * entity replays its events so far and streams the rest, wherever it runs.
 *
 * @since 0.1.0
 */
const followElsewhere = (session: string) => Session.watch(session)

/**
 * The handlers of `GatewayRpcs`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = GatewayRpcs.toLayer(Effect.gen(function*() {
  const context = yield* Effect.context<Colony.Services | Sharding>()
  const sharding = yield* Effect.context<Sharding>()
  const { agents } = yield* ServedAgents
  const { presets: configured } = yield* GatewayConfig
  const log = yield* SessionLog
  const presetsFor = (session: string) => Presets.presets(agents, configured, session)
  const known = Effect.provide(Colony.agents, context)

  return GatewayRpcs.of({
    ListAgents: ({ tools }) =>
      instrument("ListAgents")(Effect.flatMap(known, (names) => {
        const infos = agentInfos(agents, names)
        return tools ? Effect.provide(withTools(agents, infos), context) : Effect.succeed(infos)
      })),
    ListPresets: () =>
      instrument("ListPresets")(Effect.sync(() =>
        Object.entries(presetsFor("<session>")).map(([name, collaboration]) =>
          new PresetInfo({
            name,
            pattern: collaboration._tag,
            participants: Collaboration.participants(collaboration).map((ref) => ref.toString())
          })
        )
      )),
    Ask: ({ agent, id, prompt }) =>
      Colony.ask(agent, id, prompt, { from: "gateway" }).pipe(
        Effect.tap((answer) => GatewayMetrics.countTokens(agent, answer.usage)),
        GatewayMetrics.trackInFlight(agent),
        Effect.withSpan("Gateway.Ask", { attributes: { "colony.agent": agent, "colony.id": id } }),
        instrument("Ask"),
        Effect.provide(context)
      ),
    RunCollaboration: ({ collaboration, session, task }) => {
      const chosen = typeof collaboration === "string"
        ? Option.fromNullable(presetsFor(session)[collaboration])
        : Option.some(collaboration)
      if (Option.isNone(chosen)) {
        return Stream.fail(new UnknownPreset({ preset: collaboration as string, presets: Object.keys(presetsFor(session)) }))
      }
      const name = typeof collaboration === "string" ? collaboration : chosen.value._tag
      return log.start(session, chosen.value, task).pipe(
        Stream.tap((progress) =>
          progress instanceof Session.Finished ? GatewayMetrics.countTokens(
              `team:${name}`,
              new LanguageModel.Usage({ promptTokens: 0, completionTokens: 0, totalTokens: progress.result.totalTokens })
            ) : Effect.void
        ),
        instrumentStream("RunCollaboration")
      )
    },
    WatchSession: ({ session }) => {
      const followed: Stream.Stream<Watched, WatchError> = Option.getOrElse(
        log.follow(session),
        () => Stream.provideContext(followElsewhere(session), sharding)
      )
      return instrumentStream("WatchSession")(followed)
    },
    SessionStatus: ({ session }) => instrument("SessionStatus")(Effect.provide(Session.status(session), context)),
    CancelSession: ({ session }) => instrument("CancelSession")(Effect.provide(Session.cancel(session), context)),
    ListSessions: () => instrument("ListSessions")(log.list)
  })
}))

/**
 * @since 0.1.0
 */
export const layerServedAgents = (agents: ReadonlyArray<Agent.Any>) => Layer.succeed(ServedAgents, { agents })
