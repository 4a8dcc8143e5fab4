/**
 * The OpenAI Agents SDK, as its docs write it for another OpenAI-compatible endpoint: an `Agent`
 * with instructions, run by a `Runner` whose model provider is `OpenAIProvider` with the
 * endpoint's base URL and the Chat Completions API (`useResponses: false`); tracing off, since
 * there is no OpenAI tracing endpoint here (it would otherwise try to export spans).
 */
import { Agent, OpenAIProvider, Runner } from "@openai/agents"
import { INSTRUCTIONS, MODEL_ID, versions } from "../lib/workload.js"
import type { Contender } from "./Contender.js"

export const openaiAgents: Contender = {
  id: "openai-agents",
  label: "OpenAI Agents SDK",
  version: `@openai/agents ${versions["@openai/agents"]}`,
  singleAgent: async (options) => {
    const runner = new Runner({
      modelProvider: new OpenAIProvider({ baseURL: options.baseUrl, apiKey: "x", useResponses: false }),
      tracingDisabled: true
    })
    const agent = new Agent({ name: "assistant", instructions: INSTRUCTIONS, model: MODEL_ID })
    return {
      call: async (prompt) => String((await runner.run(agent, prompt)).finalOutput ?? ""),
      close: async () => {}
    }
  }
}
