/**
 * Which endpoint answers which model name. Agents ask for a model by *name* ("fast", "smart",
 * "gpt-4o-mini"); the registry turns that name into a provider, a base URL, the model id the
 * endpoint expects, a key, limits and prices. Different agents can therefore use different models,
 * and a deployment changes models without touching agent code.
 *
 * A registry is plain data. `fromConfig` builds it from Effect `Config` (see the Models section of packages/runtime/README.md for the
 * table of keys); `make`, `openAI` and `simulated` build it in code, which is what tests and
 * benchmarks do.
 *
 * @since 0.1.0
 */
import type * as AiLanguageModel from "@effect/ai/LanguageModel"
import { Config, ConfigError, Duration, Effect, type Layer, Option, ParseResult, Redacted, Schema } from "effect"

/**
 * Prices in US dollars per million tokens, as providers publish them.
 *
 * @since 0.1.0
 */
export class Prices extends Schema.Class<Prices>("@colony/runtime/ModelPrices")({
  input: Schema.NonNegative,
  output: Schema.NonNegative
}) {}

/**
 * How structured output is requested from an OpenAI-compatible endpoint. `json_schema` sends the
 * schema as `response_format` (OpenAI, vLLM, recent Ollama); `json_object` asks for JSON mode and
 * puts the schema in a system message; `prompt` only puts it in a system message, for endpoints
 * that reject `response_format` altogether.
 *
 * @since 0.1.0
 */
export const StructuredOutputMode = Schema.Literal("json_schema", "json_object", "prompt")

/**
 * @since 0.1.0
 */
export type StructuredOutputMode = typeof StructuredOutputMode.Type

/**
 * Everything needed to call one model. The key is `Redacted` from the moment it is read, and the
 * field's schema is `RedactedFromSelf`, so encoding settings can never turn it back into text.
 *
 * @since 0.1.0
 */
export class ModelSettings extends Schema.Class<ModelSettings>("@colony/runtime/ModelSettings")({
  /** `effect-ai`: an `@effect/ai` language model given in code (`ModelOptions.languageModel`) */
  provider: Schema.Literal("openai", "simulated", "effect-ai"),
  baseUrl: Schema.optional(Schema.String),
  /** The id sent to the endpoint; unset means "send the requested name". */
  modelId: Schema.optional(Schema.String),
  apiKey: Schema.optional(Schema.RedactedFromSelf(Schema.String)),
  /** Per attempt; an attempt that takes longer is aborted and retried. */
  timeoutMs: Schema.Int.pipe(Schema.positive()),
  maxRetries: Schema.NonNegativeInt,
  retryBaseDelayMs: Schema.Int.pipe(Schema.positive()),
  retryMaxDelayMs: Schema.Int.pipe(Schema.positive()),
  /** A Retry-After longer than this is not waited for: the call fails instead. */
  maxRetryAfterMs: Schema.NonNegativeInt,
  maxConcurrency: Schema.Int.pipe(Schema.positive()),
  requestsPerMinute: Schema.optional(Schema.Int.pipe(Schema.positive())),
  prices: Schema.optional(Prices),
  structuredOutput: StructuredOutputMode
}) {}

/**
 * The defaults every entry starts from.
 *
 * @since 0.1.0
 */
export const defaults = {
  timeoutMs: 60_000,
  maxRetries: 3,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
  maxConcurrency: 8,
  structuredOutput: "json_schema"
} as const

/**
 * What a caller may say about one model; everything not said comes from `defaults`. The provider
 * defaults to `openai` when a base URL is given and to `simulated` otherwise.
 *
 * @since 0.1.0
 */
