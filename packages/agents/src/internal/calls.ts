/**
 * Every agent call of a run: named by its step key, recorded as a sent message and a reply
 * (stamped with the session's clock), and with agent failures turned into values, so a pattern
 * decides what a failure means (reassign, count against a quorum, report missing) instead of the
 * first failure ending the run.
 */
import { type Agent, Colony, Events } from "@colony/runtime"
import { Effect, Either } from "effect"
import * as SessionEvents from "../SessionEvents.js"
import type { AgentRef } from "./patterns.js"
import { Contribution } from "./result.js"
import type { RunContext } from "./runContext.js"

const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error ? String((error as { _tag: unknown })._tag) : "Error"
    const message = "message" in error ? String((error as { message: unknown }).message) : String(error)
    return `${tag}: ${message}`
  }
  return String(error)
}

/** What an agent's answer contributed to the run, as the `Result` lists it. */
export const answerOf = (role: Contribution["role"], by: AgentRef, task: string, step: string, answer: Agent.Answer) =>
  new Contribution({
    by,
    role,
    task,
    step,
    text: answer.text,
    model: answer.model,
    simulated: answer.simulated,
    totalTokens: answer.usage.totalTokens,
    cost: answer.cost,
    tools: answer.tools
  }, true)

/**
 * Ask `ref` with `prompt` as step `step`, its answer in `answerFormat` when given; its failure is a
 * value: the reason, as text.
 */
export const call = (
  ctx: RunContext,
  step: string,
  ref: AgentRef,
  prompt: string,
  from: string,
  answerFormat?: ConstructorParameters<typeof Agent.AnswerFormat>[0] | undefined
) =>
  Effect.gen(function*() {
    const to = ref.toString()
    yield* ctx.emit((m) => new SessionEvents.MessageSent({ ...m, step, to, rpc: "Ask", summary: Events.summarize(prompt) }, true))
    const messageId = ctx.stableMessageIds ? `${ctx.session}/${step}` : undefined
    const outcome = yield* ctx.load.track(to, Colony.ask(ref.agent, ref.id, prompt, { from, messageId, timeout: ctx.timeout, answerFormat })).pipe(
      (effect) => ctx.step(step, effect),
      Effect.either
    )
    yield* ctx.drain
    if (Either.isLeft(outcome)) {
      const reason = describeError(outcome.left)
      yield* ctx.emit((m) =>
        new SessionEvents.ReplyReceived({ ...m, step, from: to, rpc: "Ask", outcome: "failure", summary: Events.summarize(reason), totalTokens: 0 }, true)
      )
      return Either.left(reason)
    }
    const answer = outcome.right
    yield* ctx.emit((m) =>
      new SessionEvents.ReplyReceived({
        ...m,
        step,
        from: to,
        rpc: "Ask",
        outcome: "success",
        summary: Events.summarize(answer.text),
        totalTokens: answer.usage.totalTokens
      }, true)
    )
    return Either.right(answer)
  })

/** Ask `ref` to describe itself as step `step`: its capabilities, none when it cannot answer. */
export const describe = (ctx: RunContext, step: string, ref: AgentRef) =>
  Effect.gen(function*() {
    const to = ref.toString()
    yield* ctx.emit((m) => new SessionEvents.MessageSent({ ...m, step, to, rpc: "Describe", summary: "describe yourself" }, true))
    const outcome = yield* ctx.step(
      step,
      Colony.send(ref.agent, ref.id, "Describe", undefined, { timeout: ctx.timeout }).pipe(
        Effect.map((reply) => reply as Agent.Description)
      )
    ).pipe(Effect.either)
    const ok = Either.isRight(outcome)
    yield* ctx.emit((m) =>
      new SessionEvents.ReplyReceived({
        ...m,
        step,
        from: to,
        rpc: "Describe",
        outcome: ok ? "success" : "failure",
        summary: ok ? `capabilities: ${outcome.right.capabilities.join(", ") || "none"}` : describeError(outcome.left),
        totalTokens: 0
      }, true)
    )
    return ok ? outcome.right.capabilities : []
  })
