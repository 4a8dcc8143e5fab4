/**
 * Define an agent type. An agent type *is* an `@effect/cluster` `Entity`: an agent instance is an
 * entity id, its mailbox is the entity's mailbox, and it runs on whichever runner owns its shard.
 * Every agent answers a base protocol (`Ask`, `Describe`, `Forget`); a definition adds its own
 * typed RPCs with `Schema` payloads.
 *
 * ```ts
 * const Support = Agent.make({
 *   name: "support",
 *   instructions: "You help customers of an online shop.",
 *   protocol: [LookupOrder]
 * })
 * const SupportLive = Agent.toLayer(Support, {
 *   LookupOrder: ({ orderId }, agent) => agent.ask(`Summarise order ${orderId}`)
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as Entity from "@effect/cluster/Entity"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { Cause, Context, Duration, Effect, Either, Exit, Layer, Option, PrimaryKey, Ref, Schedule, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { AgentFailed } from "./AgentError.js"
import { AgentMemory, MemoryUnreadable, type Transcript } from "./AgentMemory.js"
import * as Events from "./Events.js"
import * as Journal from "./internal/journal.js"
import { Registry } from "./internal/registry.js"
import {
  ChatMessage,
  type ChatResponse,
  LanguageModel,
  ModelError,
  runTools,
  type Tool,
  ToolFailure,
  type ToolLoopResult,
  Usage,
  withAttribution
} from "./LanguageModel.js"
import * as Mcp from "./Mcp.js"
import * as Supervision from "./Supervision.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@colony/runtime/Agent")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

// --- base protocol ---

/**
 * One tool call an agent made while answering.
 *
 * @since 0.1.0
 * @category protocol
 */
export class ToolUse extends Schema.Class<ToolUse>("@colony/runtime/ToolUse")({
  name: Schema.String,
  /** the arguments as the model wrote them (JSON) */
  arguments: Schema.String,
  /** false when the tool failed or the arguments did not fit; the model was told why */
  ok: Schema.Boolean,
  /** the tool's output as the model saw it, cut to 500 characters */
  output: Schema.String
}) {}

/**
 * An agent's answer, labelled with who answered and with which model.
 *
 * @since 0.1.0
 * @category protocol
 */
export class Answer extends Schema.Class<Answer>("@colony/runtime/Answer")({
  text: Schema.String,
  agent: Schema.String,
  id: Schema.String,
  model: Schema.String,
  modelId: Schema.String,
  simulated: Schema.Boolean,
  usage: Usage,
  /** what the model call cost, from the model's price table (0 when it has none) */
  cost: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** the runner that hosted the agent when it answered ("host:port") */
  runner: Schema.String,
  /** the tools the agent called to answer, in order */
  tools: Schema.optionalWith(Schema.Array(ToolUse), { default: () => [] })
}) {}

/**
 * A tool an agent can call, as `Describe` reports it.
 *
 * @since 0.1.0
 * @category protocol
 */
export class ToolInfo extends Schema.Class<ToolInfo>("@colony/runtime/ToolInfo")({
  name: Schema.String,
  description: Schema.String,
  /** "local" for a tool given to `toLayer`, else the MCP server's name */
  source: Schema.String,
  /** false for a server that cannot be reached now (its tools are not known yet) */
  available: Schema.Boolean
}) {}

/**
 * What an agent says about itself: enough for a caller (or another agent) to decide whether and
 * how to talk to it.
 *
 * @since 0.1.0
 * @category protocol
 */
export class Description extends Schema.Class<Description>("@colony/runtime/Description")({
  name: Schema.String,
  id: Schema.String,
  /** the runner hosting this instance now ("host:port") */
  runner: Schema.String,
  instructions: Schema.String,
  model: Schema.String,
  capabilities: Schema.Array(Schema.String),
  tools: Schema.Array(Schema.String),
  /** the tools with their descriptions and where they come from (its own, or an MCP server) */
  toolDetails: Schema.optionalWith(Schema.Array(ToolInfo), { default: () => [] }),
  rpcs: Schema.Array(Schema.String),
  mailboxCapacity: Schema.Union(Schema.Number, Schema.Literal("unbounded")),
  maxIdleTimeMs: Schema.NullOr(Schema.Number),
  supervision: Schema.Struct({
    maxRestarts: Schema.Number,
    windowMs: Schema.Number,
    initialBackoffMs: Schema.Number,
    maxBackoffMs: Schema.Number,
    factor: Schema.Number
  }),
  memoryMessages: Schema.Number
}) {}

