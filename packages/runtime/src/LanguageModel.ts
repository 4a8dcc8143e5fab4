/**
 * The only door from an agent to a model. Agents never see a provider or an HTTP client: they
 * call `LanguageModel.chat` with a model *name* from the registry, and get text, usage and a
 * label saying which model (and whether a simulated one) answered.
 *
 * On top of `chat` sit streaming (`stream`), structured output validated by a `Schema`
 * (`generateObject`) and a tool-call loop (`runTools`). Every call goes through the same
 * machinery: a per-attempt timeout, retries with exponential backoff and jitter that honour
 * `Retry-After`, a per-model concurrency limit and optional requests-per-minute, and token and
 * cost accounting published as `ModelCall` events.
 *
 * @since 0.1.0
 */
import {
  Clock,
  Context,
  Effect,
  Either,
  FiberRef,
  Layer,
  LogLevel,
  Option,
  ParseResult,
  PubSub,
  type Queue,
  Schema,
  SchemaAST,
  type Scope,
  Stream
} from "effect"
import { dual } from "effect/Function"
import { globalValue } from "effect/GlobalValue"
import type { ConfigError } from "effect/ConfigError"
import { holdForStream, type Limits, limited, makeLimits } from "./internal/limits.js"
import * as OpenAIProvider from "./internal/openai.js"
import {
  type AttemptFailure,
  Cut,
  type Provider,
  type StreamFailure,
  toModelError,
  type WireEvent
} from "./internal/provider.js"
import * as Retry from "./internal/retry.js"
import * as Simulated from "./internal/simulated.js"
import * as ModelRegistry from "./ModelRegistry.js"

// ---------------------------------------------------------------------------------------------
// Transcript
// ---------------------------------------------------------------------------------------------

/**
 * A model's request to run a tool. `arguments` is the JSON text exactly as the model wrote it;
 * it is decoded against the tool's `Schema` only when the tool runs, so a malformed call can be
 * reported back to the model instead of failing the conversation.
 *
 * @since 0.1.0
 */
export class ToolCall extends Schema.Class<ToolCall>("@colony/runtime/ToolCall")({
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.String
}) {}

/**
 * One message of a chat transcript. The shape follows the OpenAI chat format so that a
 * transcript can be sent to any OpenAI-compatible endpoint unchanged: an assistant message may
 * carry `toolCalls`, and a `tool` message answers one of them by `toolCallId`.
 *
 * @since 0.1.0
 */
export class ChatMessage extends Schema.Class<ChatMessage>("@colony/runtime/ChatMessage")({
  role: Schema.Literal("system", "user", "assistant", "tool"),
  content: Schema.String,
  name: Schema.optional(Schema.String),
  toolCalls: Schema.optional(Schema.Array(ToolCall)),
  toolCallId: Schema.optional(Schema.String)
}) {
  constructor(props: ChatMessageProps, options?: Schema.MakeOptions) {
    // effect 3.22's class constructor derives the validator from the schema on every call, and
    // for a class with a class-typed field (`toolCalls`) that misses the parser cache: ~40 µs a
    // message, three messages per agent call. The same checks run here through a validator built
    // once; props they reject take the class's own path, which throws the usual error.
    const skip = options === true || (typeof options === "object" && options.disableValidation === true)
    const checked = skip ? undefined : Either.getOrUndefined(validChatMessage(props))
    super(checked ?? props, skip || checked !== undefined)
  }

  static readonly system = (content: string): ChatMessage => new ChatMessage({ role: "system", content })
  static readonly user = (content: string): ChatMessage => new ChatMessage({ role: "user", content })
  static readonly assistant = (content: string, toolCalls?: ReadonlyArray<ToolCall>): ChatMessage =>
    new ChatMessage({
      role: "assistant",
      content,
      ...(toolCalls === undefined || toolCalls.length === 0 ? {} : { toolCalls })
    })
  static readonly toolResult = (toolCallId: string, content: string): ChatMessage =>
    new ChatMessage({ role: "tool", content, toolCallId })
}

type ChatMessageProps = {
  readonly role: "system" | "user" | "assistant" | "tool"
  readonly content: string
  readonly name?: string | undefined
  readonly toolCalls?: ReadonlyArray<ToolCall> | undefined
  readonly toolCallId?: string | undefined
}

const validChatMessage = ParseResult.validateEither(Schema.Struct(ChatMessage.fields))

/**
 * Tokens spent by one call (or summed over many).
 *
 * @since 0.1.0
 */
export class Usage extends Schema.Class<Usage>("@colony/runtime/Usage")({
  promptTokens: Schema.NonNegativeInt,
  completionTokens: Schema.NonNegativeInt,
  totalTokens: Schema.NonNegativeInt
}) {
  static readonly zero = new Usage({ promptTokens: 0, completionTokens: 0, totalTokens: 0 })
  static readonly add = (a: Usage, b: Usage): Usage =>
    new Usage({
      promptTokens: a.promptTokens + b.promptTokens,
      completionTokens: a.completionTokens + b.completionTokens,
      totalTokens: a.totalTokens + b.totalTokens
    })
}

