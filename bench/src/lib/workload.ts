/**
 * The work every contender does, word for word: the same system prompt, user prompt, model id and
 * endpoint, so a difference in time is a difference in the framework.
 */
import { readFileSync } from "node:fs"

/** The model id every contender sends to the fake server. */
export const MODEL_ID = "fake-model"

/** The single agent's system prompt. */
export const INSTRUCTIONS = "You are a helpful assistant. Answer in one short sentence."

/** The single agent's question. */
export const PROMPT = "What is the capital of France?"

/** The collaboration's task: four clauses, one per worker. */
export const TASK =
  "Plan the launch of our new espresso machine: research the target market, draft the announcement, " +
  "estimate the launch budget, and list the launch risks"

export const COORDINATOR_INSTRUCTIONS = "You coordinate a team: you combine your workers' answers into one."
export const WORKER_INSTRUCTIONS = "You are a worker on a team. Do the subtask you are given, briefly."

/** The exact versions the bench runs (its package.json pins them). */
export const versions: Readonly<Record<string, string>> = (() => {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    readonly devDependencies?: Record<string, string>
  }
  return manifest.devDependencies ?? {}
})()
