/**
 * The contract between `LanguageModel` and the providers behind it: what one attempt can fail
 * with, what one stream event carries, and how a failure that survived the retries becomes the
 * `ModelError` the caller sees.
 */
import { Data, type Effect, JSONSchema, type Schema, type Scope, type Stream } from "effect"
import type * as ModelRegistry from "../ModelRegistry.js"
import {
  MalformedModelResponse,
  type ModelError,
  ModelRequestRejected,
  ModelRetriesExhausted,
  ModelStreamInterrupted,
  ModelTimeout
} from "./model/errors.js"
import type { ChatRequest, ChatResponse, ToolDefinition, Usage } from "./model/messages.js"

/** One failed attempt, before retries decide what the caller sees. */
export class Transient extends Data.TaggedError("Transient")<{
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined
  readonly reason: string
}> {}

/** The attempt got no answer within its timeout. */
export class TimedOut extends Data.TaggedError("TimedOut")<{}> {}

/** The endpoint refused the request; another attempt would be refused too. */
export class Rejected extends Data.TaggedError("Rejected")<{ readonly status: number; readonly reason: string }> {}

/** The endpoint answered something that is not a chat completion. */
export class Malformed extends Data.TaggedError("Malformed")<{ readonly reason: string }> {}

/** A stream ended before the model finished. */
export class Cut extends Data.TaggedError("Cut")<{ readonly reason: string }> {}

/** The statuses worth another attempt: timeout, conflict, too many requests, the server's errors. */
export const transientStatus = (status: number): boolean =>
  status === 408 || status === 409 || status === 429 || status >= 500

/**
 * How long an endpoint asked us to wait, from its `retry-after-ms` or `retry-after` (seconds or an
 * HTTP date) header, as `header` (lower-case names) reads them.
 */
export const retryAfterMillis = (header: (name: string) => string | null | undefined): number | undefined => {
  const millis = Number.parseFloat(header("retry-after-ms") ?? "")
  if (Number.isFinite(millis)) return Math.max(0, millis)
  const after = header("retry-after")
  if (after == null) return undefined
  const seconds = Number(after)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** What a request can fail with before any answer arrives; these are the retried ones. */
export type AttemptFailure = Transient | TimedOut | Rejected | Malformed

/** What an open stream can fail with; never retried, since the caller has seen part of it. */
export type StreamFailure = TimedOut | Malformed | Cut

/** What one stream event contributes; the simulated provider produces the same shape. */
export interface WireEvent {
  readonly text?: string | undefined
  readonly toolCalls?: ReadonlyArray<{
    readonly index: number
    readonly id?: string | undefined
    readonly name?: string | undefined
    readonly arguments?: string | undefined
  }> | undefined
  readonly finishReason?: string | undefined
  readonly usage?: Usage | undefined
  readonly modelId?: string | undefined
}

/**
 * One attempt at a model, without retries, limits or accounting (the service adds those):
 * `complete` answers once, `open` starts a stream whose request lives as long as the scope.
 */
export interface Provider {
  readonly complete: (
    resolved: ModelRegistry.ResolvedModel,
    request: ChatRequest,
    timeoutMs: number
  ) => Effect.Effect<ChatResponse, AttemptFailure>
  readonly open: (
    resolved: ModelRegistry.ResolvedModel,
    request: ChatRequest,
    timeoutMs: number
  ) => Effect.Effect<Stream.Stream<WireEvent, StreamFailure>, AttemptFailure, Scope.Scope>
}

/**
 * The JSON Schema sent for tool parameters and structured output. The root is inlined even when
 * the schema has an identifier, because endpoints want an object schema at the root, not a `$ref`.
 */
export const jsonSchemaOf = (schema: Schema.Schema.AnyNoContext): Record<string, unknown> => {
  const definitions: Record<string, JSONSchema.JsonSchema7> = {}
  const root = JSONSchema.fromAST(schema.ast, { definitions, topLevelReferenceStrategy: "skip" })
  return Object.keys(definitions).length === 0 ? { ...root } : { ...root, $defs: definitions }
}

/** The JSON Schema sent for a tool's parameters: its own when it carries one (MCP tools), else derived. */
export const toolParametersOf = (tool: ToolDefinition): Record<string, unknown> =>
  tool.jsonSchema === undefined ? jsonSchemaOf(tool.parameters) : { ...tool.jsonSchema }

/**
 * The `ModelError` for the failure that ended a call after `attempts` attempts; `receivedChars`
 * is how much of a stream the caller had already seen.
 */
export const toModelError = (
  resolved: ModelRegistry.ResolvedModel,
  attempts: number,
  timeoutMs: number
) =>
(failure: AttemptFailure | StreamFailure, receivedChars = 0): ModelError => {
  switch (failure._tag) {
    case "Transient":
      return new ModelRetriesExhausted({
        model: resolved.name,
        attempts,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: Math.round(failure.retryAfterMs) }),
        reason: failure.reason
      })
    case "TimedOut":
      return new ModelTimeout({ model: resolved.name, timeoutMs, attempts })
    case "Rejected":
      return new ModelRequestRejected({
        model: resolved.name,
        modelId: resolved.modelId,
        status: failure.status,
        reason: failure.reason
      })
    case "Malformed":
      return new MalformedModelResponse({
        model: resolved.name,
        baseUrl: resolved.settings.baseUrl ?? `(${resolved.settings.provider})`,
        reason: failure.reason
      })
    case "Cut":
      return new ModelStreamInterrupted({ model: resolved.name, receivedChars, reason: failure.reason })
  }
}
