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
 * The door speaks `@effect/ai` both ways: a registry entry may be any `@effect/ai` language model
 * (`ModelOptions.languageModel`), and `layerEffectAi(name)` is `@effect/ai`'s `LanguageModel`
 * service over a registry name, for code written against `@effect/ai` (toolkits, `Chat`).
 *
 * @since 0.1.0
 */
import * as AiLanguageModel from "@effect/ai/LanguageModel"
import { Effect, Layer, Stream } from "effect"
import type { ConfigError } from "effect/ConfigError"
import { toEffectAi } from "./internal/model/aiService.js"
import { make } from "./internal/model/make.js"
import type { ChatRequest, ChatResponse, StreamPart } from "./internal/model/messages.js"
import type { ModelError } from "./internal/model/errors.js"
import { LanguageModel } from "./internal/model/service.js"
import type { ModelCall, UsageReport } from "./internal/model/usage.js"
import * as Retry from "./internal/retry.js"
import * as Simulated from "./internal/simulated.js"
import * as ModelRegistry from "./ModelRegistry.js"

export { toEffectAi } from "./internal/model/aiService.js"
export { type Attribution, withAttribution } from "./internal/model/attribution.js"
export {
  MalformedModelOutput,
  MalformedModelResponse,
  ModelError,
  ModelRequestRejected,
  ModelRetriesExhausted,
  ModelStreamInterrupted,
  ModelTimeout,
  ToolStepLimitExceeded,
  UnknownModel
} from "./internal/model/errors.js"
export { make } from "./internal/model/make.js"
export { callsDropped, feedCapacity } from "./internal/model/recorder.js"
export {
  ChatMessage,
  type ChatRequest,
  ChatResponse,
  Finished,
  type ResponseFormat,
  type StreamPart,
  TextDelta,
  ToolCall,
  type ToolDefinition,
  Usage
} from "./internal/model/messages.js"
export { LanguageModel } from "./internal/model/service.js"
export { generateObject, type ObjectRequest, type ObjectResponse } from "./internal/model/structuredOutput.js"
export {
  runTools,
  type Tool,
  tool,
  ToolFailure,
  type ToolInvocation,
  type ToolLoopRequest,
  type ToolLoopResult
} from "./internal/model/tools.js"
export {
  costOf,
  defaultAgentRows,
  defaultCollaborationRows,
  ModelCall,
  otherCollaborations,
  otherInstances,
  UsageReport,
  UsageTotals
} from "./internal/model/usage.js"

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
 * A deterministic answer derived from the request: the same request always gives the same reply,
 * which makes demos and tests repeatable without a model. With tools and no tool result since
 * the last user message it calls the tool whose name and description best match the prompt,
 * with schema-valid arguments; after tool results it says, in sentences, what they hold (cut
 * only between fields, sentences or words); with a `responseFormat` it answers JSON that the
 * schema decodes. Otherwise it combines the earlier simulated answers the prompt quotes, or says
 * in a short stand-in answer how much context it read. It never repeats the prompt back.
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

/**
 * `@effect/ai`'s `LanguageModel` over the registry's model `model`: code written against
 * `@effect/ai` (`generateText` with a toolkit, `generateObject`, `streamText`, `Chat`) runs
 * through this door, with its limits, retries, timeouts, accounting and events.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEffectAi = (model: string): Layer.Layer<AiLanguageModel.LanguageModel, never, LanguageModel> =>
  Layer.effect(AiLanguageModel.LanguageModel, toEffectAi(model))

// ---------------------------------------------------------------------------------------------
// Accessors
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

