/**
 * The short texts an agent's events carry about a message, its result and how it ended.
 */
import { Cause, Exit } from "effect"
import * as Events from "../../Events.js"
import { Answer } from "./protocol.js"

export const summarizePayload = (payload: unknown): string => {
  if (typeof payload === "object" && payload !== null && "prompt" in payload) {
    return Events.summarize(String((payload as { prompt: unknown }).prompt))
  }
  try {
    return Events.summarize(JSON.stringify(payload) ?? "")
  } catch {
    return "(payload)"
  }
}

export const summarizeResult = (value: unknown): string => {
  if (value instanceof Answer) return Events.summarize(value.text)
  if (value === undefined) return "done"
  return summarizePayload(value)
}

export const outcomeOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit)
    ? "success" as const
    : Cause.isInterruptedOnly(exit.cause)
    ? "interrupted" as const
    : Cause.isFailure(exit.cause)
    ? "failure" as const
    : "defect" as const

export const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.squash(cause)
  const message = typeof failure === "object" && failure !== null && "message" in failure &&
      typeof failure.message === "string" && failure.message.length > 0
    ? failure.message
    : Cause.pretty(cause).split("\n")[0]!
  const tag = typeof failure === "object" && failure !== null && "_tag" in failure ? `${String(failure._tag)}: ` : ""
  return `${tag}${message}`
}
