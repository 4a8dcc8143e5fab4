/**
 * The floor: the official `openai` client (the version Colony itself uses), one
 * `chat.completions.create` per model call, nothing else. The team does the same calls as the
 * collaborations: one per subtask in parallel, then one synthesis.
 */
import { Aggregate, Decompose } from "@colony/agents"
import OpenAI from "openai"
import { COORDINATOR_INSTRUCTIONS, INSTRUCTIONS, MODEL_ID, versions, WORKER_INSTRUCTIONS } from "../lib/workload.js"
import type { Contender, Options } from "./Contender.js"

const client = (options: Options) => new OpenAI({ baseURL: options.baseUrl, apiKey: "x", maxRetries: 0 })

const complete = async (openai: OpenAI, system: string, user: string): Promise<string> => {
  const completion = await openai.chat.completions.create({
    model: MODEL_ID,
    messages: [{ role: "system", content: system }, { role: "user", content: user }]
  })
  return completion.choices[0]?.message.content ?? ""
}

export const raw: Contender = {
  id: "raw",
  label: "openai client (raw)",
  version: `openai ${versions["openai"]}`,
  singleAgent: async (options) => {
    const openai = client(options)
    return { call: (prompt) => complete(openai, INSTRUCTIONS, prompt), close: async () => {} }
  },
  team: async (options) => {
    const openai = client(options)
    return {
      run: async (task) => {
        const subtasks = Decompose.byClauses(task)
        const texts = await Promise.all(subtasks.map((subtask) => complete(openai, WORKER_INSTRUCTIONS, subtask)))
        const parts = subtasks.map((subtask, i) => ({ subtask, text: texts[i]! }))
        return complete(openai, COORDINATOR_INSTRUCTIONS, Aggregate.synthesisPrompt(task, parts))
      },
      close: async () => {}
    }
  }
}
