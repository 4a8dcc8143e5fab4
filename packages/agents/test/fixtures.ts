/**
 * A small colony for collaboration tests. Agents answer through the simulated model, wrapped so a
 * model name can script an answer: `choice:<x>` ends with `CHOICE: <x>`, `value:<n>` with
 * `VALUE: <n>`, `crash` dies (a handler defect, so supervision restarts the agent and then gives
 * up), `hang` never answers. Every prompt a model sees is recorded, so tests can check what an agent was shown.
 */
import { Collaboration, LoadTracker } from "@colony/agents"
import { Agent, Colony, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Context, Effect, Layer, Ref } from "effect"

export class Prompts extends Context.Tag("test/Prompts")<Prompts, Ref.Ref<ReadonlyArray<string>>>() {}

const scripted = Layer.effect(
  LanguageModel.LanguageModel,
  Effect.gen(function*() {
    const simulated = yield* LanguageModel.LanguageModel
    const prompts = yield* Prompts
    return {
      ...simulated,
      chat: (request: LanguageModel.ChatRequest) =>
        Effect.gen(function*() {
          const last = request.messages[request.messages.length - 1]?.content ?? ""
          yield* Ref.update(prompts, (all) => [...all, last])
          if (request.model === "crash") return yield* Effect.die(new Error("the model crashed"))
          if (request.model === "hang") return yield* Effect.never
          const response = yield* simulated.chat(request)
          const [kind, value] = request.model.split(":")
          if (kind === "choice") return new LanguageModel.ChatResponse({ ...response, text: `${response.text}\nCHOICE: ${value}` })
          if (kind === "value") return new LanguageModel.ChatResponse({ ...response, text: `${response.text}\nVALUE: ${value}` })
          return response
        })
    }
  })
).pipe(Layer.provide(LanguageModel.layerSimulated))

const agents: ReadonlyArray<Layer.Layer<never, never, Agent.Requirements>> = [
  Agent.toLayer(Agent.make({ name: "lead", instructions: "You coordinate and synthesise." })),
  Agent.toLayer(Agent.make({ name: "helper" })),
  Agent.toLayer(Agent.make({ name: "researcher", capabilities: ["research"] })),
  Agent.toLayer(Agent.make({ name: "writer", capabilities: ["writing"] })),
  Agent.toLayer(Agent.make({ name: "red", model: "choice:red" })),
  Agent.toLayer(Agent.make({ name: "blue", model: "choice:blue" })),
  Agent.toLayer(Agent.make({ name: "low", model: "value:10" })),
  Agent.toLayer(Agent.make({ name: "high", model: "value:40" })),
  Agent.toLayer(Agent.make({ name: "sleeper", model: "hang" })),
  Agent.toLayer(Agent.make({ name: "crashy", model: "crash", supervision: { maxRestarts: 1, initialBackoff: "1 millis" } }))
]

export const PromptsLive = Layer.effect(Prompts, Ref.make<ReadonlyArray<string>>([]))

export const colony: Layer.Layer<Colony.Services | Sharding | Prompts | LoadTracker.LoadTracker> = Layer.mergeAll(agents[0]!, ...agents.slice(1)).pipe(
  Layer.provideMerge(
    Layer.provideMerge(Colony.layerEmbedded({ languageModel: Layer.provide(scripted, PromptsLive) }), PromptsLive)
  ),
  Layer.provideMerge(LoadTracker.layer),
  Layer.orDie
)

export const ref = (address: string) => {
  const [agent, id] = address.split("/")
  return new Collaboration.AgentRef({ agent: agent!, id: id! })
}
