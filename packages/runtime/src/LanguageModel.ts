/**
 * The only door from an agent to a model. Agents never see a provider or an HTTP client: they
 * call `LanguageModel.chat` with a model *name* from the registry, and get text, usage and a
 * label saying which model (and whether a simulated one) answered.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"

/**
 * One message of a chat transcript. The shape follows the OpenAI chat format so that a
 * transcript can be sent to any OpenAI-compatible endpoint unchanged.
 *
 * @since 0.1.0
 */
export class ChatMessage extends Schema.Class<ChatMessage>("@colony/runtime/ChatMessage")({
  role: Schema.Literal("system", "user", "assistant", "tool"),
  content: Schema.String,
  name: Schema.optional(Schema.String)
}) {}

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
 * it. `simulated` is true when no real model was involved; callers print it.
 *
 * @since 0.1.0
 */
export class ChatResponse extends Schema.Class<ChatResponse>("@colony/runtime/ChatResponse")({
  text: Schema.String,
  model: Schema.String,
  modelId: Schema.String,
  simulated: Schema.Boolean,
  usage: Usage
}) {}

/**
 * A request to a model: the transcript and the registry name of the model to use.
 *
 * @since 0.1.0
 */
export interface ChatRequest {
  readonly model: string
  readonly messages: ReadonlyArray<ChatMessage>
}

/**
 * A model call that did not produce an answer.
 *
 * @since 0.1.0
 */
export class ModelError extends Schema.TaggedError<ModelError>()("ModelError", {
  model: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `model "${this.model}" failed: ${this.reason}`
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class LanguageModel extends Context.Tag("@colony/runtime/LanguageModel")<LanguageModel, {
  readonly chat: (request: ChatRequest) => Effect.Effect<ChatResponse, ModelError>
}>() {}

/**
 * The label every simulated output starts with, so a reader can never mistake it for a model's.
 *
 * @since 0.1.0
 */
export const SIMULATED_LABEL = "[simulated]"

const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

const openings = [
  "Here is a considered answer",
  "Taking this step by step",
  "In short",
  "Based on what was asked",
  "The key points are these"
] as const

/**
 * Rough token count used by the simulated provider: about four characters per token, as for
 * English text with common tokenizers.
 */
const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

/**
 * A deterministic answer derived from the prompt: the same transcript always gives the same
 * reply, which makes demos and tests repeatable without a model.
 *
 * @since 0.1.0
 */
export const simulate = (request: ChatRequest): ChatResponse => {
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user")?.content ?? ""
  const transcript = request.messages.map((m) => `${m.role}:${m.content}`).join("\n")
  const hash = fnv1a(transcript)
  const topic = lastUser.replace(/\s+/g, " ").trim()
  const excerpt = topic.length > 120 ? `${topic.slice(0, 117)}...` : topic
  const text = `${SIMULATED_LABEL} ${openings[hash % openings.length]}: on "${excerpt}" ` +
    `(reply ${(hash % 9000) + 1000}, ${request.messages.length} message(s) of context).`
  const promptTokens = estimateTokens(transcript)
  const completionTokens = estimateTokens(text)
  return new ChatResponse({
    text,
    model: request.model,
    modelId: "simulated",
    simulated: true,
    usage: new Usage({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens })
  })
}

/**
 * Every model name answers with the simulated provider. The embedded default when no endpoint is
 * configured.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSimulated: Layer.Layer<LanguageModel> = Layer.succeed(LanguageModel, {
  chat: (request) => Effect.sync(() => simulate(request))
})
