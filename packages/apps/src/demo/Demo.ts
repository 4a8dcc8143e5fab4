/**
 * `colony demo --team`: an embedded colony with a coordinator and three workers answers one request
 * master-slave style, printing a line per message as it flows, then the answer with provenance.
 * The team is also an application (`application`): `main.ts` serves it, with its presets, on
 * `colony gateway` and hosts it on `colony runner` when no `--agents` module is given.
 *
 * @since 0.1.0
 */
import { Collaboration } from "@colony/agents"
import { Agent, type AgentError, Colony, Events, type LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Console, Effect, Fiber, Layer, Queue } from "effect"
import * as Application from "../Application.js"

/**
 * @since 0.1.0
 */
export const Coordinator = Agent.make({
  name: "coordinator",
  instructions: "You coordinate a small team: you split work and synthesise the team's answers.",
  capabilities: ["planning", "synthesis"]
})

/**
 * @since 0.1.0
 */
export const Researcher = Agent.make({
  name: "researcher",
  instructions: "You research markets and customers and report facts briefly.",
  capabilities: ["research"]
})

/**
 * @since 0.1.0
 */
export const Writer = Agent.make({
  name: "writer",
  instructions: "You write clear, friendly copy.",
  capabilities: ["writing"]
})

/**
 * @since 0.1.0
 */
export const Analyst = Agent.make({
  name: "analyst",
  instructions: "You estimate costs and numbers and state your assumptions.",
  capabilities: ["analysis"]
})

/**
 * The demo team, hosted in this process.
 *
 * @since 0.1.0
 */
export const TeamLive = Layer.mergeAll(
  Agent.toLayer(Coordinator),
  Agent.toLayer(Researcher),
  Agent.toLayer(Writer),
  Agent.toLayer(Analyst)
)

const ref = (agent: string, id: string) => new Collaboration.AgentRef({ agent, id })

/**
 * The team's presets — `master-slave`, `peer` and `hybrid` over its four agents. Each run uses
 * the session id as the agents' instance id, so concurrent runs do not share memory.
 *
 * @since 0.1.0
 */
export const presets = (session: string): Readonly<Record<string, Collaboration.Collaboration>> => {
  const workers = [ref("researcher", session), ref("writer", session), ref("analyst", session)] as const
  return {
    "master-slave": Collaboration.MasterSlave.make({ coordinator: ref("coordinator", session), workers }),
    peer: Collaboration.Peer.make({ peers: workers }),
    hybrid: Collaboration.Hybrid.make({
      coordinator: ref("coordinator", session),
      teams: [
        new Collaboration.Team({ name: "research", peers: [ref("researcher", session), ref("analyst", session)] }),
        new Collaboration.Team({ name: "writing", peers: [ref("writer", session)] })
      ]
    })
  }
}

/**
 * The demo team as an application: its four agents, served to callers by name, and its presets.
 *
 * @since 0.1.0
 */
export const application: Application.Application = Application.make({
  name: "demo",
  hosted: TeamLive,
  agents: [Coordinator, Researcher, Writer, Analyst],
  served: [Coordinator, Researcher, Writer, Analyst],
  presets
})

/**
 * The request the demo runs.
 *
 * @since 0.1.0
 */
export const defaultTask =
  "Plan the launch of our new espresso machine: research the target market, draft the announcement, and estimate the launch budget"

/**
 * @since 0.1.0
 */
export const pattern = Collaboration.MasterSlave.make({
  coordinator: new Collaboration.AgentRef({ agent: "coordinator", id: "demo" }),
  workers: [
    new Collaboration.AgentRef({ agent: "researcher", id: "demo" }),
    new Collaboration.AgentRef({ agent: "writer", id: "demo" }),
    new Collaboration.AgentRef({ agent: "analyst", id: "demo" })
  ]
})

const progressLine = (event: Events.Event, start: number): string | undefined => {
  const t = `[${String(event.at - start).padStart(5)} ms]`
  switch (event._tag) {
    case "MessageReceived":
    case "MessageHandled":
    case "ModelCalled":
    case "AgentRestarted":
    case "AgentGaveUp":
    // the session's own steps; its sends and receipts duplicate the agents' lines above
    case "SessionStarted":
    case "TaskDecomposed":
    case "SubtaskAssigned":
    case "SubtaskReassigned":
    case "SessionCompleted":
    case "SessionFailed":
      return `${t} ${Events.format(event)}`
    default:
      return undefined
  }
}

/**
 * Run the demo on the current colony and print it.
 *
 * @since 0.1.0
 */
export const run = (
  task: string = defaultTask
): Effect.Effect<
  Collaboration.Result,
  AgentError.AgentError | LanguageModel.ModelError,
  Colony.Services | Sharding
> =>
  Effect.gen(function*() {
    const events = yield* Events.Events
    const queue = yield* events.subscribe
    const start = yield* Events.now
    yield* Console.log(`colony demo: master-slave, 1 coordinator + 3 workers, in one process`)
    yield* Console.log(`task: ${task}\n`)
    const printer = yield* Queue.take(queue).pipe(
      Effect.flatMap((event) => {
        const line = progressLine(event, start)
        return line === undefined ? Effect.void : Console.log(line)
      }),
      Effect.forever,
      Effect.fork
    )
    const result = yield* Collaboration.run(pattern, task, { session: "demo" })
    yield* Fiber.interrupt(printer)
    for (const event of yield* Queue.takeAll(queue)) {
      const line = progressLine(event, start)
      if (line !== undefined) yield* Console.log(line)
    }
    const label = result.simulated ? " (simulated model: no model endpoint configured)" : ""
    yield* Console.log(`\nanswer${label}:\n${result.answer}\n`)
    yield* Console.log("contributions:")
    for (const c of result.contributions) {
      yield* Console.log(`  ${c.by.toString()} (${c.role}, ${c.totalTokens} tokens) on: ${c.task}`)
      if (c.role === "worker") yield* Console.log(`    ${c.text}`)
    }
    yield* Console.log(`total: ${result.totalTokens} tokens${result.simulated ? ", simulated" : ""}`)
    return result
  }).pipe(Effect.scoped)

/**
 * The demo's colony: the team on the embedded default.
 *
 * @since 0.1.0
 */
export const layer = TeamLive.pipe(Layer.provideMerge(Colony.embedded))
