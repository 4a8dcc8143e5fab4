/**
 * The agents the Postgres suite's runners host (`colony runner --agents` loads this module's
 * default export): one volatile, one durable.
 */
import { Agent } from "@colony/runtime"
import { Layer } from "effect"

/** Volatile messages. */
export const Clerk = Agent.make({ name: "clerk", instructions: "You answer questions briefly." })

/** Durable: persisted messages, deduplicated by message id, replayed after a crash. */
export const Keeper = Agent.make({ name: "keeper", instructions: "You keep records.", durable: true })

export default Layer.mergeAll(Agent.toLayer(Clerk), Agent.toLayer(Keeper))