export interface ModelOptions {
  readonly provider?: "openai" | "simulated" | undefined
  /**
   * Any `@effect/ai` language model (`@effect/ai-openai`, `@effect/ai-anthropic`, one of your
   * own): the entry's calls go to it, with the registry's limits, retries, timeouts and
   * accounting around them. Its own configuration (model id, sampling) is the layer's; `baseUrl`,
   * `apiKey` and `structuredOutput` do not apply.
   */
  readonly languageModel?: Layer.Layer<AiLanguageModel.LanguageModel> | undefined
  readonly baseUrl?: string | undefined
  readonly modelId?: string | undefined
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  readonly timeoutMs?: number | undefined
  readonly maxRetries?: number | undefined
  readonly retryBaseDelayMs?: number | undefined
  readonly retryMaxDelayMs?: number | undefined
  readonly maxRetryAfterMs?: number | undefined
  readonly maxConcurrency?: number | undefined
  readonly requestsPerMinute?: number | undefined
  readonly prices?: { readonly input: number; readonly output: number } | undefined
  readonly structuredOutput?: StructuredOutputMode | undefined
}

/**
 * Names → settings, plus the settings used for any name not listed (`fallback`). Without a
 * fallback an unknown name is an error, which is what a strict deployment wants.
 *
 * @since 0.1.0
 */
export interface ModelRegistry {
  readonly models: Readonly<Record<string, ModelSettings>>
  readonly fallback: ModelSettings | undefined
  /** the `@effect/ai` models of the entries whose provider is `effect-ai`, by their settings */
  readonly languageModels?: ReadonlyMap<ModelSettings, Layer.Layer<AiLanguageModel.LanguageModel>> | undefined
}

/**
 * The name an agent's model has when the agent names none. With no endpoint configured it is the
 * one name `fromConfig` answers without being listed, so a fresh checkout runs offline.
 *
 * @since 0.1.0
 */
export const defaultName = "default"

/**
 * The settings a name resolved to. `limiterKey` identifies whose concurrency and rate limits
 * apply: each listed name has its own, and all names served by the fallback share one, because
 * they share one endpoint.
 *
 * @since 0.1.0
 */
export interface ResolvedModel {
  readonly name: string
  readonly modelId: string
  readonly settings: ModelSettings
  readonly limiterKey: string
}

/**
 * Settings from options and defaults. Throws on invalid numbers: options written in code are a
 * program's constants, and a wrong one is a bug to fix, not a condition to handle.
 *
 * @since 0.1.0
 */
export const settings = (options: ModelOptions = {}): ModelSettings => {
  const apiKey = options.apiKey === undefined
    ? undefined
    : Redacted.isRedacted(options.apiKey)
    ? options.apiKey
    : Redacted.make(options.apiKey)
  return new ModelSettings({
    provider: options.languageModel !== undefined
      ? "effect-ai"
      : options.provider ?? (options.baseUrl === undefined ? "simulated" : "openai"),
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
    ...(options.modelId === undefined ? {} : { modelId: options.modelId }),
    ...(apiKey === undefined ? {} : { apiKey }),
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    maxRetries: options.maxRetries ?? defaults.maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs ?? defaults.retryBaseDelayMs,
    retryMaxDelayMs: options.retryMaxDelayMs ?? defaults.retryMaxDelayMs,
    maxRetryAfterMs: options.maxRetryAfterMs ?? defaults.maxRetryAfterMs,
    maxConcurrency: options.maxConcurrency ?? defaults.maxConcurrency,
    ...(options.requestsPerMinute === undefined ? {} : { requestsPerMinute: options.requestsPerMinute }),
    ...(options.prices === undefined ? {} : { prices: new Prices(options.prices) }),
    structuredOutput: options.structuredOutput ?? defaults.structuredOutput
  })
}

/**
 * A registry from named entries and an optional fallback for unlisted names.
 *
 * @since 0.1.0
 */
export const make = (
  models: Readonly<Record<string, ModelOptions>>,
  options: { readonly fallback?: ModelOptions | undefined } = {}
): ModelRegistry => {
  const languageModels = new Map<ModelSettings, Layer.Layer<AiLanguageModel.LanguageModel>>()
  const entry = (options: ModelOptions): ModelSettings => {
    const made = settings(options)
    if (options.languageModel !== undefined) languageModels.set(made, options.languageModel)
    return made
  }
  return {
    models: Object.fromEntries(Object.entries(models).map(([name, options]) => [name, entry(options)])),
    fallback: options.fallback === undefined ? undefined : entry(options.fallback),
    languageModels
  }
}

