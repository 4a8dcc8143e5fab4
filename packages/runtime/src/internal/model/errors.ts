/**
 * Every way a model call can fail, each with a message that says what to do next.
 */
import { Schema } from "effect"

/**
 * The name is not in the registry and the registry has no fallback.
 *
 * @since 0.1.0
 */
export class UnknownModel extends Schema.TaggedError<UnknownModel>()("UnknownModel", {
  model: Schema.String,
  registered: Schema.Array(Schema.String)
}) {
  override get message() {
    const listed = this.registered.length === 0 ? "none" : this.registered.join(", ")
    return `no model "${this.model}" is registered; registered models: ${listed}. ` +
      `Check the name for a typo, or configure it: add it to COLONY_MODELS (with a baseUrl, or as ` +
      `{"provider": "simulated"} to answer offline), or set COLONY_MODEL_URL so unlisted names go to ` +
      `that endpoint.`
  }
}

/**
 * The endpoint refused the request (a 4xx other than 408, 409 and 429); retrying would not help.
 *
 * @since 0.1.0
 */
export class ModelRequestRejected extends Schema.TaggedError<ModelRequestRejected>()("ModelRequestRejected", {
  model: Schema.String,
  modelId: Schema.String,
  status: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    const hint = this.status === 401 || this.status === 403
      ? "check the API key (COLONY_MODEL_KEY, or the entry's apiKey/apiKeyFrom in COLONY_MODELS)"
      : this.status === 404
      ? `check the model id "${this.modelId}" (COLONY_MODEL_ID or the entry's modelId) and the base URL`
      : "the endpoint may not support tools or response_format; for structured output try " +
        `structuredOutput "json_object" or "prompt" for this model`
    return `model "${this.model}" rejected the request with status ${this.status}: ${this.reason}. Next: ${hint}.`
  }
}

/**
 * Every attempt failed with a transient fault (429, 5xx, a dropped connection), or the endpoint
 * asked to wait longer than the model's `maxRetryAfterMs`.
 *
 * @since 0.1.0
 */
export class ModelRetriesExhausted extends Schema.TaggedError<ModelRetriesExhausted>()("ModelRetriesExhausted", {
  model: Schema.String,
  attempts: Schema.Int,
  status: Schema.optional(Schema.Number),
  retryAfterMs: Schema.optional(Schema.Number),
  reason: Schema.String
}) {
  override get message() {
    const waited = this.retryAfterMs === undefined ? "" : ` (it asked to retry after ${this.retryAfterMs}ms)`
    return `model "${this.model}" failed after ${this.attempts} attempt(s): ${this.reason}${waited}. ` +
      `The endpoint is overloaded or down: retry later, raise maxRetries / maxRetryAfterMs for this model, ` +
      `or lower its maxConcurrency / requestsPerMinute.`
  }
}

/**
 * No answer within the per-attempt timeout, on every attempt (or a stream went silent for that
 * long after it started).
 *
 * @since 0.1.0
 */
export class ModelTimeout extends Schema.TaggedError<ModelTimeout>()("ModelTimeout", {
  model: Schema.String,
  timeoutMs: Schema.Number,
  attempts: Schema.Int
}) {
  override get message() {
    return `model "${this.model}" did not answer within ${this.timeoutMs}ms (${this.attempts} attempt(s)). ` +
      `Raise timeoutMs for this model (COLONY_MODEL_TIMEOUT or the entry's timeoutMs in COLONY_MODELS) ` +
      `or check that the endpoint is reachable and not overloaded.`
  }
}

/**
 * The endpoint answered something that is not a chat completion: invalid JSON, a wrong content
 * type (an HTML page), or JSON of the wrong shape. Usually a base URL that points at the wrong
 * service, so it is not retried.
 *
 * @since 0.1.0
 */
export class MalformedModelResponse extends Schema.TaggedError<MalformedModelResponse>()("MalformedModelResponse", {
  model: Schema.String,
  baseUrl: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    // an entry without a base URL (`(simulated)`, `(effect-ai)`) has no URL to check
    return this.baseUrl.startsWith("(")
      ? `model "${this.model}" (${this.baseUrl.slice(1, -1)}) answered something that is not a valid answer: ${this.reason}`
      : `model "${this.model}" at ${this.baseUrl} answered something that is not a chat completion: ` +
        `${this.reason}. Check that the base URL is an OpenAI-compatible API (it usually ends in /v1).`
  }
}

/**
 * A stream was cut before the model finished: deltas already delivered are the whole of what
 * arrived. Not retried, because the caller has already seen part of the answer.
 *
 * @since 0.1.0
 */
export class ModelStreamInterrupted extends Schema.TaggedError<ModelStreamInterrupted>()("ModelStreamInterrupted", {
  model: Schema.String,
  receivedChars: Schema.Int,
  reason: Schema.String
}) {
  override get message() {
    return `the stream from model "${this.model}" ended before the model finished, after ${this.receivedChars} ` +
      `character(s): ${this.reason}. Discard the partial answer and call again (or use chat, which retries).`
  }
}

/**
 * The model's answer did not match the requested `Schema`, even after one repair attempt.
 *
 * @since 0.1.0
 */
export class MalformedModelOutput extends Schema.TaggedError<MalformedModelOutput>()("MalformedModelOutput", {
  model: Schema.String,
  schema: Schema.String,
  reason: Schema.String,
  output: Schema.String
}) {
  override get message() {
    return `model "${this.model}" answered text that does not match schema "${this.schema}" even after a ` +
      `repair attempt: ${this.reason}. Simplify the schema, describe the fields in the prompt, or use a ` +
      `stronger model.`
  }
}

/**
 * The model still wanted tools after `maxSteps` model calls.
 *
 * @since 0.1.0
 */
export class ToolStepLimitExceeded extends Schema.TaggedError<ToolStepLimitExceeded>()("ToolStepLimitExceeded", {
  model: Schema.String,
  maxSteps: Schema.Int,
  lastTools: Schema.Array(Schema.String)
}) {
  override get message() {
    return `model "${this.model}" still requested tools (${this.lastTools.join(", ")}) after ${this.maxSteps} ` +
      `step(s). Raise maxSteps, or make the tools' results more conclusive.`
  }
}

/**
 * Every way a model call can fail, as a `Schema` (so it can be a protocol's error type) and as a
 * type, including a tool-call loop that does not end (`ToolStepLimitExceeded`, which an agent's
 * `Ask` can fail with). Structured output adds `MalformedModelOutput`.
 *
 * @since 0.1.0
 */
export const ModelError = Schema.Union(
  UnknownModel,
  ModelRequestRejected,
  ModelRetriesExhausted,
  ModelTimeout,
  MalformedModelResponse,
  ModelStreamInterrupted,
  ToolStepLimitExceeded
)

/**
 * @since 0.1.0
 */
export type ModelError = typeof ModelError.Type
