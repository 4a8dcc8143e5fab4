import { Agent, Colony, LanguageModel, ModelRegistry } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { AiError, Chat, LanguageModel as AiLanguageModel, Response, Tool, Toolkit } from "@effect/ai"
import { OpenAiClient, OpenAiLanguageModel } from "@effect/ai-openai"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Option, Redacted, Ref, Schema, Stream, TestClock } from "effect"

const Weather = Tool.make("weather", {
  description: "The weather in a city",
  parameters: { city: Schema.String },
  success: Schema.Struct({ city: Schema.String, celsius: Schema.Number })
})
const Forecast = Toolkit.make(Weather)
const ForecastLive = Forecast.toLayer({ weather: ({ city }) => Effect.succeed({ city, celsius: 21 }) })

describe("the door as @effect/ai's LanguageModel", () => {
  it.scoped("generateText with a toolkit: @effect/ai runs the tool, the door calls the endpoint and counts every call", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.script(
        { toolCalls: [{ name: "weather", arguments: { city: "Lyon" } }], usage: { promptTokens: 30, completionTokens: 8 } }
      )
      const response = yield* AiLanguageModel.generateText({ prompt: "Weather in Lyon?", toolkit: Forecast }).pipe(
        Effect.provide(LanguageModel.layerEffectAi("smart")),
        Effect.provide(ForecastLive),
        Effect.provide(LanguageModel.layerOpenAI({ baseUrl: server.url, modelId: "fake-model" }))
      )
      expect(response.toolCalls.map((call) => [call.name, call.params])).toEqual([["weather", { city: "Lyon" }]])
      expect(response.toolResults.map((result) => result.result)).toEqual([{ city: "Lyon", celsius: 21 }])
      expect(response.usage.inputTokens).toBe(30)
      // the endpoint got the tool with the schema @effect/ai derives from its parameters
      const body = server.requests()[0]!.body
      expect(body.model).toBe("fake-model")
      expect(body.tools?.[0]?.function).toMatchObject({
        name: "weather",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
      })
    }))

  it.scoped("a Chat goes on from the tool results, and the door's usage report has each call under the registry name", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.script(
        { toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }], usage: { promptTokens: 20, completionTokens: 5 } },
        { text: "It is 21 degrees in Oslo.", usage: { promptTokens: 40, completionTokens: 7 } }
      )
      const door = LanguageModel.layerOpenAI({ baseUrl: server.url })
      yield* Effect.gen(function*() {
        const chat = yield* Chat.empty
        yield* chat.generateText({ prompt: "Weather in Oslo?", toolkit: Forecast })
        const answer = yield* chat.generateText({ prompt: "So?" })
        expect(answer.text).toBe("It is 21 degrees in Oslo.")
        // the second request carried the first call and its result, as the OpenAI wire wants them
        const roles = (server.requests()[1]!.body.messages ?? []).map((m) => m.role)
        expect(roles).toEqual(["user", "assistant", "tool", "user"])
        const usage = yield* LanguageModel.usage
        expect(usage.byModel["smart"]).toMatchObject({ calls: 2, usage: { promptTokens: 60, completionTokens: 12 } })
      }).pipe(
        Effect.provide(LanguageModel.layerEffectAi("smart")),
        Effect.provide(ForecastLive),
        Effect.provide(door)
      )
    }))

  it.effect("generateObject and streamText on the simulated model: a schema-valid object, and the streamed text is the answer", () =>
    Effect.gen(function*() {
      const Ticket = Schema.Struct({ priority: Schema.Literal("low", "high"), summary: Schema.String })
      const object = yield* AiLanguageModel.generateObject({ prompt: "File a ticket: the printer is on fire", schema: Ticket })
      expect(["low", "high"]).toContain(object.value.priority)
      const parts = yield* Stream.runCollect(AiLanguageModel.streamText({ prompt: "Say something" }))
      const text = Chunk.toArray(parts).flatMap((part) => part.type === "text-delta" ? [part.delta] : []).join("")
      const asked = yield* AiLanguageModel.generateText({ prompt: "Say something" })
      expect(text).toBe(asked.text)
      expect(text.startsWith(LanguageModel.SIMULATED_LABEL)).toBe(true)
      const finish = Chunk.toArray(parts).find((part) => part.type === "finish")
      expect(finish?.usage.outputTokens).toBeGreaterThan(0)
    }).pipe(Effect.provide(LanguageModel.layerEffectAi("default")), Effect.provide(LanguageModel.layerSimulated)))

  it.scopedLive("a failure past the door's retries reaches @effect/ai as an AiError carrying the door's ModelError", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.inject("500", 2)
      const error = yield* AiLanguageModel.generateText({ prompt: "hi" }).pipe(
        Effect.provide(LanguageModel.layerEffectAi("smart")),
        Effect.provide(LanguageModel.layerOpenAI({ baseUrl: server.url, maxRetries: 1, retryBaseDelayMs: 1, retryMaxDelayMs: 1 })),
        Effect.flip
      )
      expect(error._tag).toBe("UnknownError")
      expect((error as AiError.UnknownError).cause).toMatchObject({ _tag: "ModelRetriesExhausted", attempts: 2, status: 500 })
    }))
})

