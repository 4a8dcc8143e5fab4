/**
 * The OpenAI-compatible surface: `POST /v1/chat/completions` (plain and SSE streaming) and
 * `GET /v1/models`. The model name picks an agent (`agent:triage`, or plain `triage`) or a
 * collaboration preset (`team:master-slave`), so any OpenAI client or tool can talk to a colony.
 * Errors have OpenAI's shape: `{ error: { message, type, code } }`.
 *
 * @since 0.1.0
 */
import { type Collaboration, Session } from "@colony/agents"
import { Colony, Events, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Duration, Effect, Schema, Stream } from "effect"
import { randomUUID } from "node:crypto"
import * as Auth from "./Auth.js"
import { error } from "./ErrorResponse.js"
import { GatewayConfig } from "./GatewayConfig.js"
import * as GatewayMetrics from "./GatewayMetrics.js"
import { ServedAgents } from "./GatewayHandlers.js"
import * as Presets from "./Presets.js"

// --- errors ---


const errorType = (status: number) =>
  status === 401
    ? "authentication_error"
    : status === 404
    ? "not_found_error"
    : status === 429
    ? "rate_limit_error"
    : status >= 500
    ? "server_error"
    : "invalid_request_error"

/**
 * The status and OpenAI error of a failure from the colony.
 *
 * @since 0.1.0
 */
export const fromColonyError = (failure: { readonly _tag: string; readonly message: string }) => {
  const status = (() => {
    switch (failure._tag) {
      case "UnknownAgent":
      case "UnknownPreset":
        return 404
      case "InvalidMessage":
        return 400
      case "PayloadTooLarge":
        return 413
      case "MailboxFull":
      case "SessionBusy":
        return 429
      case "AgentUnavailable":
      case "AgentInterrupted":
      case "FollowerOverflow": // the gateway fell behind its own run: retry
        return 503
      case "TimeoutException":
      case "AgentCallTimeout":
        return 504
      case "AgentFailed":
        return 500
      default:
        return 502 // a model error: the upstream failed
    }
  })()
  return { status, body: { error: { message: failure.message, type: errorType(status), code: failure._tag, param: null } } }
}

// --- request ---

const ContentPart = Schema.Struct({ type: Schema.String, text: Schema.optional(Schema.String) })

const Message = Schema.Struct({
  role: Schema.Literal("system", "developer", "user", "assistant", "tool", "function"),
  content: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, Schema.Array(ContentPart)))),
  name: Schema.optional(Schema.String)
})

/**
 * The fields of a chat completion request the gateway reads; others are accepted and ignored.
 *
 * @since 0.1.0
 */
export const ChatCompletionRequest = Schema.Struct({
  model: Schema.String,
  messages: Schema.NonEmptyArray(Message),
  stream: Schema.optional(Schema.NullOr(Schema.Boolean)),
  stream_options: Schema.optional(Schema.NullOr(Schema.Struct({ include_usage: Schema.optional(Schema.Boolean) }))),
  user: Schema.optional(Schema.String)
}).annotations({
  examples: [{ model: "agent:writer", messages: [{ role: "user", content: "Hello" }] }]
})

type ChatCompletionRequest = typeof ChatCompletionRequest.Type

const textOf = (content: typeof Message.Type["content"]): string =>
  content === undefined || content === null
    ? ""
    : typeof content === "string"
    ? content
    : content.flatMap((part) => (part.type === "text" && part.text !== undefined ? [part.text] : [])).join("\n")

/**
 * The prompt for an agent. A known conversation (the agent remembers it) gets the last user
 * message; a new one gets the whole exchange the client sent, so stateless clients that resend
 * the history are answered in context.
 *
 * @since 0.1.0
 */
export const promptOf = (request: ChatCompletionRequest, continuing: boolean): string => {
  const messages = request.messages.filter((m) => m.role !== "system" && m.role !== "developer")
  const last = [...messages].reverse().find((m) => m.role === "user") ?? messages[messages.length - 1]
  if (continuing || request.messages.length === 1) return textOf(last?.content)
  return request.messages.map((m) => `${m.role}: ${textOf(m.content)}`).join("\n\n")
}

/**
 * The header that names the conversation (agent instance id) a request continues.
 *
 * @since 0.1.0
 */
export const conversationHeader = "x-colony-conversation"

