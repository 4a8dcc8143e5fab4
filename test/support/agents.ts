/**
 * The agents the multi-process tests host on their runners (`colony runner --agents` loads this
 * module's default export).
 */
import { Agent } from "@colony/runtime"
import { Layer } from "effect"

/** A plain agent: volatile messages. */
export const Clerk = Agent.make({ name: "clerk", instructions: "You answer questions briefly." })

/** A durable agent: persisted messages, deduplicated by message id, replayed after a crash. */
export const Keeper = Agent.make({ name: "keeper", instructions: "You keep records.", durable: true })

/** Durable peers for collaborations that must survive a runner's death. */
export const Debater = Agent.make({
  name: "debater",
  instructions: "You debate briefly and end with your position.",
  durable: true
})

export default Layer.mergeAll(Agent.toLayer(Clerk), Agent.toLayer(Keeper), Agent.toLayer(Debater))
