/**
 * The provider for OpenAI-compatible endpoints, through the `openai` client: it builds the
 * request (tools, and structured output in the model's `structuredOutput` mode), decodes the
 * answer against the wire format, and sorts what goes wrong into faults worth another attempt
 * and final ones.
 */
import { Effect, Option, ParseResult, Redacted, Schema, Stream } from "effect"
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai"
import type * as ModelRegistry from "../ModelRegistry.js"
import type { ChatRequest, ResponseFormat } from "./model/messages.js"
import { ChatMessage, ChatResponse, ToolCall, Usage } from "./model/messages.js"
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
  toolParametersOf,
  Transient,
  transientStatus,
  type WireEvent
} from "./provider.js"

/**
 * Keys must never leave this module as text. The client holds the key; anything we put into an
 * error, a log or an event is scrubbed of it and of anything shaped like a bearer key, because an
 * endpoint may echo the key back in its error message (OpenAI does, partly masked).
 */
const scrub = (text: string, settings: ModelRegistry.ModelSettings): string => {
  const key = settings.apiKey === undefined ? "" : Redacted.value(settings.apiKey)
  const withoutKey = key.length >= 4 ? text.split(key).join("<redacted>") : text
  return withoutKey
    .replace(/Bearer\s+[^\s"',]+/gi, "Bearer <redacted>")
    .replace(/\bsk-[A-Za-z0-9_*\-]{6,}/g, "sk-<redacted>")
}

const describe = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause
    return cause instanceof Error && cause.message !== error.message
      ? `${error.message} (${cause.message})`
      : error.message
  }
  return String(error)
}

const classify = (settings: ModelRegistry.ModelSettings) => (error: unknown): AttemptFailure => {
  if (error instanceof APIConnectionTimeoutError) return new TimedOut()
  if (error instanceof APIError && error.status !== undefined) {
    const reason = scrub(error.message, settings)
    return transientStatus(error.status)
      ? new Transient({ status: error.status, retryAfterMs: retryAfterMillis((name) => error.headers?.get(name)), reason })
      : new Rejected({ status: error.status, reason })
  }
  if (error instanceof APIConnectionError) {
    return new Transient({ status: undefined, retryAfterMs: undefined, reason: scrub(describe(error), settings) })
  }
  if (error instanceof SyntaxError) return new Malformed({ reason: `the body is not valid JSON (${error.message})` })
  // A body cut off mid-way ("terminated") and other socket errors: worth another attempt.
  return new Transient({ status: undefined, retryAfterMs: undefined, reason: scrub(describe(error), settings) })
}

const classifyStream = (settings: ModelRegistry.ModelSettings) => (error: unknown): StreamFailure =>
  error instanceof SyntaxError
    ? new Malformed({ reason: `a stream event is not valid JSON (${error.message})` })
    : new Cut({ reason: scrub(describe(error), settings) })

const WireUsage = Schema.Struct({
  prompt_tokens: Schema.Number,
  completion_tokens: Schema.Number,
  total_tokens: Schema.optional(Schema.Number)
})

const WireCompletion = Schema.Struct({
  model: Schema.optional(Schema.String),
  choices: Schema.NonEmptyArray(Schema.Struct({
    message: Schema.Struct({
      content: Schema.optional(Schema.NullOr(Schema.String)),
      tool_calls: Schema.optional(Schema.NullOr(Schema.Array(Schema.Struct({
        id: Schema.String,
        function: Schema.Struct({ name: Schema.String, arguments: Schema.String })
      }))))
    }),
    finish_reason: Schema.optional(Schema.NullOr(Schema.String))
  })),
  usage: Schema.optional(Schema.NullOr(WireUsage))
})

const WireChunk = Schema.Struct({
  model: Schema.optional(Schema.String),
  choices: Schema.Array(Schema.Struct({
    delta: Schema.optional(Schema.NullOr(Schema.Struct({
      content: Schema.optional(Schema.NullOr(Schema.String)),
      tool_calls: Schema.optional(Schema.NullOr(Schema.Array(Schema.Struct({
        index: Schema.Number,
        id: Schema.optional(Schema.NullOr(Schema.String)),
        function: Schema.optional(Schema.NullOr(Schema.Struct({
          name: Schema.optional(Schema.NullOr(Schema.String)),
          arguments: Schema.optional(Schema.NullOr(Schema.String))
        })))
      }))))
    }))),
    finish_reason: Schema.optional(Schema.NullOr(Schema.String))
  })),
  usage: Schema.optional(Schema.NullOr(WireUsage))
})

