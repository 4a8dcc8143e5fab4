/**
 * Define an agent type. An agent type *is* an `@effect/cluster` `Entity`: an agent instance is an
 * entity id, its mailbox is the entity's mailbox, and it runs on whichever runner owns its shard.
 * Every agent answers a base protocol (`Ask`, `Describe`, `Forget`); a definition adds its own
 * typed RPCs with `Schema` payloads.
 *
 * <!-- snippet:
 * import { Rpc } from "@effect/rpc"
 * const LookupOrder = Rpc.make("LookupOrder", { payload: { orderId: Schema.String }, success: Agent.Answer, error: LanguageModel.ModelError })
 * -->
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
import type * as AiTool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as Entity from "@effect/cluster/Entity"
import type { Sharding } from "@effect/cluster/Sharding"
import type * as Rpc from "@effect/rpc/Rpc"
import { Duration, Effect, Layer, Option, Schema } from "effect"
import { AgentFailed } from "./AgentError.js"
import type { AgentMemory } from "./AgentMemory.js"
import type { AgentContext, CurrentAgent } from "./internal/agent/context.js"
import type { Definition } from "./internal/agent/definition.js"
import { build } from "./internal/agent/instance.js"
import { Ask, baseTags, type BaseRpcs, Describe, Forget, type Supervised } from "./internal/agent/protocol.js"
import { invalidToolkit, type ToolHandlers, type ToolHandlersContext, toolsOf } from "./internal/agent/toolkit.js"
import { Registry } from "./internal/registry.js"
import type { LanguageModel, Tool } from "./LanguageModel.js"
import * as Mcp from "./Mcp.js"
import * as Supervision from "./Supervision.js"

export { type AgentContext, CurrentAgent } from "./internal/agent/context.js"
export type { Definition } from "./internal/agent/definition.js"
export type { ToolHandlers, ToolHandlersContext } from "./internal/agent/toolkit.js"
export {
  Answer,
  Ask,
  AnswerFormat,
  AskPayload,
  type BaseRpcs,
  Describe,
  Description,
  Forget,
  type Supervised,
  ToolInfo,
  ToolUse
} from "./internal/agent/protocol.js"

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

// --- definition ---

/**
 * An agent type: an `Entity` whose protocol is the base protocol plus the user's RPCs, with the
 * `@effect/ai` toolkit its model may call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Agent<Name extends string, Rpcs extends Rpc.Any = never, Tools extends Record<string, AiTool.Any> = any>
  extends Entity.Entity<Name, BaseRpcs | Supervised<Rpcs>>
{
  readonly [TypeId]: Definition
  /** the tools the agent's model may call; `toLayer` takes a handler for each */
  readonly toolkit: Toolkit.Toolkit<Tools>
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
export interface Options<
  Name extends string,
  Rpcs extends ReadonlyArray<Rpc.Any>,
  Tools extends Record<string, AiTool.Any> = {}
> {
  readonly name: Name
  /** the system prompt */
  readonly instructions?: string | undefined
  /** a model name from the model registry; "default" unless set */
  readonly model?: string | undefined
  /** what this agent is good at; used to route and assign work */
  readonly capabilities?: ReadonlyArray<string> | undefined
  /**
   * the tools the agent calls while answering, an `@effect/ai` `Toolkit` of `Tool.make` values
   * (name, description, parameter, success and failure schemas); `toLayer` takes one handler per
   * tool, and leaving one out is a type error there
   */
  readonly toolkit?: Toolkit.Toolkit<Tools> | undefined
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
export const make = <
  const Name extends string,
  const Rpcs extends ReadonlyArray<Rpc.Any> = [],
  Tools extends Record<string, AiTool.Any> = {}
>(
  options: Options<Name, Rpcs, Tools>
): Agent<Name, Rpcs[number], Tools> => {
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
  const toolkit = options.toolkit ?? (Toolkit.empty as unknown as Toolkit.Toolkit<Tools>)
  const invalid = invalidToolkit(options.name, toolkit)
  if (invalid !== undefined) throw new Error(`Agent.make: ${invalid}`)
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
    tools: Object.values(toolkit.tools).map((tool) => tool.name),
    mcp,
    maxToolSteps: options.maxToolSteps ?? 8,
    rpcs: ["Ask", "Describe", "Forget", ...custom.map((rpc) => rpc._tag)],
    mailboxCapacity: options.mailboxCapacity ?? 64,
    maxIdleTime: Duration.decode(options.maxIdleTime ?? "5 minutes"),
    supervision: Supervision.policy(options.supervision),
    historyLimit: options.historyLimit ?? 40,
    durable
  }
  return Object.assign(entity, { [TypeId]: definition, toolkit }) as any
}

