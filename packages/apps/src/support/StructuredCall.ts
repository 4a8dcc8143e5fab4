/**
 * A handler's own model call for structured output (the router's routing, the critic's
 * judgement), attributed to its agent and published as the agent's `ModelCalled`.
 */
import { type Agent, Events, LanguageModel } from "@colony/runtime"
import { Effect, type Schema } from "effect"
import { SupportError } from "./Desk.js"

export const structured = <A, I>(agent: Agent.AgentContext, prompt: string, schema: Schema.Schema<A, I, never>) =>
  Effect.gen(function*() {
    const started = yield* Events.now
    const result = yield* LanguageModel.generateObject({
      model: agent.definition.model,
      messages: [LanguageModel.ChatMessage.system(agent.definition.instructions), LanguageModel.ChatMessage.user(prompt)],
      schema
    }).pipe(
      LanguageModel.withAttribution({ agent: `${agent.agent}/${agent.id}` }),
      Effect.mapError((error) => new SupportError({ reason: `${agent.agent} could not decide: ${error.message}` }))
    )
    const at = yield* Events.now
    yield* Events.publish(
      new Events.ModelCalled({
        agent: agent.agent,
        id: agent.id,
        at,
        model: result.response.model,
        modelId: result.response.modelId,
        simulated: result.response.simulated,
        usage: result.usage,
        cost: result.cost,
        retries: result.response.retries,
        durationMs: at - started
      })
    )
    return result
  })