/**
 * The payload of `Ask`.
 *
 * @since 0.1.0
 * @category protocol
 */
export class AskPayload extends Schema.Class<AskPayload>("@colony/runtime/AskPayload")({
  prompt: Schema.String,
  /** who is asking (an agent address or a caller name), for the record */
  from: Schema.optional(Schema.String),
  /**
   * Identifies the message: for a durable agent, a message sent twice with the same id is handled
   * once and both senders get the same reply, and a message replayed after its runner died repeats
   * none of the model and tool calls it had completed. A fresh id is made when none is given.
   */
  messageId: Schema.optionalWith(Schema.String, { default: () => randomUUID() })
}) {
  [PrimaryKey.symbol]() {
    return this.messageId
  }
}

/**
 * Ask the agent something in natural language. The agent answers from its instructions, its
 * conversation memory and its model, and remembers the exchange.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Ask = Rpc.make("Ask", {
  payload: AskPayload,
  success: Answer,
  error: Schema.Union(AgentFailed, ModelError)
})

/**
 * Ask the agent to describe itself.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Describe = Rpc.make("Describe", { success: Description, error: AgentFailed })

/**
 * Clear the agent instance's conversation memory.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Forget = Rpc.make("Forget", { error: AgentFailed })

/**
 * The RPCs every agent answers.
 *
 * @since 0.1.0
 * @category protocol
 */
export type BaseRpcs = typeof Ask | typeof Describe | typeof Forget

const baseTags = new Set(["Ask", "Describe", "Forget"])

/**
 * A user RPC as the agent serves it: its declared errors plus `AgentFailed`, which supervision
 * may answer with (and an agent whose stored memory no longer decodes, carrying
 * `AgentMemory.MemoryUnreadable`).
 *
 * @since 0.1.0
 * @category protocol
 */
export type Supervised<R extends Rpc.Any> = Rpc.AddError<R, typeof AgentFailed>

// --- definition ---

/**
 * The resolved definition of an agent type.
 *
 * @since 0.1.0
 * @category models
 */
export interface Definition {
  readonly name: string
  readonly instructions: string
  readonly model: string
  readonly capabilities: ReadonlyArray<string>
  readonly tools: ReadonlyArray<string>
  readonly mcp: ReadonlyArray<Mcp.Server>
  readonly maxToolSteps: number
  readonly rpcs: ReadonlyArray<string>
  readonly mailboxCapacity: number | "unbounded"
  readonly maxIdleTime: Duration.Duration | undefined
  readonly supervision: Supervision.Policy
  readonly historyLimit: number
  readonly durable: boolean
}

/**
 * An agent type: an `Entity` whose protocol is the base protocol plus the user's RPCs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Agent<Name extends string, Rpcs extends Rpc.Any = never>
  extends Entity.Entity<Name, BaseRpcs | Supervised<Rpcs>>
{
  readonly [TypeId]: Definition
}

/**
 * @since 0.1.0
 * @category models
 */
export type Any = Entity.Any & { readonly [TypeId]: Definition }

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<Name extends string, Rpcs extends ReadonlyArray<Rpc.Any>> {
  readonly name: Name
  /** the system prompt */
  readonly instructions?: string | undefined
  /** a model name from the model registry; "default" unless set */
  readonly model?: string | undefined
  /** what this agent is good at; used to route and assign work */
  readonly capabilities?: ReadonlyArray<string> | undefined
  /**
   * names of the tools the agent calls while answering; their implementations are given to
   * `toLayer`, where each name must have one
   */
  readonly tools?: ReadonlyArray<string> | undefined
  /**
   * MCP servers whose tools the agent calls too, each a stdio command (`{ name, command, args,
   * env }`) or a streamable HTTP URL (`{ name, url, headers }`). Their tools are named
   * `<server>__<tool>`; one connection per server serves the whole process.
   */
  readonly mcp?: ReadonlyArray<Mcp.Server> | undefined
  /** model calls one answer may take in a tool-call loop; default 8 */
  readonly maxToolSteps?: number | undefined
  /** the agent's own typed RPCs, on top of the base protocol */
  readonly protocol?: Rpcs | undefined
  /** messages one agent instance may hold (in flight and queued); default 64 */
  readonly mailboxCapacity?: number | "unbounded" | undefined
  /** an idle instance is passivated after this long; its memory is kept; default 5 minutes */
  readonly maxIdleTime?: Duration.DurationInput | undefined
  /** restart policy for handler defects */
  readonly supervision?: Supervision.PolicyOptions | undefined
  /** messages of conversation memory kept per instance; default 40 */
  readonly historyLimit?: number | undefined
  /**
   * Durable agents take their messages through the cluster's message storage (Postgres on
   * runners): a message is stored before it is delivered, survives the death of the runner
   * handling it and is replayed elsewhere, and one sent twice with the same primary key (`Ask`'s
   * `messageId`; give your own RPCs a `primaryKey`) is handled once. The price is a storage write
   * per message, and a full mailbox queues in storage instead of answering `MailboxFull`.
   * Default false.
   */
  readonly durable?: boolean | undefined
}

