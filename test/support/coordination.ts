/**
 * The agents the coordination tests host on their runners (`colony runner --agents` loads this
 * module's default export; the runner hosts topics and locks itself): a topic subscriber and a
 * two-phase-commit participant.
 */
import { Topic, TwoPhaseCommit } from "@colony/agents"
import { Agent } from "@colony/runtime"
import { Effect, Layer } from "effect"

/** Takes every topic message and does nothing else with it. */
export const Reader = Agent.make({ name: "reader", protocol: [Topic.Message] })

/** Votes commit on anything; its prepared state is all the tests look at. */
export const Account = TwoPhaseCommit.participant({
  name: "account",
  prepare: () => Effect.succeed({ commit: true }),
  commit: () => Effect.void,
  abort: () => Effect.void
})

export default Layer.mergeAll(Agent.toLayer(Reader, { TopicMessage: () => Effect.void }), Account.layer)
