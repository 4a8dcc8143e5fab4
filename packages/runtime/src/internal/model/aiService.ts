/**
 * The door as an `@effect/ai` language model: code written against `@effect/ai`
 * (`LanguageModel.generateText` with a toolkit, `generateObject`, `streamText`, `Chat`) reaches a
 * model of the registry by name, with the registry's limits, retries, timeouts, accounting and
 * events around every call it makes.
 */
import * as AiError from "@effect/ai/AiError"
import * as AiLanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import * as AiTool from "@effect/ai/Tool"
import { Chunk, Effect, Stream } from "effect"
import { aiFinishReason, messagesOf } from "./aiPrompt.js"
import type { ModelError } from "./errors.js"
import type { ChatRequest, ChatResponse, ToolDefinition } from "./messages.js"
import { LanguageModel } from "./service.js"

const requestOf = (model: string, options: AiLanguageModel.ProviderOptions): ChatRequest => {
  const tools = options.tools.map((tool): ToolDefinition => ({
    name: tool.name,
    description: tool.description ?? "",
    parameters: tool.parametersSchema as any,
    jsonSchema: AiTool.getJsonSchema(tool as any) as unknown as Record<string, unknown>
  }))
  const choice = options.toolChoice
  // `{ tool }` and `{ oneOf }` reach us with the tools already narrowed to the allowed ones
  const toolChoice = choice === "auto" || choice === "none" || choice === "required"
    ? choice
    : "mode" in choice && choice.mode === "required" || "tool" in choice
    ? "required"
    : "auto"
  const format = options.responseFormat
  return {
    model,
    messages: messagesOf(options.prompt),
    ...(tools.length === 0 ? {} : { tools, toolChoice }),
    ...(format.type === "json" ? { responseFormat: { name: format.objectName, schema: format.schema as any } } : {})
  }
}

const failure = (method: string) => (error: ModelError): AiError.AiError =>
  new AiError.UnknownError({ module: "Colony", method, description: error.message, cause: error })

const parseParams = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const usageOf = (response: ChatResponse): typeof Response.Usage.Encoded => ({
  inputTokens: response.usage.promptTokens,
  outputTokens: response.usage.completionTokens,
  totalTokens: response.usage.totalTokens
})

const closing = (response: ChatResponse): Array<Response.StreamPartEncoded> => [
  ...response.toolCalls.map((call): Response.StreamPartEncoded => ({
    type: "tool-call",
    id: call.id,
    name: call.name,
    params: parseParams(call.arguments)
  })),
  { type: "finish", reason: aiFinishReason(response.finishReason), usage: usageOf(response) }
]

const metadata = (response: ChatResponse): Response.StreamPartEncoded => ({
  type: "response-metadata",
  modelId: response.modelId
})

/**
 * An `@effect/ai` `LanguageModel` service whose calls go through the door to the registry's model
 * `model`. A call that fails after the door's retries fails with an `AiError.UnknownError` whose
 * `cause` is the door's `ModelError`.
 */
export const toEffectAi = (model: string): Effect.Effect<AiLanguageModel.Service, never, LanguageModel> =>
  Effect.flatMap(LanguageModel, (door) =>
    AiLanguageModel.make({
      generateText: (options) =>
        door.chat(requestOf(model, options)).pipe(
          Effect.map((response): Array<Response.PartEncoded> => [
            metadata(response) as Response.PartEncoded,
            ...(response.text.length > 0 ? [{ type: "text" as const, text: response.text }] : []),
            ...closing(response) as Array<Response.PartEncoded>
          ]),
          Effect.mapError(failure("generateText"))
        ),
      streamText: (options) =>
        door.stream(requestOf(model, options)).pipe(
          Stream.mapError(failure("streamText")),
          Stream.mapConcat((part): Array<Response.StreamPartEncoded> =>
            part._tag === "TextDelta"
              ? [{ type: "text-delta", id: "text", delta: part.text }]
              : [{ type: "text-end", id: "text" }, metadata(part.response), ...closing(part.response)]
          ),
          Stream.prepend(Chunk.of<Response.StreamPartEncoded>({ type: "text-start", id: "text" }))
        ) as Stream.Stream<Response.StreamPartEncoded, AiError.AiError>
    }))
