/**
 * LanguageModel with the simulated provider, and the registry read from Config: what runs when
 * no endpoint is configured, and how configuration picks endpoints when one is.
 */
import * as LanguageModel from "../src/LanguageModel.js"
import * as ModelRegistry from "../src/ModelRegistry.js"
import { FakeOpenAI } from "@colony/runtime/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Effect, Layer, Queue, Schema, Stream } from "effect"
import * as fc from "fast-check"

const ask = (content: string, model = "any-model"): LanguageModel.ChatRequest => ({
  model,
  messages: [LanguageModel.ChatMessage.user(content)]
})

// the transcript after one tool call: the question, the call, and the tool's result
const afterTool = (prompt: string, tool: string, result: string): LanguageModel.ChatRequest => ({
  model: "any-model",
  messages: [
    LanguageModel.ChatMessage.user(prompt),
    LanguageModel.ChatMessage.assistant("", [new LanguageModel.ToolCall({ id: "call_1", name: tool, arguments: "{}" })]),
    LanguageModel.ChatMessage.toolResult("call_1", result)
  ]
})

const withConfig = (entries: Record<string, string>) =>
  LanguageModel.layer.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))))

describe("LanguageModel (simulated provider)", () => {
  it.effect("answers deterministically and labels the answer as simulated", () =>
    Effect.gen(function*() {
      const first = yield* LanguageModel.chat(ask("What is a mailbox?"))
      const again = yield* LanguageModel.chat(ask("What is a mailbox?"))
      const other = yield* LanguageModel.chat(ask("What is a shard?"))
      expect(first.text.startsWith(LanguageModel.SIMULATED_LABEL)).toBe(true)
      expect(first.simulated).toBe(true)
      expect(again.text).toBe(first.text)
      expect(other.text).not.toBe(first.text)
      expect(first.usage.totalTokens).toBeGreaterThan(0)
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("without tool results, answers without a word of the request, the same way each time", () =>
    Effect.gen(function*() {
      // words no English answer contains: any of them in an answer came from the request
      const marked = fc.array(fc.stringMatching(/^zq[a-z]{2,8}$/), { minLength: 1, maxLength: 30 }).map((w) => `${w.join(" ")}?`)
      for (const prompt of fc.sample(marked, { seed: 20, numRuns: 60 })) {
        const answer = yield* LanguageModel.chat(ask(prompt))
        expect(answer.text.startsWith(`${LanguageModel.SIMULATED_LABEL} `)).toBe(true)
        expect(answer.text).not.toContain("zq")
        expect((yield* LanguageModel.chat(ask(prompt))).text).toBe(answer.text)
      }
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("an answer from tool results says what they hold, field by field, and not the question", () =>
    Effect.gen(function*() {
      const prompt = "Could you tell me where my parcel is right now?"
      const answer = yield* LanguageModel.chat(afterTool(prompt, "track_parcel", JSON.stringify({ status: "in transit", carrier: "DHL" })))
      expect(answer.text).toBe(`${LanguageModel.SIMULATED_LABEL} The track_parcel tool returned: status: in transit; carrier: DHL.`)
      const failed = yield* LanguageModel.chat(afterTool(prompt, "track_parcel", "error: CarrierDown: the carrier does not answer"))
      expect(failed.text).toBe(`${LanguageModel.SIMULATED_LABEL} The track_parcel tool failed: CarrierDown: the carrier does not answer.`)
      for (const text of [answer.text, failed.text]) expect(text).not.toContain("parcel is")
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("a long tool result is cut between sentences, else between words, never inside a word", () =>
    Effect.gen(function*() {
      const body = (text: string) =>
        Effect.map(LanguageModel.chat(afterTool("What happened?", "read_log", text)), (r) => r.text.replace(/^.*? tool returned: /, ""))
      const sentences = Array.from({ length: 12 }, (_, i) => `Step ${i + 1} of the nightly import finished.`).join(" ")
      expect(yield* body(sentences)).toMatch(/^Step 1 of .* finished\. …$/)
      const run = Array.from({ length: 80 }, (_, i) => `word${i}`).join(" ")
      const cut = yield* body(run)
      expect(cut).toMatch(/^word0 word1 .* word\d+…$/)
      expect(run.startsWith(cut.slice(0, -1) + " ")).toBe(true)
      expect(yield* body("x".repeat(1000))).toBe("a text of 1000 characters.")
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it("never cuts a generated tool result inside a word, labels the answer, and answers it the same way each time", async () => {
    const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9'-]{0,14}$/)
    const clause = fc.tuple(fc.array(word, { minLength: 1, maxLength: 25 }), fc.constantFrom(".", "!", "?", ";", ",", ":", ""))
      .map(([words, end]) => `${words.join(" ")}${end}`)
    const result = fc.array(clause, { minLength: 1, maxLength: 12 }).map((clauses) => clauses.join(" "))
    await fc.assert(
      fc.asyncProperty(result, async (content) => {
        const request = afterTool("Which of them is it?", "lookup", content)
        const [text, again] = await Effect.runPromise(
          Effect.all([LanguageModel.chat(request), LanguageModel.chat(request)]).pipe(
            Effect.map((answers) => answers.map((a) => a.text)),
            Effect.provide(LanguageModel.layerSimulated)
          )
        )
        const opening = `${LanguageModel.SIMULATED_LABEL} The lookup tool returned: `
        expect(text!.startsWith(opening)).toBe(true)
        expect(again).toBe(text)
        const said = text!.slice(opening.length)
        if (said.endsWith("…")) {
          const kept = said.replace(/ ?…$/, "")
          expect(kept.length).toBeGreaterThan(0)
          expect(content.startsWith(kept)).toBe(true)
          // what follows the kept part in the result starts a new word
          expect(content.slice(kept.length)).toMatch(/^[,;:]* /)
        } else {
          expect([content, `${content}.`]).toContain(said)
        }
      }),
      { seed: 20, numRuns: 300 }
    )
  })

  it.effect("asked to combine earlier simulated answers, says what they said, not the task", () =>
    Effect.gen(function*() {
      const prompt = "Task: Which parcel is mine?\n\nCombine these partial answers into one coherent answer:\n" +
        `1. the tracking side\n   ${LanguageModel.SIMULATED_LABEL} The track tool returned: status: in transit.\n` +
        `2. the billing side\n   ${LanguageModel.SIMULATED_LABEL} The invoice tool failed: InvoiceMissing.`
      const answer = yield* LanguageModel.chat(ask(prompt))
      expect(answer.text).toBe(
        `${LanguageModel.SIMULATED_LABEL} The track tool returned: status: in transit. The invoice tool failed: InvoiceMissing.`
      )
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("streams deltas that add up to the same answer chat gives", () =>
    Effect.gen(function*() {
      const answer = yield* LanguageModel.chat(ask("Explain passivation"))
      const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(LanguageModel.stream(ask("Explain passivation"))))
      const text = parts.flatMap((p) => (p._tag === "TextDelta" ? [p.text] : [])).join("")
      expect(parts.length).toBeGreaterThan(3)
      expect(text).toBe(answer.text)
      expect(parts.at(-1)).toMatchObject({ _tag: "Finished", response: { text: answer.text, simulated: true } })
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("runs a tool-call loop offline, choosing the tool the prompt is about", () =>
    Effect.gen(function*() {
      const calls: Array<string> = []
      const weather = LanguageModel.tool({
        name: "get_weather",
        description: "Current weather for a city",
        parameters: Schema.Struct({ city: Schema.String, days: Schema.Int.pipe(Schema.between(1, 7)) }),
        handler: ({ city, days }) => Effect.sync(() => (calls.push(`weather:${city}:${days}`), "sunny, 21°C"))
      })
      const orders = LanguageModel.tool({
        name: "find_order",
        description: "Look up an order by its id",
        parameters: Schema.Struct({ orderId: Schema.String }),
        handler: () => Effect.sync(() => (calls.push("order"), "shipped"))
      })
      const result = yield* LanguageModel.runTools({
        ...ask("What is the weather in Lisbon this week?"),
        tools: [orders, weather]
      })
      expect(calls).toHaveLength(1)
      expect(calls[0]).toMatch(/^weather:/)
      expect(result.steps).toBe(2)
      expect(result.invocations[0]?.ok).toBe(true)
      expect(result.response.simulated).toBe(true)
      expect(result.response.text).toContain("sunny, 21°C")
      expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("produces structured output that the schema decodes, refinements included", () =>
    Effect.gen(function*() {
      class Line extends Schema.Class<Line>("Line")({ sku: Schema.String, quantity: Schema.Int.pipe(Schema.positive()) }) {}
      const Order = Schema.Struct({
        status: Schema.Literal("open", "shipped", "cancelled"),
        priority: Schema.Int.pipe(Schema.between(1, 5)),
        reference: Schema.String.pipe(Schema.pattern(/^ORD-[0-9]{4}$/)),
        lines: Schema.NonEmptyArray(Line),
        note: Schema.optional(Schema.String)
      })
      const result = yield* LanguageModel.generateObject({ ...ask("Summarise the order"), schema: Order })
      expect(result.repaired).toBe(false)
      expect(result.response.simulated).toBe(true)
      expect(Schema.is(Order)(result.value)).toBe(true)
      expect(result.value.reference).toMatch(/^ORD-[0-9]{4}$/)
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("structured output picks the choices whose descriptions share words with the request, and the first when none does", () =>
    Effect.gen(function*() {
      const Ticket = Schema.Struct({
        department: Schema.Union(
          Schema.Literal("kitchen").annotations({ description: "pots, pans and knives" }),
          Schema.Literal("garden").annotations({ description: "seeds, hoses and lawn mowers" })
        ),
        topics: Schema.Array(Schema.Union(
          Schema.Literal("price"),
          Schema.Literal("delivery").annotations({ description: "shipping and parcels" }),
          Schema.Literal("warranty")
        )).pipe(Schema.minItems(1))
      })
      const decide = (prompt: string) => Effect.map(LanguageModel.generateObject({ ...ask(prompt), schema: Ticket }), (r) => r.value)
      expect(yield* decide("My lawn mower parcel is late")).toEqual({ department: "garden", topics: ["delivery"] })
      expect(yield* decide("What is the price of your knives, and is there a warranty?")).toEqual({
        department: "kitchen",
        topics: ["price", "warranty"]
      })
      expect(yield* decide("Hello there")).toEqual({ department: "kitchen", topics: ["price"] })
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("words like \"the\" and \"for\" do not decide a choice", () =>
    Effect.gen(function*() {
      const Choice = Schema.Struct({
        pick: Schema.Union(
          Schema.Literal("vague").annotations({ description: "about the things that you would want for the house" }),
          Schema.Literal("hoses").annotations({ description: "garden hoses" })
        )
      })
      const result = yield* LanguageModel.generateObject({ ...ask("What would you have for the garden?"), schema: Choice })
      expect(result.value.pick).toBe("hoses")
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.effect("simulated calls are accounted and published like any other", () =>
    Effect.gen(function*() {
      const model = yield* LanguageModel.LanguageModel
      const events = yield* model.subscribe
      const response = yield* LanguageModel.withAttribution(LanguageModel.chat(ask("hello")), { agent: "echo" })
      const [event] = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
      expect(event).toMatchObject({ simulated: true, provider: "simulated", agent: "echo", outcome: "success" })
      expect(event?.usage).toEqual(response.usage)
      const report = yield* LanguageModel.usage
      expect(report.byAgent["echo"]?.usage).toEqual(response.usage)
    }).pipe(Effect.scoped, Effect.provide(LanguageModel.layerSimulated)))

  it.scoped("the usage report lists the most recent agent instances and sums older ones per type, keeping every total", () =>
    Effect.gen(function*() {
      const model = yield* LanguageModel.make(ModelRegistry.simulated, { agentRows: 2 })
      const spent: Record<string, number> = {}
      const callAs = (agent: string) =>
        Effect.map(
          LanguageModel.withAttribution(model.chat(ask(`question from ${agent}`)), { agent }),
          (response) => {
            spent[agent] = (spent[agent] ?? 0) + response.usage.totalTokens
          }
        )
      for (const agent of ["orders/c1", "orders/c2", "faq/c1", "orders/c1", "orders/c3", "faq/c2"]) yield* callAs(agent)
      const report = yield* model.usage
      // the two most recent callers keep their rows; orders/c1 called again after faq/c1, so it
      // went out after it
      expect(Object.keys(report.byAgent).sort()).toEqual(["faq/*", "faq/c2", "orders/*", "orders/c3"])
      expect(report.byAgent["faq/c2"]?.usage.totalTokens).toBe(spent["faq/c2"])
      expect(report.byAgent[LanguageModel.otherInstances("orders")]).toMatchObject({
        calls: 3,
        usage: { totalTokens: spent["orders/c1"]! + spent["orders/c2"]! }
      })
      // what a dashboard sums per type (the part of the key before "/") is every call of that type
      const byType = (type: string) =>
        Object.entries(report.byAgent).filter(([key]) => key.split("/")[0] === type).reduce(
          (sum, [, totals]) => sum + totals.calls,
          0
        )
      expect([byType("orders"), byType("faq")]).toEqual([4, 2])
      expect(Object.values(report.byAgent).reduce((sum, totals) => sum + totals.usage.totalTokens, 0)).toBe(
        report.total.usage.totalTokens
      )
    }))
})

describe("LanguageModel.layer (registry from Config)", () => {
  it.effect("with no COLONY_MODEL_URL, default answers simulated and a mistyped name fails saying how to configure it", () =>
    Effect.gen(function*() {
      const response = yield* LanguageModel.chat(ask("hi", ModelRegistry.defaultName))
      expect(response).toMatchObject({ simulated: true, model: "default" })
      const error = yield* Effect.flip(LanguageModel.chat(ask("hi", "defualt")))
      expect(error).toMatchObject({ _tag: "UnknownModel", model: "defualt", registered: ["default"] })
      expect(error.message).toContain("COLONY_MODELS")
      expect(error.message).toContain("COLONY_MODEL_URL")
      expect(error.message).toContain(`"provider": "simulated"`)
    }).pipe(Effect.provide(withConfig({}))))

  it.effect("with no COLONY_MODEL_URL, names listed in COLONY_MODELS answer, and listing default replaces the simulated one", () =>
    Effect.gen(function*() {
      const registry = yield* ModelRegistry.fromConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([
          ["COLONY_MODELS", JSON.stringify({ fast: { provider: "simulated" }, default: { provider: "simulated", maxConcurrency: 3 } })]
        ])))
      )
      expect(ModelRegistry.names(registry)).toEqual(["default", "fast"])
      expect(registry.fallback).toBeUndefined()
      expect(registry.models["default"]?.maxConcurrency).toBe(3)
      const model = yield* LanguageModel.make(registry)
      expect((yield* model.chat(ask("a", "fast"))).simulated).toBe(true)
      expect((yield* Effect.flip(model.chat(ask("b", "smart"))))._tag).toBe("UnknownModel")
    }).pipe(Effect.scoped))

  it.scopedLive("with COLONY_MODEL_URL, default and unlisted names go to that endpoint", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* LanguageModel.make(yield* ModelRegistry.fromConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["COLONY_MODEL_URL", server.url]])))
      ))
      expect((yield* model.chat(ask("a", "default"))).simulated).toBe(false)
      expect((yield* model.chat(ask("b", "anything"))).simulated).toBe(false)
      expect(server.requests().map((r) => r.body.model)).toEqual(["default", "anything"])
    }))

  it.scopedLive("COLONY_MODEL_URL sends every name to that endpoint with the configured key and model id", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const response = yield* LanguageModel.chat(ask("hi", "writer")).pipe(
        Effect.provide(withConfig({
          COLONY_MODEL_URL: server.url,
          COLONY_MODEL_KEY: "sk-from-config",
          COLONY_MODEL_ID: "served-model"
        }))
      )
      expect(response).toMatchObject({ simulated: false, model: "writer", modelId: "served-model" })
      expect(server.requests()[0]).toMatchObject({ authorization: "Bearer sk-from-config", body: { model: "served-model" } })
    }))

  it.scopedLive("COLONY_MODELS gives names their own endpoint, id, limits and key (apiKeyFrom)", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const registry = yield* ModelRegistry.fromConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([
            ["FAST_KEY", "sk-fast"],
            [
              "COLONY_MODELS",
              JSON.stringify({
                fast: {
                  baseUrl: server.url,
                  modelId: "small-1",
                  apiKeyFrom: "FAST_KEY",
                  maxConcurrency: 2,
                  prices: { input: 0.1, output: 0.4 }
                },
                offline: { provider: "simulated" }
              })
            ]
          ])
        ))
      )
      expect(registry.models["fast"]).toMatchObject({ provider: "openai", maxConcurrency: 2, modelId: "small-1" })
      const model = yield* LanguageModel.make(registry)
      const fast = yield* model.chat(ask("a", "fast"))
      const offline = yield* model.chat(ask("b", "offline"))
      const unlisted = yield* Effect.flip(model.chat(ask("c", "unlisted")))
      expect(fast).toMatchObject({ simulated: false, modelId: "small-1" })
      expect(fast.cost).toBeGreaterThan(0)
      expect(server.requests()[0]?.authorization).toBe("Bearer sk-fast")
      expect(offline.simulated).toBe(true)
      expect(unlisted).toMatchObject({ _tag: "UnknownModel", registered: ["default", "fast", "offline"] })
    }))

  it.effect("an openai entry with no base URL anywhere is a configuration error that says what to set", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        ModelRegistry.fromConfig.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(
            new Map([["COLONY_MODELS", JSON.stringify({ smart: { provider: "openai", modelId: "x" } })]])
          ))
        )
      )
      expect(String(error)).toContain("COLONY_MODEL_URL")
      expect(String(error)).toContain("smart")
    }))

  it.effect("an invalid COLONY_MODELS is a configuration error naming the field, never echoing a key", () =>
    Effect.gen(function*() {
      const secret = "sk-inline-SECRET-987654321"
      const errorFor = (raw: string) =>
        ModelRegistry.fromConfig.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["COLONY_MODELS", raw]]))),
          Effect.flip,
          Effect.map(String)
        )
      const badField = yield* errorFor(JSON.stringify({ smart: { apiKey: secret, maxConcurrency: 0 } }))
      const badJson = yield* errorFor(`{"smart": {"apiKey": "${secret}", "maxConcurrency": }}`)
      const badEntry = yield* errorFor(JSON.stringify({ smart: secret }))
      expect(badField).toContain("smart.maxConcurrency")
      expect(badJson).toContain("not valid JSON")
      expect(badEntry).toContain("smart")
      for (const message of [badField, badJson, badEntry]) expect(message).not.toContain("SECRET")
    }))
})