// An @effect/ai provider of our own making: it answers from a script and fails as a provider's
// HTTP layer does. Any provider package (`@effect/ai-openai`, `@effect/ai-anthropic`) gives the
// same service.
interface Scripted {
  readonly calls: Ref.Ref<ReadonlyArray<AiLanguageModel.ProviderOptions>>
  readonly layer: Layer.Layer<AiLanguageModel.LanguageModel>
}

type Step = ReadonlyArray<Response.PartEncoded> | AiError.AiError | "hang"

const httpError = (status: number, headers: Record<string, string> = {}) =>
  new AiError.HttpResponseError({
    module: "Scripted",
    method: "generateText",
    reason: "StatusCode",
    request: { method: "POST", url: "https://models.example/v1", urlParams: [], hash: Option.none(), headers: {} },
    response: { status, headers }
  })

const finish = (input: number, output: number, reason: "stop" | "tool-calls" = "stop"): Response.PartEncoded => ({
  type: "finish",
  reason,
  usage: { inputTokens: input, outputTokens: output, totalTokens: input + output }
})

const scripted = (steps: ReadonlyArray<Step>): Effect.Effect<Scripted> =>
  Effect.gen(function*() {
    const calls = yield* Ref.make<ReadonlyArray<AiLanguageModel.ProviderOptions>>([])
    const remaining = [...steps]
    const next = (options: AiLanguageModel.ProviderOptions) =>
      Effect.flatMap(Ref.update(calls, (all) => [...all, options]), () => {
        const step = remaining.shift()
        if (step === undefined) return Effect.dieMessage("the script is over")
        if (step === "hang") return Effect.never
        return AiError.isAiError(step) ? Effect.fail(step) : Effect.succeed([...step])
      })
    const service = yield* AiLanguageModel.make({
      generateText: next,
      streamText: (options) =>
        Stream.unwrap(Effect.map(next(options), (parts) =>
          Stream.fromIterable(parts.flatMap((part): Array<Response.StreamPartEncoded> =>
            part.type === "text"
              ? [{ type: "text-start", id: "t" }, ...part.text.split(" ").map((word, i) => ({
                type: "text-delta" as const,
                id: "t",
                delta: i === 0 ? word : ` ${word}`
              })), { type: "text-end", id: "t" }]
              : [part as Response.StreamPartEncoded]
          ))))
    })
    return { calls, layer: Layer.succeed(AiLanguageModel.LanguageModel, service) }
  })

const Lookup = Tool.make("lookup_order", {
  description: "Look an order up",
  parameters: { orderId: Schema.String.pipe(Schema.pattern(/^A-\d{3}$/)) },
  success: Schema.String
})
const Clerk = Agent.make({ name: "clerk", model: "custom", toolkit: Toolkit.make(Lookup) })
const ClerkLive = Agent.toLayer(Clerk, {}, {
  toolHandlers: { lookup_order: ({ orderId }) => Effect.succeed(`order ${orderId} ships tomorrow`) }
})