const toUsage = (usage: typeof WireUsage.Type | null | undefined): Usage => {
  if (usage == null) return Usage.zero
  const count = (n: number) => Math.max(0, Math.round(n))
  const promptTokens = count(usage.prompt_tokens)
  const completionTokens = count(usage.completion_tokens)
  const totalTokens = usage.total_tokens === undefined ? promptTokens + completionTokens : count(usage.total_tokens)
  // Counts are non-negative integers by construction unless the endpoint sent absurd numbers
  // (JSON's 1e999 is Infinity): only those go through the schema's check, which rejects them.
  const valid = Number.isSafeInteger(promptTokens) && Number.isSafeInteger(completionTokens) &&
    Number.isSafeInteger(totalTokens)
  return new Usage({ promptTokens, completionTokens, totalTokens }, valid)
}

const formatError = (error: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(error)

type WireMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam

const toWire = (message: ChatMessage): WireMessage => {
  switch (message.role) {
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId ?? "", content: message.content }
    case "assistant":
      return message.toolCalls === undefined || message.toolCalls.length === 0
        ? { role: "assistant", content: message.content, ...(message.name === undefined ? {} : { name: message.name }) }
        : {
          role: "assistant",
          content: message.content === "" ? null : message.content,
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: call.arguments }
          }))
        }
    case "system":
    case "user":
      return { role: message.role, content: message.content, ...(message.name === undefined ? {} : { name: message.name }) }
  }
}

const schemaInstruction = (format: ResponseFormat, schema: Record<string, unknown>) =>
  `Reply with only a JSON value, without prose or code fences, that matches this JSON Schema` +
  `${format.description === undefined ? "" : ` (${format.description})`}:\n${JSON.stringify(schema)}`

const requestBody = (resolved: ModelRegistry.ResolvedModel, request: ChatRequest) => {
  const format = request.responseFormat
  const mode = resolved.settings.structuredOutput
  const schema = format === undefined ? undefined : format.jsonSchema ?? jsonSchemaOf(format.schema)
  const instruction = format !== undefined && schema !== undefined && mode !== "json_schema"
    ? [ChatMessage.system(schemaInstruction(format, schema))]
    : []
  const tools = request.tools ?? []
  return {
    model: resolved.modelId,
    messages: [...instruction, ...request.messages].map(toWire),
    ...(tools.length === 0 ? {} : {
      tools: tools.map((tool) => ({
        type: "function" as const,
        function: { name: tool.name, description: tool.description, parameters: toolParametersOf(tool) }
      }))
    }),
    ...(request.toolChoice === undefined || tools.length === 0 ? {} : { tool_choice: request.toolChoice }),
    ...(format === undefined || schema === undefined
      ? {}
      : mode === "json_schema"
      ? {
        response_format: {
          type: "json_schema" as const,
          json_schema: {
            name: format.name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) || "output",
            schema,
            strict: false,
            ...(format.description === undefined ? {} : { description: format.description })
          }
        }
      }
      : mode === "json_object"
      ? { response_format: { type: "json_object" as const } }
      : {}),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens })
  }
}

/**
 * A request with a deadline: `TimedOut` when `run`'s promise has not settled within `timeoutMs`,
 * and the request is then aborted (through the signal given to `run`), as it is when the caller
 * is interrupted. One timer per attempt (and per stream event): `Effect.timeoutFail` races two
 * forked fibers, which cost more CPU and latency than all the rest of an attempt's bookkeeping.
 * The request runs in real time, so a real timer bounds it (a timer beyond what `setTimeout`
 * can hold never fires, as with the Effect clock).
 */
const withDeadline = <A, E>(
  timeoutMs: number,
  run: (signal: AbortSignal) => PromiseLike<A>,
  onError: (error: unknown) => E
): Effect.Effect<A, E | TimedOut> =>
  Effect.async<A, E | TimedOut>((resume, interrupted) => {
    const controller = new AbortController()
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const settle = (result: Effect.Effect<A, E | TimedOut>) => {
      if (settled) return
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      resume(result)
    }
    if (timeoutMs <= MAX_TIMER_MILLIS) {
      timer = setTimeout(() => {
        settle(Effect.fail(new TimedOut()))
        controller.abort()
      }, timeoutMs)
    }
    interrupted.addEventListener("abort", () => {
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      controller.abort()
    }, { once: true })
    try {
      run(controller.signal).then(
        (value) => settle(Effect.succeed(value)),
        (error) => settle(Effect.fail(onError(error)))
      )
    } catch (error) {
      settle(Effect.fail(onError(error)))
    }
  })