/**
 * What a model answered, labelled with the registry name and provider model id that produced
 * it. `simulated` is true when no real model was involved; callers print it. `toolCalls` is
 * non-empty when the model asked for tools instead of answering; `cost` is in US dollars from the
 * model's price table (0 when it has none); `retries` counts attempts after the first.
 *
 * @since 0.1.0
 */
export class ChatResponse extends Schema.Class<ChatResponse>("@colony/runtime/ChatResponse")({
  text: Schema.String,
  model: Schema.String,
  modelId: Schema.String,
  simulated: Schema.Boolean,
  usage: Usage,
  toolCalls: Schema.optionalWith(Schema.Array(ToolCall), { default: () => [] }),
  finishReason: Schema.optionalWith(Schema.String, { default: () => "stop" }),
  cost: Schema.optionalWith(Schema.NonNegative, { default: () => 0 }),
  latencyMs: Schema.optionalWith(Schema.NonNegative, { default: () => 0 }),
  retries: Schema.optionalWith(Schema.NonNegativeInt, { default: () => 0 })
}) {}

/**
 * A tool as the model sees it: a name, what it is for, and its parameters as a `Schema` (sent
 * to the endpoint as JSON Schema).
 *
 * A tool whose contract is defined elsewhere (an MCP server's tool) carries that contract as
 * `jsonSchema`, which is sent to the endpoint instead of the one derived from `parameters`; its
 * `parameters` then check only what can be checked here (say, a JSON object) and the tool's
 * owner validates the rest.
 *
 * @since 0.1.0
 */
export interface ToolDefinition {
  readonly name: string
  readonly description: string
  readonly parameters: Schema.Schema.AnyNoContext
  /** the JSON Schema of the parameters as the endpoint sees them, when not derived from `parameters` */
  readonly jsonSchema?: Readonly<Record<string, unknown>> | undefined
}

/**
 * Asks the model to answer with JSON matching `schema`. Prefer `generateObject`, which also
 * decodes and repairs the answer.
 *
 * @since 0.1.0
 */
export interface ResponseFormat {
  readonly name: string
  readonly description?: string | undefined
  readonly schema: Schema.Schema.AnyNoContext
}

/**
 * A request to a model: the transcript and the registry name of the model to use, plus the
 * optional tools, output format and sampling settings. `timeoutMs` overrides the model's
 * per-attempt timeout for this call.
 *
 * @since 0.1.0
 */
export interface ChatRequest {
  readonly model: string
  readonly messages: ReadonlyArray<ChatMessage>
  readonly tools?: ReadonlyArray<ToolDefinition> | undefined
  readonly toolChoice?: "auto" | "none" | "required" | undefined
  readonly responseFormat?: ResponseFormat | undefined
  readonly temperature?: number | undefined
  readonly maxTokens?: number | undefined
  readonly timeoutMs?: number | undefined
}

/**
 * A piece of a streamed answer.
 *
 * @since 0.1.0
 */
export class TextDelta extends Schema.TaggedClass<TextDelta>("@colony/runtime/TextDelta")("TextDelta", {
  text: Schema.String
}) {}

/**
 * The last element of every successful stream: the whole answer with its usage, as `chat`
 * would have returned it.
 *
 * @since 0.1.0
 */
export class Finished extends Schema.TaggedClass<Finished>("@colony/runtime/Finished")("Finished", {
  response: ChatResponse
}) {}

/**
 * @since 0.1.0
 */
export type StreamPart = TextDelta | Finished

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

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
    return `model "${this.model}" at ${this.baseUrl} answered something that is not a chat completion: ` +
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

// ---------------------------------------------------------------------------------------------
// Accounting and events
// ---------------------------------------------------------------------------------------------

/**
 * Who a call is spent on. Set with `withAttribution` around an agent's handler or a
 * collaboration; every call inside is summed under those names.
 *
 * @since 0.1.0
 */
export interface Attribution {
  readonly agent?: string | undefined
  readonly collaboration?: string | undefined
}

const currentAttribution = globalValue(
  Symbol.for("@colony/runtime/LanguageModel/currentAttribution"),
  () => FiberRef.unsafeMake<Attribution>({})
)

/**
 * Attribute every model call made by `effect` to an agent and/or a collaboration. Nested uses
 * combine: an inner `{ agent }` keeps the outer `{ collaboration }`.
 *
 * @since 0.1.0
 */
export const withAttribution: {
  (attribution: Attribution): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, attribution: Attribution): Effect.Effect<A, E, R>
} = dual(2, <A, E, R>(effect: Effect.Effect<A, E, R>, attribution: Attribution) =>
  Effect.locallyWith(effect, currentAttribution, (outer) => ({
    ...outer,
    ...(attribution.agent === undefined ? {} : { agent: attribution.agent }),
    ...(attribution.collaboration === undefined ? {} : { collaboration: attribution.collaboration })
  })))

/**
 * The record of one model call, successful or not: which model, tokens, cost, latency (including
 * retries and backoff) and how many retries it took. Published on `calls` for the runtime's
 * event log; it never contains a prompt, an answer or a key.
 *
 * @since 0.1.0
 */