/**
 * Every name answers with the simulated provider.
 *
 * @since 0.1.0
 */
export const simulated: ModelRegistry = make({}, { fallback: { provider: "simulated" } })

/**
 * Every name goes to one OpenAI-compatible endpoint; the name is sent as the model id unless
 * `modelId` pins one.
 *
 * @since 0.1.0
 */
export const openAI = (options: ModelOptions & { readonly baseUrl: string }): ModelRegistry =>
  make({}, { fallback: { ...options, provider: "openai" } })

/**
 * The settings for a name, or `None` when the name is not listed and there is no fallback.
 *
 * @since 0.1.0
 */
export const resolve = (registry: ModelRegistry, name: string): Option.Option<ResolvedModel> => {
  const listed = Object.hasOwn(registry.models, name) ? registry.models[name] : undefined
  if (listed !== undefined) {
    return Option.some({ name, modelId: listed.modelId ?? name, settings: listed, limiterKey: `model:${name}` })
  }
  if (registry.fallback === undefined) return Option.none()
  const fallback = registry.fallback
  return Option.some({ name, modelId: fallback.modelId ?? name, settings: fallback, limiterKey: "fallback" })
}

/**
 * The listed names, for error messages and `colony models`.
 *
 * @since 0.1.0
 */
export const names = (registry: ModelRegistry): ReadonlyArray<string> => Object.keys(registry.models).sort()

const PositiveInt = Schema.Int.pipe(Schema.positive())

/**
 * One entry of `COLONY_MODELS`, as JSON. `apiKeyFrom` names another config key holding the key,
 * so the JSON itself can stay free of secrets.
 */
const Entry = Schema.Struct({
  provider: Schema.optional(Schema.Literal("openai", "simulated")),
  baseUrl: Schema.optional(Schema.String),
  modelId: Schema.optional(Schema.String),
  apiKey: Schema.optional(Schema.Redacted(Schema.String)),
  apiKeyFrom: Schema.optional(Schema.String),
  timeoutMs: Schema.optional(PositiveInt),
  maxRetries: Schema.optional(Schema.NonNegativeInt),
  retryBaseDelayMs: Schema.optional(PositiveInt),
  retryMaxDelayMs: Schema.optional(PositiveInt),
  maxRetryAfterMs: Schema.optional(Schema.NonNegativeInt),
  maxConcurrency: Schema.optional(PositiveInt),
  requestsPerMinute: Schema.optional(PositiveInt),
  prices: Schema.optional(Schema.Struct({ input: Schema.NonNegative, output: Schema.NonNegative })),
  structuredOutput: Schema.optional(StructuredOutputMode)
}).annotations({ identifier: "an entry object (see the Models section of packages/runtime/README.md)" })

const Entries = Schema.Record({ key: Schema.String, value: Entry })

const invalidModels = (detail: string) =>
  ConfigError.InvalidData(
    ["COLONY_MODELS"],
    `COLONY_MODELS must be a JSON object of model name → entry (see the Models section of packages/runtime/README.md): ${detail}`
  )

/**
 * Parse errors quote the input they reject, and `COLONY_MODELS` may hold an inline `apiKey`: the
 * messages built here name the offending path but never echo the JSON text or a key's value.
 */
const decodeEntries = (raw: string) =>
  Effect.gen(function*() {
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(raw),
      catch: () => invalidModels("the value is not valid JSON")
    })
    return yield* Schema.decodeUnknown(Entries)(json).pipe(
      Effect.mapError((error) =>
        invalidModels(
          ParseResult.ArrayFormatter.formatErrorSync(error)
            // An optional field reports its "undefined" alternative too; that line adds nothing.
            .filter((issue) => !issue.message.startsWith("Expected undefined"))
            .map((issue) => `${issue.path.map(String).join(".")}: ${issue.message.replace(/, actual [\s\S]*$/, "")}`)
            .join("; ")
        )
      )
    )
  })

const optional = <A>(config: Config.Config<A>) => Config.option(config).pipe(Config.map(Option.getOrUndefined))