const MAX_TIMER_MILLIS = 2 ** 31 - 1

const contentTypeOf = (response: Response) => response.headers.get("content-type") ?? "(none)"

/** The provider for an OpenAI-compatible endpoint; one client per registry entry. */
export const openAIProvider = (settings: ModelRegistry.ModelSettings): Provider => {
  const client = new OpenAI({
    baseURL: settings.baseUrl ?? null,
    // Local endpoints often need no key, but the client insists on one; never let it fall back to
    // OPENAI_API_KEY from the environment, since configuration comes from Config only.
    apiKey: settings.apiKey === undefined ? "no-key" : Redacted.value(settings.apiKey),
    organization: null,
    project: null,
    // Retries, timeouts and logging are ours, so that Retry-After, jitter and events are too.
    maxRetries: 0,
    logLevel: "off"
  })
  const toFailure = classify(settings)
  const toStreamFailure = classifyStream(settings)

  const complete: Provider["complete"] = (resolved, request, timeoutMs) =>
    Effect.gen(function*() {
      const body = requestBody(resolved, request)
      const { data, response } = yield* withDeadline(
        timeoutMs,
        (signal) =>
          client.chat.completions.create({ ...body, stream: false }, { signal, timeout: timeoutMs + 1_000 })
            .withResponse(),
        toFailure
      )
      const contentType = contentTypeOf(response)
      if (!contentType.includes("json")) {
        return yield* new Malformed({ reason: `expected application/json, got content type "${contentType}"` })
      }
      const completion = yield* Schema.decodeUnknown(WireCompletion)(data).pipe(
        Effect.mapError((error) => new Malformed({ reason: `unexpected JSON shape: ${formatError(error)}` }))
      )
      const choice = completion.choices[0]
      // Built from the decoded completion: the values are already known to fit.
      const toolCalls = (choice.message.tool_calls ?? []).map((call) =>
        new ToolCall({ id: call.id, name: call.function.name, arguments: call.function.arguments }, true)
      )
      return new ChatResponse({
        text: choice.message.content ?? "",
        model: resolved.name,
        modelId: completion.model || resolved.modelId,
        simulated: false,
        usage: toUsage(completion.usage),
        toolCalls,
        finishReason: choice.finish_reason ?? (toolCalls.length > 0 ? "tool_calls" : "stop")
      }, true)
    })

  const open: Provider["open"] = (resolved, request, timeoutMs) =>
    Effect.gen(function*() {
      const body = requestBody(resolved, request)
      const { data, response } = yield* withDeadline(
        timeoutMs,
        (signal) =>
          client.chat.completions.create(
            { ...body, stream: true, stream_options: { include_usage: true } },
            { signal, timeout: timeoutMs + 1_000 }
          ).withResponse(),
        toFailure
      )
      // Closing the scope (the consumer is done, failed or was interrupted) aborts the request,
      // so an abandoned stream never keeps a connection or a concurrency permit.
      yield* Effect.addFinalizer(() => Effect.sync(() => data.controller.abort()))
      const contentType = contentTypeOf(response)
      if (!contentType.includes("text/event-stream")) {
        return yield* new Malformed({ reason: `expected text/event-stream, got content type "${contentType}"` })
      }
      const iterator = data[Symbol.asyncIterator]()
      // An idle stream is a hang like any other: bound the wait for each event, not the whole.
      const pull: Effect.Effect<WireEvent, Option.Option<StreamFailure>> = withDeadline(
        timeoutMs,
        () => iterator.next(),
        toStreamFailure
      ).pipe(
        Effect.mapError(Option.some),
        Effect.flatMap((next) =>
          next.done
            ? Effect.fail(Option.none())
            : Schema.decodeUnknown(WireChunk)(next.value).pipe(
              Effect.mapError((error) =>
                Option.some(new Malformed({ reason: `unexpected stream event: ${formatError(error)}` }))
              ),
              Effect.map((chunk): WireEvent => {
                const choice = chunk.choices[0]
                return {
                  text: choice?.delta?.content ?? undefined,
                  toolCalls: choice?.delta?.tool_calls?.map((call) => ({
                    index: call.index,
                    id: call.id ?? undefined,
                    name: call.function?.name ?? undefined,
                    arguments: call.function?.arguments ?? undefined
                  })),
                  finishReason: choice?.finish_reason ?? undefined,
                  usage: chunk.usage == null ? undefined : toUsage(chunk.usage),
                  modelId: chunk.model || undefined
                }
              })
            )
        )
      )
      return Stream.repeatEffectOption(pull)
    })

  return { complete, open }
}