export class ModelCall extends Schema.Class<ModelCall>("@colony/runtime/ModelCall")({
  model: Schema.String,
  modelId: Schema.String,
  provider: Schema.Literal("openai", "simulated"),
  simulated: Schema.Boolean,
  streamed: Schema.Boolean,
  outcome: Schema.Literal("success", "failure"),
  error: Schema.optional(Schema.String),
  usage: Usage,
  cost: Schema.NonNegative,
  latencyMs: Schema.NonNegative,
  retries: Schema.NonNegativeInt,
  agent: Schema.optional(Schema.String),
  collaboration: Schema.optional(Schema.String),
  startedAt: Schema.Number
}) {}

/**
 * Calls, failures, retries, tokens and cost summed over a set of calls.
 *
 * @since 0.1.0
 */
export class UsageTotals extends Schema.Class<UsageTotals>("@colony/runtime/UsageTotals")({
  calls: Schema.NonNegativeInt,
  failures: Schema.NonNegativeInt,
  retries: Schema.NonNegativeInt,
  usage: Usage,
  cost: Schema.NonNegative
}) {
  static readonly zero = new UsageTotals({ calls: 0, failures: 0, retries: 0, usage: Usage.zero, cost: 0 })
  static readonly add = (totals: UsageTotals, call: ModelCall): UsageTotals =>
    // sums of validated values: no need to validate them again on every call
    new UsageTotals({
      calls: totals.calls + 1,
      failures: totals.failures + (call.outcome === "failure" ? 1 : 0),
      retries: totals.retries + call.retries,
      usage: Usage.add(totals.usage, call.usage),
      cost: totals.cost + call.cost
    }, true)
  static readonly sum = (a: UsageTotals, b: UsageTotals): UsageTotals =>
    new UsageTotals({
      calls: a.calls + b.calls,
      failures: a.failures + b.failures,
      retries: a.retries + b.retries,
      usage: Usage.add(a.usage, b.usage),
      cost: a.cost + b.cost
    }, true)
}

/**
 * Everything spent through one `LanguageModel` since it was built, in total and per model name,
 * agent and collaboration (calls without an attribution count only in `total` and `byModel`).
 * `byAgent` lists the agent instances (`type/id`) that called a model most recently, one row each;
 * the spend of older instances is summed per type under `otherInstances(type)`, so per-type sums
 * stay whole.
 *
 * @since 0.1.0
 */
export class UsageReport extends Schema.Class<UsageReport>("@colony/runtime/UsageReport")({
  total: UsageTotals,
  byModel: Schema.Record({ key: Schema.String, value: UsageTotals }),
  byAgent: Schema.Record({ key: Schema.String, value: UsageTotals }),
  byCollaboration: Schema.Record({ key: Schema.String, value: UsageTotals })
}) {
  static readonly empty = new UsageReport({ total: UsageTotals.zero, byModel: {}, byAgent: {}, byCollaboration: {} })
  static readonly add = (report: UsageReport, call: ModelCall): UsageReport => {
    const bump = (group: Readonly<Record<string, UsageTotals>>, key: string | undefined) =>
      key === undefined ? group : { ...group, [key]: UsageTotals.add(group[key] ?? UsageTotals.zero, call) }
    return new UsageReport({
      total: UsageTotals.add(report.total, call),
      byModel: bump(report.byModel, call.model),
      byAgent: bump(report.byAgent, call.agent),
      byCollaboration: bump(report.byCollaboration, call.collaboration)
    })
  }
}

/**
 * The `byAgent` row of a usage report that sums the spend of the instances of agent type `type`
 * no longer listed one by one (`"orders/*"`). An attribution without a `/` is its own type.
 *
 * @since 0.1.0
 */
export const otherInstances = (type: string): string => `${type}/*`

const typeOf = (agent: string) => {
  const slash = agent.indexOf("/")
  return slash === -1 ? agent : agent.slice(0, slash)
}

/**
 * How many agent instances a usage report lists one by one, unless `make` is told otherwise.
 *
 * @since 0.1.0
 */
export const defaultAgentRows = 10_000

/**
 * Running totals, updated in place: a colony makes a model call per agent message, and rebuilding
 * an immutable report keyed by every agent on each call would cost time in the number of agents.
 * The report is built only when someone asks for it.
 *
 * Agent instances come and go without end (one per conversation, say), so at most `agentRows` of
 * them keep a row, the most recent callers; an instance pushed out has its totals added to its
 * type's `otherInstances` row. The number of types is bounded by the code, so those rows are too.
 */