/**
 * The headers of a chat completion request the gateway reads.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletionHeaders = Schema.Struct({
  [conversationHeader]: Schema.optional(Schema.String).annotations({
    description: "the conversation (agent instance) to continue; without it, `user`, else a new one"
  })
})

/**
 * Whether `name` may name a conversation: 1 to 256 characters, no control characters, no
 * unpaired surrogates.
 *
 * @since 0.1.0
 */
export const isConversationName = (name: string): boolean =>
  name.length > 0 && name.length <= 256 &&
  !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(name)

/**
 * A conversation name as a response header: as is when it is printable ASCII, else
 * percent-encoded (UTF-8), which is what a header can carry.
 *
 * @since 0.1.0
 */
export const headerValue = (name: string): string =>
  /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(name) ? name : encodeURIComponent(name)

// --- answers ---

interface Reply {
  readonly text: string
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number }
  readonly conversation: string
}

const chunksOf = (text: string): ReadonlyArray<string> => text.match(/\S+\s*|\s+/g) ?? [text]

const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`

// --- handlers ---

/**
 * `GET /v1/models`.
 *
 * @since 0.1.0
 */
export const models = Effect.gen(function*() {
  const names = yield* modelNames
  const created = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  return {
    object: "list" as const,
    data: names.map((id) => ({ id, object: "model" as const, created, owned_by: "colony" }))
  }
})

/**
 * The answer of `GET /v1/models`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ModelList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(Schema.Struct({
    id: Schema.String,
    object: Schema.Literal("model"),
    created: Schema.Number,
    owned_by: Schema.String
  }))
})

/**
 * The answer of `POST /v1/chat/completions` without `stream` (with it: an event stream of
 * `chat.completion.chunk`s, then `data: [DONE]`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletion = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion"),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(Schema.Struct({
    index: Schema.Number,
    message: Schema.Struct({ role: Schema.Literal("assistant"), content: Schema.String, refusal: Schema.Null }),
    finish_reason: Schema.String,
    logprobs: Schema.Null
  })),
  usage: Schema.Struct({ prompt_tokens: Schema.Number, completion_tokens: Schema.Number, total_tokens: Schema.Number })
})

const modelNames = Effect.gen(function*() {
  const { agents, presets: offered } = yield* ServedAgents
  const { presets } = yield* GatewayConfig
  const known = yield* Colony.agents
  const served = agents.map((agent) => agent.type as string).filter((name) => known.includes(name))
  return Presets.modelNames(served, Object.keys(Presets.presets(offered, presets, "")))
})

/**
 * `POST /v1/chat/completions`.
 *
 * @since 0.1.0
 */
export const chatCompletions = (
  body: ChatCompletionRequest,
  headers: typeof ChatCompletionHeaders.Type
) => Effect.gen(function*() {
  const settings = yield* GatewayConfig
  const { agents, presets: offered } = yield* ServedAgents
  const context = yield* Effect.context<Colony.Services | Sharding>()

  const headerConversation = headers[conversationHeader]
  const given = headerConversation ?? body.user
  if (given !== undefined && !isConversationName(given)) {
    return error(
      400,
      `invalid conversation name in ${headerConversation === undefined ? "\"user\"" : conversationHeader}: use 1 to 256 characters ` +
        "without control characters or unpaired surrogates",
      "invalid_request_error",
      "invalid_conversation"
    )
  }
  // the caller's name for the conversation; in the colony it lives in the caller's namespace, so
  // another caller sending the same `user` talks in a conversation of its own
  const named = given ?? `openai-${randomUUID()}`
  const conversation = Auth.namespaced(yield* Auth.caller, named)
  const known = yield* Colony.agents
  const served = agents.map((agent) => agent.type as string).filter((name) => known.includes(name))
  const target = Presets.resolve(body.model, served, (session) => Presets.presets(offered, settings.presets, session), conversation)
  if (target === undefined) {
    const names = yield* modelNames
    return error(
      404,
      `the model "${body.model}" does not exist on this gateway; models: ${names.join(", ")}. Use one of them (GET /v1/models lists them).`,
      "invalid_request_error",
      "model_not_found"
    )
  }

  const session = `openai-${randomUUID()}`
  const task = promptOf(body, target._tag === "Preset" || given !== undefined)
  const label = target._tag === "Agent" ? target.agent : `team:${target.name}`
  const span = Effect.withSpan("Gateway.chatCompletion", {
    attributes: target._tag === "Agent"
      ? { "colony.agent": target.agent, "colony.id": conversation }
      : { "colony.preset": target.name, "colony.session": session }
  })
  const fromResult = (r: Collaboration.Result): Reply => ({
    text: r.answer,
    conversation,
    usage: { prompt_tokens: 0, completion_tokens: r.totalTokens, total_tokens: r.totalTokens }
  })
  const answer: Effect.Effect<Reply, Failure> = target._tag === "Agent"
    ? Colony.ask(target.agent, conversation, task, { from: "openai" }).pipe(
      Effect.map((a): Reply => ({
        text: a.text,
        conversation,
        usage: { prompt_tokens: a.usage.promptTokens, completion_tokens: a.usage.completionTokens, total_tokens: a.usage.totalTokens }
      })),
      GatewayMetrics.trackInFlight(target.agent),
      span,
      Effect.provide(context)
    )
    : Session.result(session, target.collaboration, task).pipe(Effect.map(fromResult), span, Effect.provide(context))
  const timeout = {
    duration: settings.requestTimeout,
    onTimeout: (): Failure => ({
      _tag: "TimeoutException",
      message: `no answer within ${Duration.format(settings.requestTimeout)}; ask something smaller or raise COLONY_GATEWAY_REQUEST_TIMEOUT`
    })
  }
  const count = (reply: Reply) =>
    GatewayMetrics.countTokens(
      label,
      new LanguageModel.Usage({
        promptTokens: reply.usage.prompt_tokens,
        completionTokens: reply.usage.completion_tokens,
        totalTokens: reply.usage.total_tokens
      })
    )
  const id = `chatcmpl-${randomUUID().replace(/-/g, "")}`
  const created = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  const answerHeaders = { [conversationHeader]: headerValue(named) }

  if (body.stream !== true) {
    const result = yield* Effect.either(answer.pipe(Effect.timeoutFail(timeout), Effect.tap(count)))
    if (result._tag === "Left") {
      const { body: failure, status } = fromColonyError(result.left)
      return HttpServerResponse.unsafeJson(failure, { status })
    }
    return HttpServerResponse.unsafeJson({
      id,
      object: "chat.completion",
      created,
      model: body.model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: result.right.text, refusal: null },
        finish_reason: "stop",
        logprobs: null
      }],
      usage: result.right.usage
    }, { headers: answerHeaders })
  }

  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model: body.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }]
  })
  const includeUsage = body.stream_options?.include_usage === true
  const answerFrames = (reply: Reply) =>
    Stream.fromIterable([
      ...chunksOf(reply.text).map((piece) => sse(chunk({ content: piece }, null))),
      sse(chunk({}, "stop")),
      ...(includeUsage ? [sse({ ...chunk({}, null), choices: [], usage: reply.usage })] : [])
    ]).pipe(Stream.onStart(count(reply)))
  // A collaboration reports its progress as SSE comments, which OpenAI clients skip: a person
  // with curl sees the work happen, a client sees only the answer.
  const work: Stream.Stream<string, Failure> = target._tag === "Agent"
    ? Stream.flatMap(Stream.fromEffect(answer), answerFrames)
    : Session.run(session, target.collaboration, task).pipe(
      Stream.flatMap((p) => p instanceof Session.Finished ? answerFrames(fromResult(p.result)) : Stream.make(progressComment(p.event))),
      Stream.provideContext(context)
    )
  const frames = Stream.make(sse(chunk({ role: "assistant", content: "" }, null))).pipe(
    Stream.concat(work.pipe(Stream.timeoutFail(timeout.onTimeout, timeout.duration))),
    Stream.catchAll((failure) => Stream.make(sse(fromColonyError(failure).body))),
    Stream.concat(Stream.make("data: [DONE]\n\n")),
    Stream.encodeText
  )
  return HttpServerResponse.stream(frames, {
    contentType: "text/event-stream",
    headers: { ...answerHeaders, "cache-control": "no-cache" }
  })
})

type Failure = { readonly _tag: string; readonly message: string }

/**
 * A session event as an SSE comment line.
 *
 * @since 0.1.0
 */
export const progressComment = (event: Events.Event) => `: ${Events.format(event).replace(/\n/g, " ")}\n\n`