const registryWith = (provider: Scripted, options: ModelRegistry.ModelOptions = {}) =>
  ModelRegistry.make({
    custom: {
      languageModel: provider.layer,
      prices: { input: 1, output: 2 },
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 100,
      ...options
    }
  })

describe("an @effect/ai provider in the model registry", () => {
  it.scopedLive("an agent answers through it: its toolkit is offered, its tool runs, and the calls are counted and priced", () =>
    Effect.gen(function*() {
      const provider = yield* scripted([
        [{ type: "response-metadata", modelId: "scripted-1" }, {
          type: "tool-call",
          id: "c1",
          name: "lookup_order",
          params: { orderId: "A-123" }
        }, finish(100, 10, "tool-calls")],
        [{ type: "text", text: "Order A-123 ships tomorrow." }, finish(150, 20)]
      ])
      const answer = yield* Effect.gen(function*() {
        const clerk = yield* Colony.client(Clerk)
        return yield* clerk("c-1").Ask({ prompt: "Where is A-123?" })
      }).pipe(
        Effect.provide(ClerkLive.pipe(
          Layer.provideMerge(Colony.layerEmbedded({ languageModel: LanguageModel.layerRegistry(registryWith(provider)) }))
        ))
      )
      expect(answer.text).toBe("Order A-123 ships tomorrow.")
      expect(answer.simulated).toBe(false)
      expect(answer.tools.map((t) => [t.name, t.ok, t.output])).toEqual([["lookup_order", true, "order A-123 ships tomorrow"]])
      expect(answer.usage).toMatchObject({ promptTokens: 250, completionTokens: 30 })
      expect(answer.cost).toBeCloseTo((250 * 1 + 30 * 2) / 1_000_000, 12)
      const calls = yield* Ref.get(provider.calls)
      expect(calls).toHaveLength(2)
      // the provider was offered the agent's tool with the JSON Schema of its parameters
      expect(calls[0]!.tools.map((tool) => tool.name)).toEqual(["lookup_order"])
      expect(Tool.getJsonSchema(calls[0]!.tools[0] as any)).toMatchObject({
        type: "object",
        properties: { orderId: { type: "string", pattern: "^A-\\d{3}$" } },
        required: ["orderId"],
        additionalProperties: false
      })
      // and saw the result of the call in the second prompt
      const last = calls[1]!.prompt.content.at(-1)!
      expect(last.role).toBe("tool")
    }))

  it.effect("a 429 is retried after its Retry-After, a 400 is final, and a timeout is an attempt like any other", () =>
    Effect.gen(function*() {
      const provider = yield* scripted([httpError(429, { "Retry-After": "3" }), [{ type: "text", text: "ok" }, finish(1, 1)]])
      const fiber = yield* Effect.fork(
        LanguageModel.chat({ model: "custom", messages: [LanguageModel.ChatMessage.user("hi")] }).pipe(
          Effect.provide(LanguageModel.layerRegistry(registryWith(provider)))
        )
      )
      yield* TestClock.adjust("2 seconds")
      expect(yield* Ref.get(provider.calls)).toHaveLength(1)
      yield* TestClock.adjust("1 second")
      const response = yield* Fiber.join(fiber)
      expect(response).toMatchObject({ text: "ok", retries: 1, model: "custom", simulated: false })

      const refusing = yield* scripted([httpError(400)])
      const rejected = yield* LanguageModel.chat({ model: "custom", messages: [LanguageModel.ChatMessage.user("hi")] }).pipe(
        Effect.provide(LanguageModel.layerRegistry(registryWith(refusing))),
        Effect.flip
      )
      expect(rejected).toMatchObject({ _tag: "ModelRequestRejected", status: 400 })
      expect(yield* Ref.get(refusing.calls)).toHaveLength(1)

      const slow = yield* scripted(["hang", [{ type: "text", text: "late but here" }, finish(1, 1)]])
      const waiting = yield* Effect.fork(
        LanguageModel.chat({ model: "custom", messages: [LanguageModel.ChatMessage.user("hi")] }).pipe(
          Effect.provide(LanguageModel.layerRegistry(registryWith(slow, { timeoutMs: 5_000 })))
        )
      )
      yield* TestClock.adjust("5 seconds")
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(waiting)).toMatchObject({ text: "late but here", retries: 1 })
    }))

  it.effect("structured output: the provider gets the JSON Schema, the door decodes the answer", () =>
    Effect.gen(function*() {
      const provider = yield* scripted([[{ type: "text", text: "{\"priority\":\"high\",\"summary\":\"fire\"}" }, finish(5, 5)]])
      const Ticket = Schema.Struct({ priority: Schema.Literal("low", "high"), summary: Schema.String })
      const { value } = yield* LanguageModel.generateObject({
        model: "custom",
        messages: [LanguageModel.ChatMessage.user("file it")],
        schema: Ticket
      }).pipe(Effect.provide(LanguageModel.layerRegistry(registryWith(provider))))
      expect(value).toEqual({ priority: "high", summary: "fire" })
      const format = (yield* Ref.get(provider.calls))[0]!.responseFormat
      expect(format.type).toBe("json")
    }))

  it.effect("streaming through it yields the text as it comes and a Finished with the usage", () =>
    Effect.gen(function*() {
      const provider = yield* scripted([[{ type: "text", text: "one two three" }, finish(3, 3)]])
      const parts = yield* LanguageModel.stream({ model: "custom", messages: [LanguageModel.ChatMessage.user("count")] }).pipe(
        Stream.runCollect,
        Effect.provide(LanguageModel.layerRegistry(registryWith(provider)))
      )
      const all = Chunk.toArray(parts)
      expect(all.flatMap((p) => p._tag === "TextDelta" ? [p.text] : [])).toEqual(["one", " two", " three"])
      const done = all.at(-1)
      expect(done?._tag === "Finished" && done.response).toMatchObject({ text: "one two three", usage: { totalTokens: 6 } })
    }))
})

