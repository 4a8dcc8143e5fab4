/**
 * Building an agent instance: what the cluster runs when an entity of the agent's type starts on
 * a runner, under the agent's supervision.
 */
import * as Entity from "@effect/cluster/Entity"
import { Duration, Effect, Ref } from "effect"
import { AgentMemory } from "../../AgentMemory.js"
import * as Events from "../../Events.js"
import * as Mcp from "../../Mcp.js"
import * as Supervision from "../../Supervision.js"
import { LanguageModel } from "../model/service.js"
import type { Tool } from "../model/tools.js"
import { makeAsking } from "./ask.js"
import type { Instance } from "./context.js"
import type { Definition } from "./definition.js"
import { entityHandlers, type EntityHandlers } from "./dispatch.js"
import { loadMemory } from "./memory.js"
import { makeToolbox } from "./tools.js"
import { makeTurn } from "./turn.js"

const instanceHere = (def: Definition) =>
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const runnerAddress = yield* Entity.CurrentRunnerAddress
    const id = address.entityId as string
    const instance: Instance = {
      def,
      id,
      key: `${def.name}/${id}`,
      runner: `${runnerAddress.host}:${runnerAddress.port}`,
      self: { agent: def.name, id },
      context: yield* Effect.context<any>()
    }
    return instance
  })

const announceRestart = (instance: Instance) =>
  Effect.gen(function*() {
    const supervisor = yield* Supervision.Supervisor
    const restart = yield* supervisor.onStart(instance.key, instance.def.supervision)
    if (restart === undefined) return false
    yield* Events.publish(
      new Events.AgentRestarted({
        agent: instance.def.name,
        id: instance.id,
        at: yield* Events.now,
        restart: restart.restart,
        delayMs: Duration.toMillis(restart.delay),
        defect: restart.defect
      })
    )
    return true
  })

const buildInstance = (def: Definition, handlers: Record<string, any>, tools: ReadonlyArray<Tool.Any>) =>
  Effect.gen(function*() {
    const instance = yield* instanceHere(def)
    const model = yield* LanguageModel
    const mcp = yield* Effect.serviceOption(Mcp.Mcp)
    const restarted = yield* announceRestart(instance)
    const memory = yield* loadMemory(yield* AgentMemory, instance)
    yield* Events.publish(
      new Events.AgentStarted({
        agent: def.name,
        id: instance.id,
        at: yield* Events.now,
        restart: restarted,
        memoryMessages: (yield* Ref.get(memory.transcript)).length
      })
    )
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Events.now, (at) => Events.publish(new Events.AgentStopped({ agent: def.name, id: instance.id, at })))
    )
    const toolbox = makeToolbox(instance, tools, mcp)
    const asking = makeAsking(instance, memory, makeTurn(instance, model, memory, toolbox))
    return entityHandlers({ instance, memory, toolbox, asking }, handlers)
  })

/**
 * The build of an instance of `def`, supervised. An instance that cannot be built (past its
 * supervision limit) is built as one that answers every message with the reason, so the cluster
 * does not rebuild it in a loop.
 */
export const build = (def: Definition, handlers: Record<string, any>, tools: ReadonlyArray<Tool.Any>) => {
  const refusing = (failure: unknown) =>
    Object.fromEntries(def.rpcs.map((tag) => [tag, () => Effect.fail(failure)])) as EntityHandlers
  return Effect.flatMap(Entity.CurrentAddress, (address) =>
    Supervision.superviseBuild(buildInstance(def, handlers, tools), {
      agent: def.name,
      id: address.entityId,
      policy: def.supervision,
      refuse: refusing
    }))
}
