/**
 * The critic: checks a draft reply against the written support policy. The written rules always
 * count; a real model's judgement adds the rules it names.
 */
import { Agent } from "@colony/runtime"
import { Effect, Schema } from "effect"
import * as Agents from "./Agents.js"
import * as Policy from "./Policy.js"
import { structured } from "./StructuredCall.js"

const Judgement = Schema.Struct({
  verdict: Schema.Union(
    Schema.Literal("approve").annotations({ description: "the reply follows every rule of the policy" }),
    Schema.Literal("reject").annotations({ description: "the reply breaks at least one rule of the policy" })
  ),
  broken: Schema.Array(Schema.String).annotations({ description: "the numbers of the rules the reply breaks" })
}).annotations({ identifier: "Judgement" })

/** The critic hosted. */
export const CriticLive = Agent.toLayer(Agents.Critic, {
  CheckDraft: ({ draft, question }, agent) =>
    Effect.gen(function*() {
      const broken = Policy.violations(draft).map((rule) => rule.id)
      const judged = yield* structured(
        agent,
        `The support policy:\n${Policy.text}\n\nThe customer wrote:\n${question}\n\nThe draft reply:\n${draft}\n\n` +
          `Does the draft follow the policy?`,
        Judgement
      )
      // A simulated judgement only echoes words of the prompt, so offline the written rules decide alone.
      const modelRejects = !judged.response.simulated && judged.value.verdict === "reject"
      const violations = modelRejects && broken.length === 0
        ? judged.value.broken.map((n) => Policy.rules[Number(n) - 1]?.id ?? `policy rule ${n}`)
        : broken
      return new Agents.Verdict({
        approved: violations.length === 0,
        violations,
        simulated: judged.response.simulated,
        totalTokens: judged.usage.totalTokens,
        cost: judged.cost
      })
    })
})

