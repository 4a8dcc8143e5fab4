/**
 * Colony, embedded: agents defined with `Agent.make`, hosted with `Agent.toLayer` on
 * `Colony.layerEmbedded`, models from `LanguageModel.layerOpenAI` pointed at the fake server, and
 * called through the typed client (`Colony.client`). The team is `Collaboration.MasterSlave`
 * (clauses decomposition, round-robin, synthesis by the coordinator).
 *
 * The single agent keeps no conversation memory (`historyLimit: 0`), so its request is the same
 * two messages the stateless peers send; the session id is the agent id, one agent per session.
 * The model client's concurrency limit (default 8 per endpoint) is raised to what the suite asks.
 */
import { Collaboration } from "@colony/agents"
import { Agent, Colony, LanguageModel } from "@colony/runtime"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { COORDINATOR_INSTRUCTIONS, INSTRUCTIONS, MODEL_ID, WORKER_INSTRUCTIONS } from "../lib/workload.js"
import type { Contender, Options, Team } from "./Contender.js"

export const Assistant = Agent.make({
  name: "assistant",
  instructions: INSTRUCTIONS,
  model: MODEL_ID,
  historyLimit: 0
})

// historyLimit 0: a warm team answers every run from the same two messages, like the peers
const Coordinator = Agent.make({ name: "coordinator", instructions: COORDINATOR_INSTRUCTIONS, model: MODEL_ID, historyLimit: 0 })
const Worker = Agent.make({ name: "worker", instructions: WORKER_INSTRUCTIONS, model: MODEL_ID, historyLimit: 0 })

/** The embedded colony every Colony contender runs on. */
export const colonyLayer = (options: Options) =>
  Colony.layerEmbedded({
    languageModel: LanguageModel.layerOpenAI({
      baseUrl: options.baseUrl,
      apiKey: "x",
      maxConcurrency: options.maxConcurrency
    })
  }).pipe(
    // retried attempts log warnings; the suites count failures themselves and keep the tables readable
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
  )

const team = async (options: Options & { readonly workers: number }, fresh: boolean): Promise<Team> => {
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(Agent.toLayer(Coordinator), Agent.toLayer(Worker)).pipe(Layer.provideMerge(colonyLayer(options)))
  )
  await runtime.runPromise(Effect.void)
  return {
    run: (task, runName) => {
      const run = fresh ? runName : "warm"
      const pattern = Collaboration.MasterSlave.make({
        coordinator: new Collaboration.AgentRef({ agent: "coordinator", id: run }),
        workers: [
          new Collaboration.AgentRef({ agent: "worker", id: `${run}-1` }),
          ...Array.from({ length: options.workers - 1 }, (_, i) => new Collaboration.AgentRef({ agent: "worker", id: `${run}-${i + 2}` }))
        ]
      })
      return runtime.runPromise(Effect.map(Collaboration.run(pattern, task), (result) => result.answer))
    },
    close: () => runtime.dispose()
  }
}

export const colony: Contender = {
  id: "colony",
  label: "Colony Ask (embedded)",
  version: "@colony/runtime (this repo)",
  singleAgent: async (options) => {
    const runtime = ManagedRuntime.make(Agent.toLayer(Assistant).pipe(Layer.provideMerge(colonyLayer(options))))
    const assistant = await runtime.runPromise(Colony.client(Assistant))
    return {
      call: (prompt, session) => runtime.runPromise(Effect.map(assistant(session).Ask({ prompt }), (answer) => answer.text)),
      close: () => runtime.dispose()
    }
  },
  team: (options) => team(options, true)
}

/**
 * The same team with the same agent ids on every run: the agents stay active between runs, so
 * a run pays for messages and model calls but not for activating five agents.
 */
export const colonyWarm: Contender = {
  id: "colony-warm",
  label: "Colony MasterSlave, warm agents",
  version: "@colony/agents (this repo)",
  team: (options) => team(options, false)
}
