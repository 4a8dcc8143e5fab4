/**
 * The router: what a customer message is about (its intents), whether it needs a person, and
 * which collaboration pattern answers it.
 */
import { Agent } from "@colony/runtime"
import { Effect } from "effect"
import * as Agents from "./Agents.js"
import type { Pattern } from "./Desk.js"
import { dedupe } from "./Outcome.js"
import { structured } from "./StructuredCall.js"

const questionWords = "how|what|where|when|why|which|who|can|could|do|does|did|is|are|will|would|should"
const questionStart = new RegExp(`^(?:${questionWords})\\b`, "i")
const questionBreak = new RegExp(`\\?|[.;!]\\s+|,?\\s+and\\s+(?=(?:${questionWords})\\b)`, "i")

/**
 * The questions a message asks: "Where is my order A-10023 and how do I change the address?"
 * asks two, "Hi, where is my order?" one. A message of several questions is multi-part even when
 * they are all one specialist's.
 *
 * @since 0.1.0
 */
export const questionsIn = (text: string): ReadonlyArray<string> =>
  text.split(questionBreak).map((part) => part.trim()).filter((part) => questionStart.test(part))

/**
 * The pattern for a routed message: hard cases go hybrid, a message of several intents or several
 * questions master-slave, a money question gets its answer peer-reviewed, the rest is one
 * specialist's.
 *
 * @since 0.1.0
 */
export const choosePattern = (routing: Agents.Routing, questions = 1): Pattern =>
  routing.handling === "hard"
    ? "hybrid"
    : routing.handling === "human"
    ? "single"
    : routing.intents.length > 1 || questions > 1
    ? "master-slave"
    : routing.intents[0] === "billing"
    ? "peer-review"
    : "single"

/** The router hosted. */
export const TriageLive = Agent.toLayer(Agents.Triage, {
  RouteMessage: ({ pattern, text }, agent) =>
    Effect.gen(function*() {
      const { response, usage, cost, value } = yield* structured(agent, text, Agents.Routing)
      const routing = { ...value, intents: dedupe(value.intents) }
      return new Agents.Route({
        intents: routing.intents,
        handling: routing.handling,
        pattern: pattern ?? choosePattern(routing, questionsIn(text).length),
        forced: pattern !== undefined,
        simulated: response.simulated,
        totalTokens: usage.totalTokens,
        cost
      })
    })
})

