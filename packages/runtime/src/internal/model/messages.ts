/**
 * What goes to a model and what comes back: the transcript, the request with its tools and
 * output format, the response with its usage, and the parts of a streamed answer. Shaped after
 * the OpenAI chat format so a transcript reaches any OpenAI-compatible endpoint unchanged.
 */
import { Either, ParseResult, Schema } from "effect"

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
  /** a JSON Schema given as is (an agent's `AnswerFormat`), sent instead of one derived from `schema` */
  readonly jsonSchema?: Record<string, unknown> | undefined
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