const AGENT_NAME = /^[a-z][a-z0-9-]{0,62}$/

/**
 * Define an agent type.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, const Rpcs extends ReadonlyArray<Rpc.Any> = []>(
  options: Options<Name, Rpcs>
): Agent<Name, Rpcs[number]> => {
  if (!AGENT_NAME.test(options.name)) {
    throw new Error(
      `Agent.make: invalid name "${options.name}": use lower-case letters, digits and "-", starting with a letter`
    )
  }
  const custom = (options.protocol ?? []) as ReadonlyArray<Rpc.AnyWithProps>
  for (const rpc of custom) {
    if (baseTags.has(rpc._tag)) {
      throw new Error(`Agent.make: agent "${options.name}" redefines the base RPC "${rpc._tag}"; rename it`)
    }
  }
  const mcp = options.mcp ?? []
  for (const server of mcp) {
    const invalid = Mcp.invalidServer(server)
    if (invalid !== undefined) throw new Error(`Agent.make: agent "${options.name}": ${invalid}`)
  }
  const twice = mcp.map((server) => server.name).filter((name, i, names) => names.indexOf(name) !== i)
  if (twice.length > 0) {
    throw new Error(`Agent.make: agent "${options.name}" names the MCP server "${twice[0]}" twice; give each server its own name`)
  }
  const durable = options.durable ?? false
  const persist = (rpc: Rpc.AnyWithProps): Rpc.AnyWithProps =>
    durable ? (rpc as any).annotate(ClusterSchema.Persisted, true) : rpc
  const supervised = custom.map((rpc) => persist((rpc as any).setError(Schema.Union(rpc.errorSchema, AgentFailed))))
  const entity = Entity.make(options.name, [persist(Ask as any), Describe, persist(Forget as any), ...supervised] as any)
  const definition: Definition = {
    name: options.name,
    instructions: options.instructions ?? `You are ${options.name}, a helpful agent.`,
    model: options.model ?? "default",
    capabilities: options.capabilities ?? [],
    tools: options.tools ?? [],
    mcp,
    maxToolSteps: options.maxToolSteps ?? 8,
    rpcs: ["Ask", "Describe", "Forget", ...custom.map((rpc) => rpc._tag)],
    mailboxCapacity: options.mailboxCapacity ?? 64,
    maxIdleTime: Duration.decode(options.maxIdleTime ?? "5 minutes"),
    supervision: Supervision.policy(options.supervision),
    historyLimit: options.historyLimit ?? 40,
    durable
  }
  return Object.assign(entity, { [TypeId]: definition }) as any
}

/**
 * @since 0.1.0
 * @category refinements
 */
export const isAgent = (u: unknown): u is Any => Entity.isEntity(u) && TypeId in u

/**
 * @since 0.1.0
 */
export const definition = (agent: Any): Definition => agent[TypeId]

// --- handlers ---

/**
 * What a handler of a user RPC can do with the agent instance it runs in.
 *
 * @since 0.1.0
 * @category models
 */
export interface AgentContext {
  readonly agent: string
  readonly id: string
  readonly definition: Definition
  /** ask the agent's model, exactly as the `Ask` RPC does (memory included) */
  readonly ask: (prompt: string) => Effect.Effect<Answer, ModelError>
  /** the instance's conversation memory */
  readonly history: Effect.Effect<Transcript>
  /** replace the instance's conversation memory (trimmed to the history limit, then stored) */
  readonly remember: (transcript: Transcript) => Effect.Effect<void>
}