describe("a provider package in the model registry: @effect/ai-openai against the fake server", () => {
  it.scopedLive("an agent answers through OpenAiLanguageModel: its tool is offered and run, a 429 is retried after its Retry-After, and the calls are counted", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.inject({ kind: "429", retryAfterSeconds: 1 })
      server.script(
        { toolCalls: [{ name: "lookup_order", arguments: { orderId: "A-123" } }], usage: { promptTokens: 40, completionTokens: 9 } },
        { text: "Order A-123 ships tomorrow.", usage: { promptTokens: 70, completionTokens: 8 } }
      )
      const openai = OpenAiLanguageModel.model("fake-model").pipe(
        Layer.provide(OpenAiClient.layer({ apiUrl: server.url, apiKey: Redacted.make("sk-fake") })),
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const registry = ModelRegistry.make({ custom: { languageModel: openai, retryBaseDelayMs: 10, retryMaxDelayMs: 10 } })
      const started = Date.now()
      const answer = yield* Effect.gen(function*() {
        const clerk = yield* Colony.client(Clerk)
        return yield* clerk("c-2").Ask({ prompt: "Where is A-123?" })
      }).pipe(
        Effect.provide(ClerkLive.pipe(Layer.provideMerge(Colony.layerEmbedded({ languageModel: LanguageModel.layerRegistry(registry) }))))
      )
      expect(answer.text).toBe("Order A-123 ships tomorrow.")
      expect(answer.tools.map((t) => [t.name, t.ok, t.output])).toEqual([["lookup_order", true, "order A-123 ships tomorrow"]])
      expect(answer.usage).toMatchObject({ promptTokens: 110, completionTokens: 17 })
      // the 429's Retry-After (1 s) was waited for, not the 10 ms backoff
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000)
      const requests = server.requests()
      expect(requests.map((r) => r.fault ?? "ok")).toEqual(["429", "ok", "ok"])
      expect(requests[1]!.authorization).toBe("Bearer sk-fake")
      expect(requests[1]!.body.tools?.[0]?.function).toMatchObject({
        name: "lookup_order",
        parameters: { type: "object", properties: { orderId: { type: "string" } }, required: ["orderId"] }
      })
      // the second request carried the call and its result, as the Responses API wants them
      expect((requests[2]!.body.messages ?? []).map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"])
    }))
})
