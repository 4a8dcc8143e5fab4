/**
 * Mastra, as its docs write it for an OpenAI-compatible endpoint: an `Agent` with instructions
 * and a model given as `{ providerId, modelId, url, apiKey }` (Chat Completions), answered with
 * `agent.generate(prompt)`. No memory is configured, so nothing is stored between calls.
 *
 * `@mastra/core` 1.x declares `engines: node >= 22.13`; it is measured here on Node 20, where it
 * runs (the suite reports if it stops doing so).
 */
import { Agent } from "@mastra/core/agent"
import { INSTRUCTIONS, MODEL_ID, versions } from "../lib/workload.js"
import type { Contender } from "./Contender.js"

export const mastra: Contender = {
  id: "mastra",
  label: "Mastra Agent",
  version: `@mastra/core ${versions["@mastra/core"]}`,
  singleAgent: async (options) => {
    const agent = new Agent({
      id: "assistant",
      name: "assistant",
      instructions: INSTRUCTIONS,
      model: { providerId: "fake", modelId: MODEL_ID, url: options.baseUrl, apiKey: "x", api: "chat" }
    })
    return {
      call: async (prompt) => (await agent.generate(prompt)).text,
      close: async () => {}
    }
  }
}
