/**
 * Calling agents: the typed client for an agent type, and sending to or asking an agent named at
 * run time.
 */
import type * as Sharding from "@effect/cluster/Sharding"
import type * as Rpc from "@effect/rpc/Rpc"
import { type Duration, Effect } from "effect"
import * as Agent from "../../Agent.js"
import { type AgentError, type DeliveryError, UnknownAgent } from "../../AgentError.js"
import type * as LanguageModel from "../../LanguageModel.js"
import * as Registry from "../registry.js"
import type { Services } from "./config.js"
import { deliver } from "./delivery.js"

type Method<R extends Rpc.Any> = (
  ...args: [Rpc.PayloadConstructor<R>] extends [void] ? [] : [payload: Rpc.PayloadConstructor<R>]
) => Effect.Effect<Rpc.Success<R>, Rpc.Error<R> | DeliveryError | UnknownAgent>

/**
 * A typed handle on one agent instance: a method per RPC of its protocol.
 *
 * @since 0.1.0
 * @category clients
 */
export type AgentClient<Rpcs extends Rpc.Any> = {
  readonly [R in Rpcs as R["_tag"]]: Method<R>
}

/**
 * A typed client for an agent type: give it an instance id, get a method per RPC. Calls fail
 * with the RPC's own errors or a typed delivery error, never with a hang on an unknown agent,
 * a bare interruption or a broken connection: a call the agent's runner cut off is
 * `AgentInterrupted`, a lost connection `AgentUnavailable`, and a call with no reply within its
 * deadline (`timeout`, else `withCallTimeout`, else `COLONY_CALL_TIMEOUT`) `AgentCallTimeout`.
 * Calls that repeating cannot make happen twice are repeated, with backoff, until the deadline.
 *
 * @since 0.1.0
 * @category clients
 */
export const client = <Name extends string, Rpcs extends Rpc.Any>(
  agent: Agent.Agent<Name, Rpcs>,
  options?: { readonly timeout?: Duration.DurationInput | undefined }
): Effect.Effect<
  (id: string) => AgentClient<Agent.BaseRpcs | Agent.Supervised<Rpcs>>,
  never,
  Services | Sharding.Sharding
> =>
  Effect.map(Effect.context<Services | Sharding.Sharding>(), (context) => (id: string) =>
    new Proxy({} as any, {
      get(cache, tag) {
        if (typeof tag !== "string") return undefined
        return cache[tag] ??= (payload?: unknown) =>
          Effect.provide(deliver(agent as unknown as Agent.Any, id, tag, payload, { decode: false, timeout: options?.timeout }), context)
      }
    }))

/**
 * The names of the agent types this process knows.
 *
 * @since 0.1.0
 * @category clients
 */
export const agents: Effect.Effect<ReadonlyArray<string>, never, Registry.Registry> = Effect.map(
  Registry.Registry,
  (registry) => registry.names()
)

const lookup = (name: string) =>
  Effect.flatMap(Registry.Registry, (registry) => {
    const entity = registry.get(name)
    return entity !== undefined && Agent.isAgent(entity)
      ? Effect.succeed(entity)
      : Effect.fail(new UnknownAgent({ agent: name, registered: registry.names() }))
  })

/**
 * Send a message to an agent named at run time, with an untrusted payload (JSON from a CLI, an
 * HTTP body): the payload is decoded with the RPC's schema first. The reply is the RPC's decoded
 * success value; a failure is a delivery error or the RPC's own error value.
 *
 * @since 0.1.0
 * @category clients
 */
export const send = (
  agent: string,
  id: string,
  rpc: string,
  payload: unknown,
  options?: { readonly timeout?: Duration.DurationInput | undefined }
): Effect.Effect<unknown, AgentError | DeclaredError, Services | Sharding.Sharding> =>
  Effect.flatMap(lookup(agent), (entity) => deliver(entity, id, rpc, payload, { decode: true, timeout: options?.timeout })) as Effect.Effect<
    unknown,
    AgentError | DeclaredError,
    Services | Sharding.Sharding
  >

/**
 * An error an RPC declares in its own protocol (for calls whose RPC is only known at run time).
 *
 * @since 0.1.0
 * @category clients
 */
export interface DeclaredError {
  readonly _tag: string
  readonly message?: string
}

/**
 * Ask an agent named at run time.
 *
 * @since 0.1.0
 * @category clients
 */
export const ask = (
  agent: string,
  id: string,
  prompt: string,
  options?: {
    readonly from?: string | undefined
    /** for durable agents: the same id twice is handled once (see `Agent.AskPayload`) */
    readonly messageId?: string | undefined
    /** the call's deadline, instead of `COLONY_CALL_TIMEOUT` */
    readonly timeout?: Duration.DurationInput | undefined
    /** the answer's text is JSON in this shape (see `Agent.AnswerFormat`) */
    readonly answerFormat?: ConstructorParameters<typeof Agent.AnswerFormat>[0] | undefined
  }
): Effect.Effect<Agent.Answer, AgentError | LanguageModel.ModelError, Services | Sharding.Sharding> =>
  Effect.flatMap(
    lookup(agent),
    (entity) =>
      deliver(entity, id, "Ask", {
        prompt,
        ...(options?.from === undefined ? {} : { from: options.from }),
        ...(options?.messageId === undefined ? {} : { messageId: options.messageId }),
        ...(options?.answerFormat === undefined ? {} : { answerFormat: new Agent.AnswerFormat(options.answerFormat) })
      }, { decode: false, timeout: options?.timeout }) as Effect.Effect<
        Agent.Answer,
        AgentError | LanguageModel.ModelError
      >
  )