const makeLedger = (agentRows: number) => {
  let total = UsageTotals.zero
  const byModel = new Map<string, UsageTotals>()
  // in the order of their last call, oldest first
  const byAgent = new Map<string, UsageTotals>()
  const others = new Map<string, UsageTotals>()
  const byCollaboration = new Map<string, UsageTotals>()
  const bump = (group: Map<string, UsageTotals>, key: string | undefined, call: ModelCall) => {
    if (key !== undefined) group.set(key, UsageTotals.add(group.get(key) ?? UsageTotals.zero, call))
  }
  const bumpAgent = (agent: string | undefined, call: ModelCall) => {
    if (agent === undefined) return
    const row = byAgent.get(agent) ?? UsageTotals.zero
    byAgent.delete(agent)
    byAgent.set(agent, UsageTotals.add(row, call))
    if (byAgent.size <= agentRows) return
    const [oldest, totals] = byAgent.entries().next().value!
    byAgent.delete(oldest)
    const other = otherInstances(typeOf(oldest))
    others.set(other, UsageTotals.sum(others.get(other) ?? UsageTotals.zero, totals))
  }
  const agentReport = () => {
    const rows = Object.fromEntries(byAgent)
    for (const [other, totals] of others) {
      rows[other] = Object.hasOwn(rows, other) ? UsageTotals.sum(rows[other]!, totals) : totals
    }
    return rows
  }
  return {
    add: (call: ModelCall) => {
      total = UsageTotals.add(total, call)
      bump(byModel, call.model, call)
      bumpAgent(call.agent, call)
      bump(byCollaboration, call.collaboration, call)
    },
    report: () =>
      new UsageReport({
        total,
        byModel: Object.fromEntries(byModel),
        byAgent: agentReport(),
        byCollaboration: Object.fromEntries(byCollaboration)
      }, true)
  }
}

/**
 * The cost in US dollars of `usage` at `prices` (per million tokens).
 *
 * @since 0.1.0
 */
export const costOf = (usage: Usage, prices: ModelRegistry.Prices | undefined): number =>
  prices === undefined
    ? 0
    : (usage.promptTokens * prices.input + usage.completionTokens * prices.output) / 1_000_000

// ---------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------

/**
 * The model service. `chat` answers once; `stream` yields `TextDelta`s and ends with `Finished`;
 * `calls` is a live feed of `ModelCall` records (from the moment it is run), `subscribe` the same
 * as a queue that is already listening when it is returned; `usage` is the running total.
 *
 * @since 0.1.0
 * @category tags
 */
export class LanguageModel extends Context.Tag("@colony/runtime/LanguageModel")<LanguageModel, {
  readonly chat: (request: ChatRequest) => Effect.Effect<ChatResponse, ModelError>
  readonly stream: (request: ChatRequest) => Stream.Stream<StreamPart, ModelError>
  readonly calls: Stream.Stream<ModelCall>
  readonly subscribe: Effect.Effect<Queue.Dequeue<ModelCall>, never, Scope.Scope>
  readonly usage: Effect.Effect<UsageReport>
}>() {}

// ---------------------------------------------------------------------------------------------
// Simulated answers and retries
// ---------------------------------------------------------------------------------------------

/**
 * The label every simulated output starts with, so a reader can never mistake it for a model's.
 * Structured (JSON) answers cannot start with it; their string fields do, and the response's
 * `simulated` flag is set.
 *
 * @since 0.1.0
 */
export const SIMULATED_LABEL = Simulated.SIMULATED_LABEL

/**
 * A deterministic, readable example of a JSON Schema: strings are `"<label> <field>"`, numbers
 * small and within bounds, arrays have one element, objects every property. It does not try to
 * satisfy `pattern` or `format`; callers validate and fall back (see `simulate`). The simulated
 * provider and the fake server both answer structured requests and tool calls with it.
 *
 * @since 0.1.0
 */
export const sampleJson: (
  schema: unknown,
  options?: Parameters<typeof Simulated.sampleJson>[1]
) => unknown = Simulated.sampleJson

/**
 * A deterministic answer derived from the prompt: the same request always gives the same reply,
 * which makes demos and tests repeatable without a model. With tools and no tool result since
 * the last user message it calls the tool whose name and description best match the prompt,
 * with schema-valid arguments; after tool results it answers from them; with a `responseFormat`
 * it answers JSON that the schema decodes.
 *
 * @since 0.1.0
 */
export const simulate: (request: ChatRequest) => ChatResponse = Simulated.simulate

/**
 * The wait before retry number `retry` (0 for the first retry): exponential from
 * `retryBaseDelayMs`, capped at `retryMaxDelayMs`, with "equal jitter" (between half and all of
 * it, `random` in [0, 1)) so that callers who failed together do not retry together. A
 * `Retry-After` from the endpoint is a floor: we never come back sooner than asked.
 *
 * @since 0.1.0
 */