/**
 * The agent instance a tool or handler runs for: its type and id. Tools are shared by every
 * instance of a type, so a tool that keeps per-conversation state (or logs what it did) reads
 * whose call it is from here.
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentAgent extends Context.Tag("@colony/runtime/Agent/CurrentAgent")<CurrentAgent, {
  readonly agent: string
  readonly id: string
}>() {}

/**
 * Handlers for an agent's own RPCs: one function per RPC, from its decoded payload (and the
 * agent instance) to its reply.
 *
 * @since 0.1.0
 * @category models
 */
export type Handlers<Rpcs extends Rpc.Any> = {
  readonly [R in Rpcs as R["_tag"]]: (
    payload: Rpc.Payload<R>,
    agent: AgentContext
  ) => Effect.Effect<Rpc.Success<R>, Rpc.Error<R>, any>
}

/**
 * The services the handlers need.
 *
 * @since 0.1.0
 * @category models
 */
export type HandlersContext<H> = {
  [K in keyof H]: H[K] extends (...args: any) => Effect.Effect<any, any, infer R> ? R : never
}[keyof H]

/**
 * What every hosted agent needs from the colony.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = Sharding | Registry | Supervision.Supervisor | AgentMemory | LanguageModel

const summarizePayload = (payload: unknown): string => {
  if (typeof payload === "object" && payload !== null && "prompt" in payload) {
    return Events.summarize(String((payload as { prompt: unknown }).prompt))
  }
  try {
    return Events.summarize(JSON.stringify(payload) ?? "")
  } catch {
    return "(payload)"
  }
}

const summarizeResult = (value: unknown): string => {
  if (value instanceof Answer) return Events.summarize(value.text)
  if (value === undefined) return "done"
  return summarizePayload(value)
}

const outcomeOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit)
    ? "success" as const
    : Cause.isInterruptedOnly(exit.cause)
    ? "interrupted" as const
    : Cause.isFailure(exit.cause)
    ? "failure" as const
    : "defect" as const

const trim = (transcript: Transcript, limit: number): Transcript =>
  transcript.length > limit ? transcript.slice(transcript.length - limit) : transcript

const memoryRetry = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds"))
)

/**
 * How `toLayer` hosts an agent: the implementations of its tools.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions<Tools extends ReadonlyArray<Tool.Any>> {
  /**
   * The tools the agent calls while answering an `Ask`: every name in the definition's `tools`,
   * and any more. A tool's failure (or defect) reaches the model as the tool's result, never the
   * caller, so the model can answer anyway.
   */
  readonly tools?: Tools | undefined
}

const toolOutputLimit = 500

// A journal records a tool's result as text. The text recorded holds whether the tool failed,
// so a failure read back on a replay is still one; a record without it (written before it held
// one) is read back as the successful output it was.
const JournaledToolResult = Schema.parseJson(Schema.Struct({ ok: Schema.Boolean, output: Schema.String }))
const encodeToolResult = Schema.encodeSync(JournaledToolResult)
const decodeToolResult = Schema.decodeUnknownEither(JournaledToolResult)

const journaledTool = (journal: Journal.Journal) => (tool: Tool.Any): Tool.Any => {
  if (journal === Journal.passThrough) return tool
  const recorded = journal.tool({
    ...tool,
    handler: (args: unknown) =>
      Effect.map(tool.handler(args), (result) =>
        encodeToolResult(
          result instanceof ToolFailure ? { ok: false, output: result.output } : { ok: true, output: String(result) }
        ))
  })
  return {
    ...recorded,
    handler: (args: unknown) =>
      Effect.map(recorded.handler(args), (text) =>
        Either.match(decodeToolResult(text), {
          onLeft: () => String(text),
          onRight: ({ ok, output }) => ok ? output : new ToolFailure({ output })
        }))
  }
}

const encodeAnswer = Schema.encodeSync(Schema.parseJson(Answer))
const decodeAnswer = (stored: string) =>
  Effect.orDie(Schema.decode(Schema.parseJson(Answer))(stored))

const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.squash(cause)
  const message = typeof failure === "object" && failure !== null && "message" in failure &&
      typeof failure.message === "string" && failure.message.length > 0
    ? failure.message
    : Cause.pretty(cause).split("\n")[0]!
  const tag = typeof failure === "object" && failure !== null && "_tag" in failure ? `${String(failure._tag)}: ` : ""
  return `${tag}${message}`
}

