/**
 * What answering a message took: the reply so far, who handled it, the tools used, and the
 * tokens and cost spent, summed across the steps of the desk.
 */
import type { Collaboration } from "@colony/agents"
import type { Agent } from "@colony/runtime"

export interface Outcome {
  readonly text: string
  readonly by: string
  readonly handledBy: ReadonlyArray<string>
  readonly tools: ReadonlyArray<Agent.ToolUse>
  readonly simulated: boolean
  readonly totalTokens: number
  readonly cost: number
}

export const dedupe = <A>(items: ReadonlyArray<A>): ReadonlyArray<A> => [...new Set(items)]

/** One specialist's answer as an outcome. */
export const fromAnswer = (by: string, answer: Agent.Answer): Outcome => ({
  text: answer.text,
  by,
  handledBy: [by],
  tools: answer.tools,
  simulated: answer.simulated,
  totalTokens: answer.usage.totalTokens,
  cost: answer.cost
})

/** A collaboration's result as an outcome, answered by `by`. */
export const fromResult = (result: Collaboration.Result, by: string): Outcome => ({
  text: result.answer,
  by,
  handledBy: dedupe(result.contributions.map((c) => `${c.by.agent}/${c.by.id}`)),
  tools: result.contributions.flatMap((c) => c.tools),
  simulated: result.simulated,
  totalTokens: result.totalTokens,
  cost: result.totalCost
})

/** `a` followed by `b`: `b`'s text and author when it has them, both steps' work and spending. */
export const combine = (a: Outcome, b: Partial<Outcome> & { readonly handledBy: ReadonlyArray<string> }): Outcome => ({
  text: b.text ?? a.text,
  by: b.by ?? a.by,
  handledBy: dedupe([...a.handledBy, ...b.handledBy]),
  tools: [...a.tools, ...(b.tools ?? [])],
  simulated: a.simulated || (b.simulated ?? false),
  totalTokens: a.totalTokens + (b.totalTokens ?? 0),
  cost: a.cost + (b.cost ?? 0)
})