export const backoffDelay: (
  policy: { readonly retryBaseDelayMs: number; readonly retryMaxDelayMs: number },
  retry: number,
  retryAfterMs: number | undefined,
  random: number
) => number = Retry.backoffDelay

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/**
 * A `LanguageModel` over a registry. Limits (concurrency, requests per minute) are per registry
 * entry; the event feed and the usage totals live as long as the scope. The usage report lists at
 * most `agentRows` agent instances one by one (default `defaultAgentRows`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  registry: ModelRegistry.ModelRegistry,
  options: { readonly agentRows?: number | undefined } = {}
): Effect.Effect<LanguageModel["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<ModelCall>(), PubSub.shutdown)
    const ledger = makeLedger(Math.max(1, options.agentRows ?? defaultAgentRows))

    const limits = new Map<string, Limits>()
    const providers = new Map<ModelRegistry.ModelSettings, Provider>()
    const entries: Array<[string, ModelRegistry.ModelSettings]> = Object.entries(registry.models)
      .map(([name, settings]) => [`model:${name}`, settings])
    if (registry.fallback !== undefined) entries.push(["fallback", registry.fallback])
    for (const [key, settings] of entries) {
      limits.set(key, yield* makeLimits(settings))
      providers.set(
        settings,
        settings.provider === "simulated" ? Simulated.simulatedProvider : OpenAIProvider.openAIProvider(settings)
      )
    }

    const resolve = (name: string) =>
      Option.match(ModelRegistry.resolve(registry, name), {
        onNone: () => Effect.fail(new UnknownModel({ model: name, registered: ModelRegistry.names(registry) })),
        onSome: (resolved) =>
          Effect.succeed({
            resolved,
            limits: limits.get(resolved.limiterKey)!,
            provider: providers.get(resolved.settings)!
          })
      })

    const logCall = (call: ModelCall) =>
      Effect.logDebug("model call").pipe(
        Effect.annotateLogs({
          model: call.model,
          modelId: call.modelId,
          outcome: call.outcome,
          tokens: call.usage.totalTokens,
          latencyMs: Math.round(call.latencyMs),
          retries: call.retries
        })
      )
    // The debug line's annotations are built only when debug logging is on (it is off by
    // default), since this runs on every model call.
    const publish = (call: ModelCall) =>
      Effect.sync(() => ledger.add(call)).pipe(
        Effect.zipRight(PubSub.publish(pubsub, call)),
        Effect.zipRight(FiberRef.getWith(
          FiberRef.currentMinimumLogLevel,
          (minimum) => LogLevel.greaterThan(minimum, LogLevel.Debug) ? Effect.void : logCall(call)
        ))
      )

    const recordCall = (options: {
      readonly resolved: ModelRegistry.ResolvedModel
      readonly attribution: Attribution
      readonly startedAt: number
      readonly streamed: boolean
      readonly attempts: number
      readonly outcome: { readonly response: ChatResponse } | { readonly error: ModelError }
    }) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const response = "response" in options.outcome ? options.outcome.response : undefined
        const usage = response?.usage ?? Usage.zero
        const cost = costOf(usage, options.resolved.settings.prices)
        const call = new ModelCall({
          model: options.resolved.name,
          modelId: response?.modelId ?? options.resolved.modelId,
          provider: options.resolved.settings.provider,
          simulated: options.resolved.settings.provider === "simulated",
          streamed: options.streamed,
          outcome: response === undefined ? "failure" : "success",
          ...("error" in options.outcome ? { error: options.outcome.error._tag } : {}),
          usage,
          cost,
          latencyMs: Math.max(0, now - options.startedAt),
          retries: Math.max(0, options.attempts - 1),
          ...(options.attribution.agent === undefined ? {} : { agent: options.attribution.agent }),
          ...(options.attribution.collaboration === undefined
            ? {}
            : { collaboration: options.attribution.collaboration }),
          startedAt: options.startedAt
        }, true)
        yield* publish(call)
        return call
      })

    const chat = (request: ChatRequest): Effect.Effect<ChatResponse, ModelError> =>
      Effect.gen(function*() {
        const { limits, provider, resolved } = yield* resolve(request.model)
        const attribution = yield* FiberRef.get(currentAttribution)
        const startedAt = yield* Clock.currentTimeMillis
        const timeoutMs = request.timeoutMs ?? resolved.settings.timeoutMs
        let attempts = 0
        const attempt = Effect.suspend(() => {
          attempts++
          return limited(limits, provider.complete(resolved, request, timeoutMs)).pipe(
            Effect.tapError(Retry.logRetry(resolved, attempts))
          )
        })
        const result = yield* attempt.pipe(
          Effect.retry(Retry.retrySchedule(resolved.settings)),
          Effect.mapError((failure) => toModelError(resolved, attempts, timeoutMs)(failure)),
          Effect.either
        )
        if (Either.isLeft(result)) {
          yield* recordCall({ resolved, attribution, startedAt, streamed: false, attempts, outcome: { error: result.left } })
          return yield* Effect.fail(result.left)
        }
        const raw = result.right
        const now = yield* Clock.currentTimeMillis
        // built from a validated response and values computed here: not validated again
        const response = new ChatResponse({
          ...raw,
          model: resolved.name,
          cost: costOf(raw.usage, resolved.settings.prices),
          latencyMs: Math.max(0, now - startedAt),
          retries: attempts - 1
        }, true)
        yield* recordCall({ resolved, attribution, startedAt, streamed: false, attempts, outcome: { response } })
        return response
      })

    const stream = (request: ChatRequest): Stream.Stream<StreamPart, ModelError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const { limits, provider, resolved } = yield* resolve(request.model)
        const attribution = yield* FiberRef.get(currentAttribution)
        const startedAt = yield* Clock.currentTimeMillis
        const timeoutMs = request.timeoutMs ?? resolved.settings.timeoutMs
        // The stream holds its permit until its last event: it occupies the endpoint all that time.
        yield* holdForStream(limits)
        let attempts = 0
        const opened = yield* Effect.suspend(() => {
          attempts++
          return provider.open(resolved, request, timeoutMs).pipe(Effect.tapError(Retry.logRetry(resolved, attempts)))
        }).pipe(
          Effect.retry(Retry.retrySchedule(resolved.settings)),
          Effect.mapError((failure) => toModelError(resolved, attempts, timeoutMs)(failure)),
          Effect.tapError((error) =>
            recordCall({ resolved, attribution, startedAt, streamed: true, attempts, outcome: { error } })
          )
        )

        let text = ""
        let finishReason: string | undefined
        let usage: Usage | undefined
        let modelId: string | undefined
        const calls = new Map<number, { id: string; name: string; arguments: string }>()
        const absorb = (event: WireEvent) => {
          if (event.text !== undefined) text += event.text
          for (const delta of event.toolCalls ?? []) {
            const call = calls.get(delta.index) ?? { id: "", name: "", arguments: "" }
            calls.set(delta.index, {
              id: delta.id ?? call.id,
              name: call.name + (delta.name ?? ""),
              arguments: call.arguments + (delta.arguments ?? "")
            })
          }
          if (event.finishReason !== undefined) finishReason = event.finishReason
          if (event.usage !== undefined) usage = event.usage
          if (event.modelId !== undefined) modelId = event.modelId
        }

        const finish = Effect.gen(function*() {
          if (finishReason === undefined) {
            return yield* Effect.fail<AttemptFailure | StreamFailure>(
              new Cut({ reason: "the stream closed without a finish reason" })
            )
          }
          const now = yield* Clock.currentTimeMillis
          const total = usage ?? Usage.zero
          const response = new ChatResponse({
            text,
            model: resolved.name,
            modelId: modelId ?? resolved.modelId,
            simulated: resolved.settings.provider === "simulated",
            usage: total,
            toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) =>
              new ToolCall({ id: call.id, name: call.name, arguments: call.arguments }, true)
            ),
            finishReason,
            cost: costOf(total, resolved.settings.prices),
            latencyMs: Math.max(0, now - startedAt),
            retries: attempts - 1
          }, true)
          yield* recordCall({ resolved, attribution, startedAt, streamed: true, attempts, outcome: { response } })
          return new Finished({ response }, true)
        })

        return opened.pipe(
          Stream.tap((event) => Effect.sync(() => absorb(event))),
          Stream.filterMap((event) =>
            event.text === undefined || event.text === ""
              ? Option.none()
              : Option.some<StreamPart>(new TextDelta({ text: event.text }, true))
          ),
          Stream.concat(Stream.fromEffect(finish)),
          Stream.mapError((failure) => toModelError(resolved, attempts, timeoutMs)(failure, text.length)),
          Stream.tapError((error) =>
            recordCall({ resolved, attribution, startedAt, streamed: true, attempts, outcome: { error } })
          )
        )
      }))

    return {
      // Spans here, in the one door to models, so a trace reaches the model call on whichever
      // runner the agent lives (the cluster carries the span context across hops).
      chat: (request) =>
        chat(request).pipe(
          Effect.tap((response) =>
            Effect.annotateCurrentSpan({
              "gen_ai.response.model": response.modelId,
              "gen_ai.usage.input_tokens": response.usage.promptTokens,
              "gen_ai.usage.output_tokens": response.usage.completionTokens,
              "colony.simulated": response.simulated
            })
          ),
          Effect.withSpan("LanguageModel.chat", {
            kind: "client",
            attributes: { "gen_ai.request.model": request.model }
          })
        ),
      stream: (request) =>
        stream(request).pipe(
          Stream.withSpan("LanguageModel.stream", { kind: "client", attributes: { "gen_ai.request.model": request.model } })
        ),
      calls: Stream.fromPubSub(pubsub),
      subscribe: PubSub.subscribe(pubsub),
      usage: Effect.sync(() => ledger.report())
    }
  })

/**
 * Every model name answers with the simulated provider, whatever the configuration: for tests and
 * demos that choose the simulator in code.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSimulated: Layer.Layer<LanguageModel> = Layer.scoped(LanguageModel, make(ModelRegistry.simulated))

/**
 * Models as a registry describes them.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRegistry = (registry: ModelRegistry.ModelRegistry): Layer.Layer<LanguageModel> =>
  Layer.scoped(LanguageModel, make(registry))

/**
 * Every model name goes to one OpenAI-compatible endpoint (the name is sent as the model id
 * unless `modelId` pins one). Handy for tests and benchmarks against the fake server.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOpenAI = (
  options: ModelRegistry.ModelOptions & { readonly baseUrl: string }
): Layer.Layer<LanguageModel> => layerRegistry(ModelRegistry.openAI(options))

/**
 * The default layer: the registry from `Config` (see the Models section of packages/runtime/README.md). With no `COLONY_MODEL_URL`,
 * `default` is simulated, so agents that name no model run offline; any other name must be listed
 * in `COLONY_MODELS`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<LanguageModel, ConfigError> = Layer.scoped(
  LanguageModel,
  Effect.flatMap(ModelRegistry.fromConfig, (registry) => make(registry))
)

// ---------------------------------------------------------------------------------------------
// Accessors and the loops built on chat
// ---------------------------------------------------------------------------------------------

/**
 * Ask a model once.
 *
 * @since 0.1.0
 */
