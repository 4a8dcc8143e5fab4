/**
 * Any `@effect/ai` language model as a provider behind the door: the door keeps what is Colony's
 * (the registry name, limits, retries honouring Retry-After, timeouts, accounting, events) and the
 * provider answers one attempt. Its `AiError`s are sorted like the `openai` client's faults: a
 * transport error, 408, 409, 429 and 5xx are worth another attempt, other statuses are final,
 * output that does not decode is malformed.
 */
import type * as AiError from "@effect/ai/AiError"
import type * as AiLanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import type * as AiTool from "@effect/ai/Tool"
import { Chunk, Effect, Option, Stream } from "effect"
import type * as ModelRegistry from "../ModelRegistry.js"
import { aiFormatSchema, aiToolOf, finishReasonOf, promptOf, usageOf } from "./model/aiPrompt.js"
import { type ChatRequest, ChatResponse, ToolCall } from "./model/messages.js"
import {
  type AttemptFailure,
  Cut,
  jsonSchemaOf,
  Malformed,
  type Provider,
  Rejected,
  retryAfterMillis,
  type StreamFailure,
  TimedOut,
  Transient,
  transientStatus,
  type WireEvent
} from "./provider.js"

// header names as the endpoint wrote them, read case-insensitively
const headerOf = (headers: Readonly<Record<string, string>>) => (name: string): string | undefined => {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value
  return undefined
}


/** What one failed attempt of an `@effect/ai` provider means to the retries. */
export const classify = (error: AiError.AiError): AttemptFailure => {
  switch (error._tag) {
    case "HttpRequestError":
      return new Transient({ status: undefined, retryAfterMs: undefined, reason: error.message })
    case "HttpResponseError": {
      if (error.reason !== "StatusCode") return new Malformed({ reason: error.message })
      const status = error.response.status
      return transientStatus(status)
        ? new Transient({ status, retryAfterMs: retryAfterMillis(headerOf(error.response.headers)), reason: error.message })
        : new Rejected({ status, reason: error.message })
    }
    case "MalformedOutput":
    case "MalformedInput":
      return new Malformed({ reason: error.message })
    case "UnknownError":
      return new Transient({ status: undefined, retryAfterMs: undefined, reason: error.message })
  }
}

const streamFailure = (error: AiError.AiError): StreamFailure => {
  const failure = classify(error)
  return failure._tag === "Malformed" ? failure : new Cut({ reason: error.message })
}

// Tool calls are answered by the door's tool loop, never by the provider's toolkit resolution;
// the handler is there only because the option's type wants one.
const toolkitOf = (request: ChatRequest) => {
  const tools: Record<string, AiTool.Any> = {}
  for (const tool of request.tools ?? []) tools[tool.name] = aiToolOf(tool)
  return {
    tools,
    handle: (name: string) => Effect.dieMessage(`the tool "${name}" is run by Colony's tool loop, not by the provider`)
  }
}

const optionsOf = (request: ChatRequest) => ({
  prompt: promptOf(request.messages),
  ...((request.tools ?? []).length === 0 ? {} : {
    toolkit: toolkitOf(request) as any,
    toolChoice: request.toolChoice ?? "auto",
    disableToolCallResolution: true
  })
})

const callsOf = (response: { readonly toolCalls: ReadonlyArray<Response.ToolCallPart<string, unknown>> }) =>
  response.toolCalls.map((call) => new ToolCall({ id: call.id, name: call.name, arguments: JSON.stringify(call.params) }))

const modelIdOf = (content: ReadonlyArray<Response.AnyPart>): string | undefined => {
  for (const part of content) if (part.type === "response-metadata" && part.modelId._tag === "Some") return part.modelId.value
  return undefined
}

/**
 * The door's provider for an `@effect/ai` service. A structured-output request is sent as
 * `generateObject` with the JSON Schema the door would send; the door decodes (and repairs) the
 * text itself. Sampling settings (`temperature`, `maxTokens`) are the provider's own
 * configuration in `@effect/ai` and are not passed on.
 */
export const effectAiProvider = (service: AiLanguageModel.Service): Provider => {
  const complete: Provider["complete"] = (resolved, request, timeoutMs) => {
    const options = optionsOf(request)
    const format = request.responseFormat
    const generated: Effect.Effect<
      { readonly text: string; readonly content: ReadonlyArray<Response.AnyPart>; readonly usage: Response.Usage } & {
        readonly toolCalls: ReadonlyArray<Response.ToolCallPart<string, unknown>>
        readonly finishReason: Response.FinishReason
      },
      AiError.AiError
    > = format === undefined
      ? service.generateText(options as any) as any
      : service.generateObject({
        ...options,
        objectName: format.name,
        schema: aiFormatSchema(format, format.jsonSchema ?? jsonSchemaOf(format.schema))
      } as any) as any
    return generated.pipe(
      Effect.mapError(classify),
      Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new TimedOut() }),
      Effect.map((response) =>
        new ChatResponse({
          text: response.text,
          model: resolved.name,
          modelId: modelIdOf(response.content) ?? resolved.modelId,
          simulated: false,
          usage: usageOf(response.usage),
          toolCalls: callsOf(response),
          finishReason: finishReasonOf(response.finishReason)
        })
      )
    )
  }

  // The first part arrives within the attempt (a failure before it is retried); after it, each
  // part must follow the last within the timeout.
  const open: Provider["open"] = (_resolved, request, timeoutMs) =>
    Effect.gen(function*() {
      const parts = service.streamText(optionsOf(request) as any) as Stream.Stream<Response.AnyPart, AiError.AiError>
      const pull = yield* Stream.toPull(parts)
      const next = <F>(onError: (error: AiError.AiError) => F): Effect.Effect<Chunk.Chunk<Response.AnyPart>, Option.Option<F | TimedOut>> =>
        pull.pipe(
          Effect.mapError(Option.map(onError)),
          Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => Option.some(new TimedOut()) })
        )
      const first: Chunk.Chunk<Response.AnyPart> = yield* next(classify).pipe(
        Effect.catchAll((failure) =>
          Option.isSome(failure) ? Effect.fail(failure.value) : Effect.succeed(Chunk.empty<Response.AnyPart>())
        )
      )
      let index = 0
      const toEvent = (part: Response.AnyPart): ReadonlyArray<WireEvent> => {
        switch (part.type) {
          case "text-delta":
            return [{ text: part.delta }]
          case "tool-call":
            return [{ toolCalls: [{ index: index++, id: part.id, name: part.name, arguments: JSON.stringify(part.params) }] }]
          case "response-metadata":
            return Option.isSome(part.modelId) ? [{ modelId: part.modelId.value }] : []
          case "finish":
            return [{ finishReason: finishReasonOf(part.reason), usage: usageOf(part.usage) }]
          default:
            return []
        }
      }
      const rest: Stream.Stream<Response.AnyPart, StreamFailure> = Stream.repeatEffectChunkOption(next(streamFailure))
      return Stream.concat(Stream.fromChunk(first), rest).pipe(Stream.mapConcat(toEvent))
    })

  return { complete, open }
}

/** The registry's `@effect/ai` entries, built once for the scope of the door. */
export type Services = ReadonlyMap<ModelRegistry.ModelSettings, AiLanguageModel.Service>