/**
 * The registry described by configuration (the table is in the Models section of packages/runtime/README.md). With a
 * `COLONY_MODEL_URL`, unlisted names go to that endpoint. Without one, only the names listed in
 * `COLONY_MODELS` and `default` (simulated, unless listed) answer, so a fresh checkout runs
 * offline while a mistyped name fails with `UnknownModel` instead of being answered by the
 * simulator.
 *
 * @since 0.1.0
 */
export const fromConfig: Effect.Effect<ModelRegistry, ConfigError.ConfigError> = Effect.gen(function*() {
  const url = yield* optional(Config.string("COLONY_MODEL_URL"))
  const baseUrl = url === undefined || url.trim() === "" ? undefined : url.trim()
  const apiKey = yield* optional(Config.redacted("COLONY_MODEL_KEY"))
  const modelId = yield* optional(Config.string("COLONY_MODEL_ID"))
  const timeout = yield* optional(Config.duration("COLONY_MODEL_TIMEOUT"))
  const maxRetries = yield* optional(Config.integer("COLONY_MODEL_MAX_RETRIES"))
  const maxConcurrency = yield* optional(Config.integer("COLONY_MODEL_MAX_CONCURRENCY"))
  const requestsPerMinute = yield* optional(Config.integer("COLONY_MODEL_RPM"))
  const inputPrice = yield* optional(Config.number("COLONY_MODEL_INPUT_PRICE"))
  const outputPrice = yield* optional(Config.number("COLONY_MODEL_OUTPUT_PRICE"))
  const raw = yield* optional(Config.string("COLONY_MODELS"))

  const shared: ModelOptions = {
    timeoutMs: timeout === undefined ? undefined : Math.max(1, Math.round(Duration.toMillis(timeout))),
    maxRetries,
    maxConcurrency,
    requestsPerMinute,
    prices: inputPrice === undefined && outputPrice === undefined
      ? undefined
      : { input: inputPrice ?? 0, output: outputPrice ?? 0 }
  }
  const entries = raw === undefined || raw.trim() === "" ? {} : yield* decodeEntries(raw)

  const models: Record<string, ModelOptions> = {}
  for (const [name, entry] of Object.entries(entries)) {
    const entryKey = entry.apiKeyFrom === undefined
      ? undefined
      : yield* Config.redacted(entry.apiKeyFrom)
    const provider = entry.provider ?? (entry.baseUrl !== undefined || baseUrl !== undefined ? "openai" : "simulated")
    const entryUrl = entry.baseUrl ?? baseUrl
    if (provider === "openai" && entryUrl === undefined) {
      return yield* Effect.fail(ConfigError.InvalidData(
        ["COLONY_MODELS", name],
        `model "${name}" uses provider "openai" but has no baseUrl and COLONY_MODEL_URL is unset; ` +
          `give it a baseUrl, set COLONY_MODEL_URL, or use provider "simulated"`
      ))
    }
    const { apiKeyFrom: _, ...rest } = entry
    models[name] = {
      ...shared,
      ...rest,
      provider,
      baseUrl: provider === "openai" ? entryUrl : undefined,
      apiKey: entry.apiKey ?? entryKey ?? apiKey
    }
  }

  if (baseUrl === undefined && !Object.hasOwn(models, defaultName)) {
    models[defaultName] = { ...shared, provider: "simulated" }
  }
  const fallback: ModelOptions | undefined = baseUrl === undefined
    ? undefined
    : { ...shared, provider: "openai", baseUrl, apiKey, modelId }
  // Out-of-range numbers (a zero concurrency, a negative retry count) are rejected by the
  // `ModelSettings` schema; report them as configuration errors, not as thrown exceptions.
  return yield* Effect.try({
    try: () => make(models, { fallback }),
    catch: (error) =>
      ConfigError.InvalidData(
        ["COLONY_MODEL"],
        `invalid model settings (check COLONY_MODEL_* and COLONY_MODELS against the Models section of packages/runtime/README.md): ${
          error instanceof Error ? error.message : String(error)
        }`
      )
  })
})