export const chat = (request: ChatRequest): Effect.Effect<ChatResponse, ModelError, LanguageModel> =>
  Effect.flatMap(LanguageModel, (model) => model.chat(request))

/**
 * Stream a model's answer: `TextDelta`s, then one `Finished` with the whole response.
 *
 * @since 0.1.0
 */
export const stream = (request: ChatRequest): Stream.Stream<StreamPart, ModelError, LanguageModel> =>
  Stream.unwrap(Effect.map(LanguageModel, (model) => model.stream(request)))

/**
 * The live feed of `ModelCall` records.
 *
 * @since 0.1.0
 */
export const calls: Stream.Stream<ModelCall, never, LanguageModel> = Stream.unwrap(
  Effect.map(LanguageModel, (model) => model.calls)
)

/**
 * Tokens and cost spent so far, in total and per model, agent and collaboration.
 *
 * @since 0.1.0
 */
export const usage: Effect.Effect<UsageReport, never, LanguageModel> = Effect.flatMap(
  LanguageModel,
  (model) => model.usage
)

/**
 * A request for structured output: `schema` describes the JSON the model must answer with.
 *
 * @since 0.1.0
 */
export interface ObjectRequest<A, I> extends Omit<ChatRequest, "responseFormat"> {
  readonly schema: Schema.Schema<A, I, never>
  readonly name?: string | undefined
  readonly description?: string | undefined
}