/**
 * @since 0.1.0
 * @category refinements
 */
export const isAgent = (u: unknown): u is Any => Entity.isEntity(u) && TypeId in u

/**
 * @since 0.1.0
 */
export const definition = (agent: { readonly [TypeId]: Definition }): Definition => agent[TypeId]

// --- handlers ---

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

/**
 * How `toLayer` hosts an agent: a handler for each tool of its toolkit, and tools made when the
 * layer is (`LanguageModel.tool` values: another agent reached over A2A, say) that no definition
 * can name. A tool's failure (or defect) reaches the model as the tool's result, never the
 * caller, so the model can answer anyway.
 *
 * @since 0.1.0
 * @category models
 */
export type LayerOptions<
  Tools extends Record<string, AiTool.Any>,
  TH extends ToolHandlers<Tools>,
  Extra extends ReadonlyArray<Tool.Any>
> =
  & { readonly tools?: Extra | undefined }
  & ([keyof ToolHandlers<Tools>] extends [never] ? { readonly toolHandlers?: TH | undefined }
    : { readonly toolHandlers: TH })

const missingHandlers = (def: Definition, handlers: Record<string, any>) => {
  const missing = def.rpcs.filter((tag) => !baseTags.has(tag) && typeof handlers[tag] !== "function")
  return missing.length > 0 ? `Agent.toLayer: agent "${def.name}" has no handler for ${missing.join(", ")}` : undefined
}

/**
 * Host an agent type in this process: register its entity with the cluster, with the
 * definition's mailbox, passivation and supervision settings.
 *
 * @since 0.1.0
 * @category layers
 */
export function toLayer<Name extends string>(agent: Agent<Name, never, {}>): Layer.Layer<never, never, Requirements>
export function toLayer<
  Name extends string,
  Rpcs extends Rpc.Any,
  Tools extends Record<string, AiTool.Any>,
  H extends Handlers<Rpcs>,
  TH extends ToolHandlers<Tools> = ToolHandlers<Tools>,
  const Extra extends ReadonlyArray<Tool.Any> = []
>(
  agent: Agent<Name, Rpcs, Tools>,
  handlers: H,
  ...options: [keyof ToolHandlers<Tools>] extends [never] ? [options?: LayerOptions<Tools, TH, Extra>]
    : [options: LayerOptions<Tools, TH, Extra>]
): Layer.Layer<
  never,
  never,
  Requirements | Exclude<HandlersContext<H> | ToolHandlersContext<TH> | Tool.Context<Extra[number]>, CurrentAgent>
>
export function toLayer(
  agentIn: unknown,
  handlers: Record<string, any> = {},
  options: { readonly tools?: ReadonlyArray<Tool.Any> | undefined; readonly toolHandlers?: Record<string, any> | undefined } =
    {}
): Layer.Layer<never, never, any> {
  const agent = agentIn as Any & { readonly toolkit?: Toolkit.Any }
  const def = agent[TypeId]
  const missing = missingHandlers(def, handlers)
  if (missing !== undefined) return Layer.die(new Error(missing))
  const own = toolsOf(def.name, agent.toolkit ?? Toolkit.empty, options.toolHandlers ?? {})
  if (typeof own === "string") return Layer.die(new Error(own))
  const tools = [...own, ...(options.tools ?? [])]

  const entity = agent.toLayer(build(def, handlers, tools) as any, {
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
