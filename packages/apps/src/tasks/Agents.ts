/**
 * The task service's agents: a coordinator that plans a task and synthesises the parts, and a
 * worker type whose instances each take the parts assigned to them. Every task gets instances of
 * its own (`Team.forTask`), so one task's memory never leaks into another's.
 *
 * @since 0.1.0
 */
import { Agent } from "@colony/runtime"
import { Layer } from "effect"

/**
 * Plans a posted task as independent parts and writes one answer from the workers' results.
 *
 * @since 0.1.0
 */
export const Coordinator = Agent.make({
  name: "task-coordinator",
  instructions: "You coordinate a task service: you split a task into independent parts that workers can do " +
    "in parallel, then combine their results into one complete answer to the original task.",
  capabilities: ["planning", "synthesis"],
  // a task is answered in one request: an idle coordinator has nothing left to do
  maxIdleTime: "1 minute"
})

/**
 * Does one part of a task and reports the result briefly.
 *
 * @since 0.1.0
 */
export const Worker = Agent.make({
  name: "task-worker",
  instructions: "You do one part of a larger task. Answer only the part you are given, completely and briefly; " +
    "state any assumption you make.",
  capabilities: ["execution"],
  maxIdleTime: "1 minute"
})

/**
 * Both agent types, hosted in this process (or on a runner).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = Layer.mergeAll(Agent.toLayer(Coordinator), Agent.toLayer(Worker))