/**
 * A decoded structured answer, with the response it came from and the tokens and cost of every
 * call it took (two when it needed a repair).
 *
 * @since 0.1.0
 */
export interface ObjectResponse<A> {
  readonly value: A
  readonly response: ChatResponse
  readonly usage: Usage
  readonly cost: number
  readonly repaired: boolean
}

const formatError = (error: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(error)

// Models often wrap JSON in a Markdown fence even when told not to; that is not worth a repair.
const unfence = (text: string) => {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(text)
  return fenced === null ? text : fenced[1]!
}

const decodeOutput = <A, I>(schema: Schema.Schema<A, I, never>, text: string): Either.Either<A, string> =>
  Schema.decodeUnknownEither(Schema.parseJson(schema))(unfence(text)).pipe(Either.mapLeft(formatError))

/**
 * Ask for JSON matching `schema` and decode it. An answer that is not valid gets one repair
 * attempt (the model sees its answer and the decoding error); a second invalid answer is a
 * `MalformedModelOutput`.
 *
 * @since 0.1.0
 */
export const generateObject = <A, I>(
  request: ObjectRequest<A, I>
): Effect.Effect<ObjectResponse<A>, ModelError | MalformedModelOutput, LanguageModel> =>
  Effect.gen(function*() {
    const model = yield* LanguageModel
    const { description, name, schema, ...rest } = request
    const identifier = Option.getOrUndefined(
      Option.orElse(
        SchemaAST.getIdentifierAnnotation(schema.ast),
        () => SchemaAST.getTitleAnnotation(schema.ast)
      )
    )
    const responseFormat: ResponseFormat = {
      name: name ?? identifier ?? "output",
      schema: schema as Schema.Schema.AnyNoContext,
      ...(description === undefined ? {} : { description })
    }
    const first = yield* model.chat({ ...rest, responseFormat })
    const decoded = decodeOutput(schema, first.text)
    if (Either.isRight(decoded)) {
      return { value: decoded.right, response: first, usage: first.usage, cost: first.cost, repaired: false }
    }
    const second = yield* model.chat({
      ...rest,
      responseFormat,
      messages: [
        ...rest.messages,
        ChatMessage.assistant(first.text),
        ChatMessage.user(
          `That reply is not valid: ${decoded.left}\nReply again with only the corrected JSON value, ` +
            `without prose or code fences.`
        )
      ]
    })
    const usage = Usage.add(first.usage, second.usage)
    const repaired = decodeOutput(schema, second.text)
    if (Either.isRight(repaired)) {
      return { value: repaired.right, response: second, usage, cost: first.cost + second.cost, repaired: true }
    }
    return yield* new MalformedModelOutput({
      model: request.model,
      schema: responseFormat.name,
      reason: repaired.left,
      output: second.text.length > 500 ? `${second.text.slice(0, 497)}...` : second.text
    })
  })

/**
 * What a tool handler returns to report that it failed while letting the model go on: `output` is
 * sent to the model as the tool's result, and the invocation is recorded with `ok: false`. Any
 * other value a handler returns is a success, whatever its text says.
 *
 * @since 0.1.0
 */
export class ToolFailure extends Schema.TaggedClass<ToolFailure>("@colony/runtime/ToolFailure")("ToolFailure", {
  output: Schema.String
}) {}

/**
 * A tool the model may call: its parameters are a `Schema`, and `handler` runs with the decoded
 * arguments. What the handler returns is sent back to the model (as is if a string, else as
 * JSON). A handler's failure ends the loop with that failure; to let the model recover instead,
 * catch it in the handler and return a `ToolFailure` describing what went wrong.
 *
 * @since 0.1.0
 */
export interface Tool<A = any, I = any, Out = unknown, E = never, R = never> extends ToolDefinition {
  readonly parameters: Schema.Schema<A, I, never>
  readonly handler: (args: A) => Effect.Effect<Out, E, R>
}

/**
 * Define a tool.
 *
 * @since 0.1.0
 */
export const tool = <A, I, Out, E = never, R = never>(options: {
  readonly name: string
  readonly description: string
  readonly parameters: Schema.Schema<A, I, never>
  readonly jsonSchema?: Readonly<Record<string, unknown>> | undefined
  readonly handler: (args: A) => Effect.Effect<Out, E, R>
}): Tool<A, I, Out, E, R> => options

/**
 * @since 0.1.0
 */
export declare namespace Tool {
  /**
   * @since 0.1.0
   */
  export type Any = Tool<any, any, any, any, any>
  /**
   * @since 0.1.0
   */
  export type Error<T> = T extends Tool<any, any, any, infer E, any> ? E : never
  /**
   * @since 0.1.0
   */
  export type Context<T> = T extends Tool<any, any, any, any, infer R> ? R : never
}

/**
 * A tool-call loop: the model may call `tools` for up to `maxSteps` model calls (default 8).
 *
 * @since 0.1.0
 */
export interface ToolLoopRequest<Tools extends ReadonlyArray<Tool.Any>> extends Omit<ChatRequest, "tools"> {
  readonly tools: Tools
  readonly maxSteps?: number | undefined
  /** called after every model call of the loop, with how long it took */
  readonly onResponse?: ((response: ChatResponse, durationMs: number) => Effect.Effect<void>) | undefined
}

/**
 * One tool run during a loop. `ok` is false when the call could not run (unknown tool, arguments
 * that do not match the schema) or its handler returned a `ToolFailure`; the model was told why.
 *
 * @since 0.1.0
 */
export interface ToolInvocation {
  readonly call: ToolCall
  readonly output: string
  readonly ok: boolean
}

/**
 * The model's final answer, the whole transcript (tool calls and results included), and what
 * the loop cost.
 *
 * @since 0.1.0
 */
export interface ToolLoopResult {
  readonly response: ChatResponse
  readonly messages: ReadonlyArray<ChatMessage>
  readonly steps: number
  readonly invocations: ReadonlyArray<ToolInvocation>
  readonly usage: Usage
  readonly cost: number
}

const render = (output: unknown): string => typeof output === "string" ? output : JSON.stringify(output) ?? "null"

/**
 * Run the tool-call loop: call the model; while it asks for tools, run them (in order) and feed
 * the results back; return its first answer without tool calls. A call to an unknown tool or
 * with arguments its `Schema` rejects is reported back to the model, which can try again.
 *
 * @since 0.1.0
 */
export const runTools = <const Tools extends ReadonlyArray<Tool.Any>>(
  request: ToolLoopRequest<Tools>
): Effect.Effect<
  ToolLoopResult,
  ModelError | ToolStepLimitExceeded | Tool.Error<Tools[number]>,
  LanguageModel | Tool.Context<Tools[number]>
> =>
  Effect.gen(function*() {
    const model = yield* LanguageModel
    const { maxSteps = 8, onResponse, tools, ...rest } = request
    const byName = new Map<string, Tool.Any>(tools.map((t) => [t.name, t]))
    const messages = [...rest.messages]
    const invocations: Array<ToolInvocation> = []
    let usage = Usage.zero
    let cost = 0
    let lastTools: ReadonlyArray<string> = []
    for (let step = 1; step <= maxSteps; step++) {
      const started = yield* Clock.currentTimeMillis
      const response = yield* model.chat({ ...rest, messages, tools })
      if (onResponse !== undefined) yield* onResponse(response, (yield* Clock.currentTimeMillis) - started)
      usage = Usage.add(usage, response.usage)
      cost += response.cost
      if (response.toolCalls.length === 0) {
        messages.push(ChatMessage.assistant(response.text))
        return { response, messages, steps: step, invocations, usage, cost }
      }
      messages.push(ChatMessage.assistant(response.text, response.toolCalls))
      lastTools = response.toolCalls.map((c) => c.name)
      for (const call of response.toolCalls) {
        const invocation = yield* invoke(byName, call)
        invocations.push(invocation)
        messages.push(ChatMessage.toolResult(call.id, invocation.output))
      }
    }
    return yield* new ToolStepLimitExceeded({ model: request.model, maxSteps, lastTools })
  }) as Effect.Effect<
    ToolLoopResult,
    ModelError | ToolStepLimitExceeded | Tool.Error<Tools[number]>,
    LanguageModel | Tool.Context<Tools[number]>
  >

const invoke = (byName: ReadonlyMap<string, Tool.Any>, call: ToolCall): Effect.Effect<ToolInvocation, unknown, unknown> => {
  const found = byName.get(call.name)
  if (found === undefined) {
    const known = [...byName.keys()].join(", ")
    return Effect.succeed({ call, ok: false, output: `error: there is no tool "${call.name}"; available tools: ${known}` })
  }
  const args = Schema.decodeUnknownEither(Schema.parseJson(found.parameters))(call.arguments)
  if (Either.isLeft(args)) {
    return Effect.succeed({
      call,
      ok: false,
      output: `error: the arguments do not match the parameters of "${call.name}": ${formatError(args.left)}. ` +
        `Call it again with corrected arguments.`
    })
  }
  return Effect.map(
    found.handler(args.right),
    (output) => output instanceof ToolFailure ? { call, ok: false, output: output.output } : { call, ok: true, output: render(output) }
  )
}