/**
 * Host an agent type in this process: register its entity with the cluster, with the
 * definition's mailbox, passivation and supervision settings.
 *
 * @since 0.1.0
 * @category layers
 */
export function toLayer<Name extends string>(agent: Agent<Name, never>): Layer.Layer<never, never, Requirements>
export function toLayer<
  Name extends string,
  Rpcs extends Rpc.Any,
  H extends Handlers<Rpcs>,
  const Tools extends ReadonlyArray<Tool.Any> = []
>(
  agent: Agent<Name, Rpcs>,
  handlers: H,
  options?: LayerOptions<Tools>
): Layer.Layer<never, never, Requirements | Exclude<HandlersContext<H> | Tool.Context<Tools[number]>, CurrentAgent>>
export function toLayer(
  agentIn: unknown,
  handlers: Record<string, any> = {},
  options: LayerOptions<ReadonlyArray<Tool.Any>> = {}
): Layer.Layer<never, never, any> {
  const agent = agentIn as Any
  const def = agent[TypeId]
  const missing = def.rpcs.filter((tag) => !baseTags.has(tag) && typeof handlers[tag] !== "function")
  if (missing.length > 0) {
    return Layer.die(new Error(`Agent.toLayer: agent "${def.name}" has no handler for ${missing.join(", ")}`))
  }
  const tools = options.tools ?? []
  const implemented = new Set(tools.map((t) => t.name))
  const unimplemented = def.tools.filter((name) => !implemented.has(name))
  if (unimplemented.length > 0) {
    return Layer.die(
      new Error(`Agent.toLayer: agent "${def.name}" names the tool(s) ${unimplemented.join(", ")} but toLayer got no ` +
        `implementation; pass them in the options: Agent.toLayer(agent, handlers, { tools: [...] })`)
    )
  }

  const buildInstance = Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const runnerAddress = yield* Entity.CurrentRunnerAddress
    const runner = `${runnerAddress.host}:${runnerAddress.port}`
    const supervisor = yield* Supervision.Supervisor
    const store = yield* AgentMemory
    const model = yield* LanguageModel
    const id = address.entityId as string
    const key = `${def.name}/${id}`
    const self = { agent: def.name, id }
    // Memory that no longer decodes reaches callers as `AgentFailed` carrying `MemoryUnreadable`
    // (which names the row), with no restarts: a rebuild would read the same row.
    const refusal = (rpc: string, error: MemoryUnreadable) =>
      new AgentFailed({ agent: def.name, id, rpc, restarts: 0, defect: error })
    const context = yield* Effect.context<any>()
    const mcp = yield* Effect.serviceOption(Mcp.Mcp)

    const restart = yield* supervisor.onStart(key, def.supervision)
    if (restart !== undefined) {
      yield* Events.publish(
        new Events.AgentRestarted({
          agent: def.name,
          id,
          at: yield* Events.now,
          restart: restart.restart,
          delayMs: Duration.toMillis(restart.delay),
          defect: restart.defect
        })
      )
    }

    // Storage trouble must not kill the entity build, so the load waits for storage with its own
    // backoff. Memory that no longer decodes is not retried: it was moved aside, and the agent
    // refuses messages (but Forget) until an operator repairs it or Forget starts it afresh.
    const loaded = yield* store.load(key).pipe(
      Effect.tapError((error) => Effect.logWarning(error.message)),
      Effect.retry({ schedule: memoryRetry, while: (error) => error._tag === "MemoryError" }),
      Effect.either
    )
    if (Either.isLeft(loaded) && loaded.left._tag === "MemoryError") return yield* Effect.die(loaded.left)
    const unreadable = yield* Ref.make(Either.isLeft(loaded) ? Option.some(loaded.left as MemoryUnreadable) : Option.none())
    const memory = yield* Ref.make<Transcript>(Either.isRight(loaded) ? Option.getOrElse(loaded.right, () => []) : [])
    const remember = (transcript: Transcript) =>
      Effect.flatMap(Ref.setAndGet(memory, trim(transcript, def.historyLimit)), (kept) =>
        store.save(key, kept).pipe(Effect.retry({ times: 3, schedule: memoryRetry }), Effect.orDie))

    yield* Events.publish(
      new Events.AgentStarted({
        agent: def.name,
        id,
        at: yield* Events.now,
        restart: restart !== undefined,
        memoryMessages: (yield* Ref.get(memory)).length
      })
    )
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Events.now, (at) => Events.publish(new Events.AgentStopped({ agent: def.name, id, at })))
    )

    // The values below are built from values already valid (a model response, the handler's own
    // records), so their constructors skip validation: it costs more than the rest of a hop.
    const modelCalled = (response: ChatResponse, durationMs: number) =>
      Effect.flatMap(Events.now, (at) =>
        Events.publish(
          new Events.ModelCalled({
            agent: def.name,
            id,
            at,
            model: response.model,
            modelId: response.modelId,
            simulated: response.simulated,
            usage: response.usage,
            cost: response.cost,
            retries: response.retries,
            durationMs
          }, true)
        ))

    // A tool runs in the agent's own context, and whatever goes wrong in it becomes its result:
    // the model reads the error and can answer anyway, the caller never sees a tool's failure
    // (the answer's `tools` marks it failed).
    const host = (tool: Tool.Any): Tool.Any => ({
      ...tool,
      handler: (args: unknown) =>
        Effect.gen(function*() {
          const started = yield* Events.now
          const exit = yield* Effect.exit(Effect.suspend(() => tool.handler(args)).pipe(
            Effect.provide(context),
            Effect.provideService(CurrentAgent, self)
          ))
          const output = Exit.isSuccess(exit) ? exit.value : `error: ${describeFailure(exit.cause)}`
          const rendered = typeof output === "string" ? output : JSON.stringify(output) ?? "null"
          yield* Events.publish(
            new Events.ToolCalled({
              agent: def.name,
              id,
              at: yield* Events.now,
              tool: tool.name,
              ok: Exit.isSuccess(exit),
              durationMs: (yield* Events.now) - started,
              summary: Events.summarize(rendered)
            }, true)
          )
          return Exit.isSuccess(exit) ? rendered : new ToolFailure({ output: rendered })
        })
    })
    const hostedTools = tools.map(host)

    // The MCP servers' tools as their connections know them now. A server that cannot be
    // reached yet leaves its tools out of this answer (with a warning) rather than failing it.
    const mcpTools = (server: Mcp.Server): Effect.Effect<ReadonlyArray<Mcp.McpTool>, Mcp.McpServerUnavailable> =>
      Option.match(mcp, {
        // toLayer provides `Mcp.layer` to every agent that names a server
        onNone: () => Effect.dieMessage(`Agent "${def.name}" names MCP server "${server.name}" but has no Mcp service`),
        onSome: (connections) => connections.tools(server)
      })
    const toolsNow = def.mcp.length === 0
      ? Effect.succeed(hostedTools)
      : Effect.map(
        Effect.forEach(def.mcp, (server) =>
          mcpTools(server).pipe(
            Effect.catchAll((error) => Effect.as(Effect.logWarning(error.message), []))
          )),
        (lists) => [...hostedTools, ...lists.flat().map(host)]
      )
    const toolDetails = Effect.gen(function*() {
      const local = tools.map((tool) =>
        new ToolInfo({ name: tool.name, description: tool.description, source: "local", available: true })
      )
      const remote = yield* Effect.forEach(def.mcp, (server) =>
        mcpTools(server).pipe(
          Effect.map((listed) =>
            listed.map((tool) =>
              new ToolInfo({ name: tool.name, description: tool.description, source: server.name, available: true })
            )
          ),
          Effect.catchAll((error) =>
            Effect.succeed([
              new ToolInfo({ name: `${server.name}__*`, description: error.message, source: server.name, available: false })
            ])
          )
        ))
      return [...local, ...remote.flat()]
    })

    // One turn: the model (and tools) answer the prompt from the memory as it is now. Through a
    // journal, a durable message's completed steps are read back instead of taken again.
    const turn = (prompt: string, journal: Journal.Journal) =>
      Effect.gen(function*() {
        const history = yield* Ref.get(memory)
        const question = new ChatMessage({ role: "user", content: prompt })
        const messages = [new ChatMessage({ role: "system", content: def.instructions }), ...history, question]
        const chat = journal.chat(model.chat)
        const onResponse = (response: ChatResponse, durationMs: number) =>
          journal.replayed(response) ? Effect.void : modelCalled(response, durationMs)
        let response: ChatResponse
        let usage: Usage
        let cost: number
        let used: ReadonlyArray<ToolUse> = []
        const available = yield* toolsNow
        if (available.length === 0) {
          const started = yield* Events.now
          response = yield* chat({ model: def.model, messages }).pipe(withAttribution({ agent: key }))
          yield* onResponse(response, (yield* Events.now) - started)
          usage = response.usage
          cost = response.cost
        } else {
          const loop = yield* runTools({
            model: def.model,
            messages,
            tools: available.map(journaledTool(journal)),
            maxSteps: def.maxToolSteps,
            onResponse
          }).pipe(
            withAttribution({ agent: key }),
            Effect.provideService(LanguageModel, { ...model, chat })
          ) as Effect.Effect<ToolLoopResult, ModelError>
          response = loop.response
          usage = loop.usage
          cost = loop.cost
          used = loop.invocations.map((invocation) =>
            new ToolUse({
              name: invocation.call.name,
              arguments: invocation.call.arguments,
              ok: invocation.ok,
              output: invocation.output.slice(0, toolOutputLimit)
            }, true)
          )
        }
        const answer = new Answer({
          text: response.text,
          agent: def.name,
          id,
          model: response.model,
          modelId: response.modelId,
          simulated: response.simulated,
          usage,
          cost,
          runner,
          tools: used
        }, true)
        return { exchange: [question, new ChatMessage({ role: "assistant", content: response.text })], answer }
      })

    // Volatile messages are at most once: a message cut off is not replayed, so the exchange is
    // simply remembered.
    const askVolatile = (prompt: string) =>
      Effect.gen(function*() {
        const { answer, exchange } = yield* turn(prompt, Journal.passThrough)
        yield* remember([...(yield* Ref.get(memory)), ...exchange])
        return answer
      })

    // A durable message may run again from the start on another runner (its first runner died
    // before its reply was stored). Its turn is committed once, keyed by its message id: a replay
    // that finds the turn committed answers what the first execution answered, and one that does
    // not reuses the steps the first execution completed. (Typed: entity handlers are untyped, and
    // an answer read back must reach the caller as an `Answer`, not as the effect that decodes it.)
    const askDurable = (prompt: string, messageId: string): Effect.Effect<Answer, AgentFailed | ModelError> =>
      Effect.gen(function*() {
        const progress = yield* store.progress(key, messageId).pipe(
          Effect.retry({ times: 3, schedule: memoryRetry }),
          Effect.orDie
        )
        if (Option.isSome(progress.answer)) return yield* decodeAnswer(progress.answer.value)
        const { answer, exchange } = yield* turn(prompt, Journal.make(store, key, messageId, progress))
        const committed = yield* store.commitTurn(key, {
          messageId,
          messages: exchange,
          answer: encodeAnswer(answer),
          limit: def.historyLimit
        }).pipe(
          Effect.retry({ times: 3, schedule: memoryRetry, while: (error) => error._tag === "MemoryError" }),
          Effect.catchTags({
            MemoryError: Effect.die,
            MemoryUnreadable: (error) => Effect.fail(refusal("Ask", error))
          })
        )
        yield* Ref.set(memory, committed.transcript)
        return committed.fresh ? answer : yield* decodeAnswer(committed.answer)
      })

    // `ask` from a durable agent's own RPC handler is keyed by the request and the ask's place in it.
    const askWithin = (request: Entity.Request<any>) => {
      if (!def.durable) return askVolatile
      let asks = 0
      return (prompt: string) =>
        askDurable(prompt, `${request.tag}/${request.requestId}/${++asks}`).pipe(
          Effect.catchTag("AgentFailed", Effect.die)
        )
    }

    const agentContext: AgentContext = {
      agent: def.name,
      id,
      definition: def,
      ask: askVolatile,
      history: Ref.get(memory),
      remember
    }

    const handle = (rpc: string, payload: unknown, run: Effect.Effect<unknown, unknown, any>) =>
      Effect.gen(function*() {
        const started = yield* Events.now
        const from = typeof payload === "object" && payload !== null && "from" in payload
          ? (payload as { from?: string }).from
          : undefined
        yield* Events.publish(
          new Events.MessageReceived({
            agent: def.name,
            id,
            at: started,
            rpc,
            ...(from === undefined ? {} : { from }),
            summary: summarizePayload(payload)
          }, true)
        )
        // an agent whose memory could not be read answers nothing but Forget until it is repaired
        const guarded = rpc === "Forget" ? run : Effect.flatMap(Ref.get(unreadable), Option.match({
          onNone: () => run,
          onSome: (error) => Effect.fail(refusal(rpc, error))
        }))
        return yield* Supervision.supervise(guarded, { agent: def.name, id, rpc, policy: def.supervision }).pipe(
          Effect.onExit((exit) =>
            Effect.flatMap(Events.now, (at) =>
              Events.publish(
                new Events.MessageHandled({
                  agent: def.name,
                  id,
                  at,
                  rpc,
                  outcome: outcomeOf(exit),
                  durationMs: at - started,
                  summary: Exit.isSuccess(exit) ? summarizeResult(exit.value) : Cause.pretty(exit.cause).split("\n")[0]!
                }, true)
              ))
          ),
          Effect.provide(context),
          Effect.provideService(CurrentAgent, self)
        )
      })

    const entityHandlers: Record<string, (request: Entity.Request<any>) => Effect.Effect<any, any, any>> = {
      Ask: ({ payload }) =>
        handle("Ask", payload, def.durable ? askDurable(payload.prompt, payload.messageId) : askVolatile(payload.prompt)),
      Describe: () =>
        handle(
          "Describe",
          undefined,
          Effect.map(Effect.all([Ref.get(memory), toolDetails]), ([transcript, details]) =>
            new Description({
              name: def.name,
              id,
              runner,
              instructions: def.instructions,
              model: def.model,
              capabilities: def.capabilities,
              tools: [...new Set([...def.tools, ...details.filter((t) => t.available).map((t) => t.name)])],
              toolDetails: details,
              rpcs: def.rpcs,
              mailboxCapacity: def.mailboxCapacity,
              maxIdleTimeMs: def.maxIdleTime === undefined ? null : Duration.toMillis(def.maxIdleTime),
              supervision: {
                maxRestarts: def.supervision.maxRestarts,
                windowMs: Duration.toMillis(def.supervision.window),
                initialBackoffMs: Duration.toMillis(def.supervision.initialBackoff),
                maxBackoffMs: Duration.toMillis(def.supervision.maxBackoff),
                factor: def.supervision.factor
              },
              memoryMessages: transcript.length
            }))
        ),
      Forget: () =>
        handle(
          "Forget",
          undefined,
          store.forget(key).pipe(
            Effect.retry({ times: 3, schedule: memoryRetry }),
            Effect.orDie,
            Effect.zipRight(Ref.set(memory, [])),
            Effect.zipRight(Ref.set(unreadable, Option.none()))
          )
        )
    }
    for (const tag of def.rpcs) {
      if (baseTags.has(tag)) continue
      entityHandlers[tag] = (request) =>
        handle(
          tag,
          request.payload,
          Effect.suspend(() => handlers[tag](request.payload, { ...agentContext, ask: askWithin(request) }))
        )
    }
    return entityHandlers as any
  })

  // An instance that cannot be built (past its supervision limit) is built as one that answers
  // every message with the reason, so the cluster does not rebuild it in a loop.
  const refusing = (failure: unknown) =>
    Object.fromEntries(def.rpcs.map((tag) => [tag, () => Effect.fail(failure)])) as any
  const build = Effect.flatMap(Entity.CurrentAddress, (address) =>
    Supervision.superviseBuild(buildInstance, {
      agent: def.name,
      id: address.entityId,
      policy: def.supervision,
      refuse: refusing
    }))

  const entity = agent.toLayer(build, {
    mailboxCapacity: def.mailboxCapacity,
    ...(def.maxIdleTime === undefined ? {} : { maxIdleTime: def.maxIdleTime }),
    defectRetryPolicy: Supervision.clusterRetryPolicy
  })
  // Agents naming MCP servers share the process's connections: the program's `Mcp` layer when
  // it provides one, else `Mcp.layer`, which Effect builds once however many agents provide it.
  const hosted = def.mcp.length === 0 ? entity : Layer.unwrapEffect(
    Effect.map(Effect.serviceOption(Mcp.Mcp), (provided) =>
      Option.isSome(provided) ? entity : entity.pipe(Layer.provide(Mcp.layer)))
  )

  return Layer.scopedDiscard(
    Effect.gen(function*() {
      const registry = yield* Registry
      const unregister = registry.register(agent)
      yield* Effect.addFinalizer(() => Effect.sync(unregister))
    })
  ).pipe(
    Layer.merge(hosted)
  )
}
