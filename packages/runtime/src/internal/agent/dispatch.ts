/**
 * An instance's entity handlers: every message is recorded as received and handled, refused while
 * the memory cannot be read, and run under the agent's supervision, in the agent's context.
 */
import type * as Entity from "@effect/cluster/Entity"
import { Cause, Duration, Effect, Exit, Option, Ref } from "effect"
import * as Events from "../../Events.js"
import * as Supervision from "../../Supervision.js"
import type { Asking } from "./ask.js"
import { type AgentContext, CurrentAgent, type Instance } from "./context.js"
import type { InstanceMemory } from "./memory.js"
import { baseTags, Description } from "./protocol.js"
import { outcomeOf, summarizePayload, summarizeResult } from "./summaries.js"
import type { Toolbox } from "./tools.js"

/** The entity's handlers, by RPC tag (entity handlers are untyped). */
export type EntityHandlers = Record<string, (request: Entity.Request<any>) => Effect.Effect<any, any, any>>

/** What an instance is made of, for its handlers. */
export interface Parts {
  readonly instance: Instance
  readonly memory: InstanceMemory
  readonly toolbox: Toolbox
  readonly asking: Asking
}

const received = (instance: Instance, rpc: string, payload: unknown, at: number) => {
  const from = typeof payload === "object" && payload !== null && "from" in payload
    ? (payload as { from?: string }).from
    : undefined
  return Events.publish(
    new Events.MessageReceived({
      agent: instance.def.name,
      id: instance.id,
      at,
      rpc,
      ...(from === undefined ? {} : { from }),
      summary: summarizePayload(payload)
    }, true)
  )
}

const handled = (instance: Instance, rpc: string, started: number) => (exit: Exit.Exit<unknown, unknown>) =>
  Effect.flatMap(Events.now, (at) =>
    Events.publish(
      new Events.MessageHandled({
        agent: instance.def.name,
        id: instance.id,
        at,
        rpc,
        outcome: outcomeOf(exit),
        durationMs: at - started,
        summary: Exit.isSuccess(exit) ? summarizeResult(exit.value) : Cause.pretty(exit.cause).split("\n")[0]!
      }, true)
    ))

const handle = ({ instance, memory }: Parts) => (rpc: string, payload: unknown, run: Effect.Effect<unknown, unknown, any>) =>
  Effect.gen(function*() {
    const started = yield* Events.now
    yield* received(instance, rpc, payload, started)
    // an agent whose memory could not be read answers nothing but Forget until it is repaired
    const guarded = rpc === "Forget" ? run : Effect.flatMap(Ref.get(memory.unreadable), Option.match({
      onNone: () => run,
      onSome: (error) => Effect.fail(memory.refusal(rpc, error))
    }))
    const { def, id } = instance
    return yield* Supervision.supervise(guarded, { agent: def.name, id, rpc, policy: def.supervision }).pipe(
      Effect.onExit(handled(instance, rpc, started)),
      Effect.provide(instance.context),
      Effect.provideService(CurrentAgent, instance.self)
    )
  })

const describe = ({ instance, memory, toolbox }: Parts) =>
  Effect.map(Effect.all([Ref.get(memory.transcript), toolbox.details]), ([transcript, details]) => {
    const { def } = instance
    return new Description({
      name: def.name,
      id: instance.id,
      runner: instance.runner,
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
    })
  })

/** The handlers of the base protocol and of the agent's own RPCs (`handlers`, by tag). */
export const entityHandlers = (parts: Parts, handlers: Record<string, any>): EntityHandlers => {
  const { asking, instance, memory } = parts
  const { def } = instance
  const run = handle(parts)
  const agentContext: AgentContext = {
    agent: def.name,
    id: instance.id,
    definition: def,
    ask: asking.volatile,
    history: Ref.get(memory.transcript),
    remember: memory.remember
  }
  const result: EntityHandlers = {
    Ask: ({ payload }) =>
      run(
        "Ask",
        payload,
        def.durable
          ? asking.durable(payload.prompt, payload.messageId, payload.answerFormat)
          : asking.volatile(payload.prompt, payload.answerFormat)
      ),
    Describe: () => run("Describe", undefined, describe(parts)),
    Forget: () => run("Forget", undefined, memory.forget)
  }
  for (const tag of def.rpcs) {
    if (baseTags.has(tag)) continue
    result[tag] = (request) =>
      run(tag, request.payload, Effect.suspend(() => handlers[tag](request.payload, { ...agentContext, ask: asking.within(request) })))
  }
  return result
}
