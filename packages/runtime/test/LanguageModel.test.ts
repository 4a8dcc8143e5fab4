/**
 * LanguageModel against the fake OpenAI-compatible server, through the real `openai` client.
 * Backoff settings are tiny so that retries cost milliseconds; the only deliberate wait is the
 * one-second Retry-After, which is the behaviour under test.
 */
// ModelRegistry is not re-exported from the package index yet (index.ts is owned elsewhere).
import * as LanguageModel from "../src/LanguageModel.js"
import * as ModelRegistry from "../src/ModelRegistry.js"
import { FakeOpenAI } from "@colony/runtime/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Logger, LogLevel, Metric, Queue, Schema, Stream, TestClock } from "effect"

const fast = { retryBaseDelayMs: 5, retryMaxDelayMs: 20, timeoutMs: 2_000 } as const

const modelFor = (server: FakeOpenAI.Server, options: ModelRegistry.ModelOptions = {}) =>
  LanguageModel.make(ModelRegistry.openAI({ apiKey: "sk-test-key", ...fast, ...options, baseUrl: server.url }))

const ask = (content: string, model = "fake-model"): LanguageModel.ChatRequest => ({
  model,
  messages: [LanguageModel.ChatMessage.user(content)]
})

// Retries log a warning each; keep the test output to what failed.
const quiet = <A, E, R>(effect: Effect.Effect<A, E, R>) => Logger.withMinimumLogLevel(effect, LogLevel.Error)

const collect = (stream: Stream.Stream<LanguageModel.StreamPart, LanguageModel.ModelError>) =>
  Stream.runCollect(stream).pipe(Effect.map(Chunk.toReadonlyArray))

describe("LanguageModel (openai provider)", () => {
  it.scopedLive("a chat call returns the endpoint's text and usage, labelled with the name and model id", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { modelId: "served-model" })
      server.script({ text: "hello from the fake", usage: { promptTokens: 12, completionTokens: 5 } })
      const response = yield* model.chat(ask("hi", "writer"))
      expect(response.text).toBe("hello from the fake")
      expect(response.model).toBe("writer")
      expect(response.modelId).toBe("served-model")
      expect(response.simulated).toBe(false)
      expect(response.usage.totalTokens).toBe(17)
      expect(server.requests()[0]?.body.model).toBe("served-model")
    }))

  it.scopedLive("a 429 is retried no sooner than its Retry-After, then succeeds", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject({ kind: "429", retryAfterSeconds: 1 })
      const response = yield* model.chat(ask("busy?"))
      const [first, second] = server.requests()
      expect(response.retries).toBe(1)
      // The backoff alone would be under 20ms; only Retry-After explains a one-second gap.
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(990)
    })))

  it.scopedLive("a 500 is retried and the call succeeds", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("500")
      const response = yield* model.chat(ask("again"))
      expect(response.retries).toBe(1)
      expect(server.stats().chatRequests).toBe(2)
    })))

  it.scopedLive("a 503 is retried and the call succeeds", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("503", 2)
      const response = yield* model.chat(ask("overloaded"))
      expect(response.retries).toBe(2)
      expect(response.text).toContain("fake reply")
    })))

  it.scopedLive("a body cut off mid-way is retried and the call succeeds", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("cut-stream")
      const response = yield* model.chat(ask("cut"))
      expect(response.retries).toBe(1)
    })))

  it.scopedLive("exhausted retries end in ModelRetriesExhausted after maxRetries + 1 attempts", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { maxRetries: 2 })
      server.inject("500", 10)
      const error = yield* Effect.flip(model.chat(ask("doomed")))
      expect(error._tag).toBe("ModelRetriesExhausted")
      expect(error).toMatchObject({ attempts: 3, status: 500 })
      expect(server.stats().chatRequests).toBe(3)
    })))

  it.scopedLive("a Retry-After longer than maxRetryAfterMs fails at once instead of waiting", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { maxRetryAfterMs: 5_000 })
      server.inject({ kind: "429", retryAfterSeconds: 3600 })
      const error = yield* Effect.flip(model.chat(ask("later")))
      expect(error).toMatchObject({ _tag: "ModelRetriesExhausted", attempts: 1, retryAfterMs: 3_600_000 })
      expect(server.stats().chatRequests).toBe(1)
    })))

  it.scopedLive("a hang past the timeout ends in ModelTimeout and the abandoned requests are aborted", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { timeoutMs: 150, maxRetries: 1 })
      server.inject("hang", 5)
      const error = yield* Effect.flip(model.chat(ask("anyone?")))
      expect(error).toMatchObject({ _tag: "ModelTimeout", timeoutMs: 150, attempts: 2 })
      yield* Effect.promise(() => server.waitForIdle())
      expect(server.stats().inFlight).toBe(0)
    })))

  it.scopedLive("a single hang is abandoned at the timeout and the retry succeeds", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { timeoutMs: 150 })
      server.inject("hang")
      const response = yield* model.chat(ask("once"))
      expect(response.retries).toBe(1)
    })))

  it.scopedLive("malformed JSON ends in MalformedModelResponse without a retry", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("malformed-json")
      const error = yield* Effect.flip(model.chat(ask("json?")))
      expect(error._tag).toBe("MalformedModelResponse")
      expect(error.message).toContain("not valid JSON")
      expect(server.stats().chatRequests).toBe(1)
    })))

  it.scopedLive("a wrong content type ends in MalformedModelResponse that points at the base URL", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("wrong-content-type")
      const error = yield* Effect.flip(model.chat(ask("html?")))
      expect(error._tag).toBe("MalformedModelResponse")
      expect(error.message).toContain("text/html")
      expect(error.message).toContain(server.url)
    })))

  it.scopedLive("a 401 is not retried and says to check the key", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make({ apiKey: "sk-the-right-one" })
      const model = yield* modelFor(server)
      const error = yield* Effect.flip(model.chat(ask("let me in")))
      expect(error).toMatchObject({ _tag: "ModelRequestRejected", status: 401 })
      expect(error.message).toContain("COLONY_MODEL_KEY")
      expect(server.stats().chatRequests).toBe(1)
    })))

  it.scopedLive("interrupting a call aborts its HTTP request", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { timeoutMs: 60_000 })
      server.inject("hang")
      const fiber = yield* Effect.fork(model.chat(ask("never mind")))
      yield* Effect.promise(() => server.waitForRequests(1))
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => server.waitForIdle())
      expect(server.stats().inFlight).toBe(0)
    }))
})

describe("LanguageModel streaming (openai provider)", () => {
  it.scopedLive("deltas arrive one by one and add up to the final response, with usage", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.script("the quick brown fox jumps")
      const parts = yield* collect(model.stream(ask("fox")))
      const deltas = parts.filter((p): p is LanguageModel.TextDelta => p._tag === "TextDelta")
      const last = parts.at(-1)
      expect(deltas.length).toBeGreaterThan(2)
      expect(last?._tag).toBe("Finished")
      const response = (last as LanguageModel.Finished).response
      expect(deltas.map((d) => d.text).join("")).toBe(response.text)
      expect(response.text).toBe("the quick brown fox jumps")
      expect(response.usage.totalTokens).toBe(server.stats().usage.totalTokens)
    }))

  it.scopedLive("a stream cut mid-way ends in ModelStreamInterrupted after the deltas that arrived", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.script("one two three four five six")
      server.inject({ kind: "cut-stream", afterChunks: 3 })
      const received: Array<string> = []
      const error = yield* model.stream(ask("count")).pipe(
        Stream.runForEach((part) => Effect.sync(() => part._tag === "TextDelta" && received.push(part.text))),
        Effect.flip
      )
      expect(error._tag).toBe("ModelStreamInterrupted")
      expect(received.join("")).toBe("one two ")
      expect(error).toMatchObject({ receivedChars: "one two ".length })
    }))

  it.scopedLive("a consumer that stops early closes the connection and frees the permit", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make({ chunkDelayMs: 50 })
      const model = yield* modelFor(server, { maxConcurrency: 1 })
      server.script(Array.from({ length: 100 }, (_, i) => `word${i}`).join(" "))
      const first = yield* model.stream(ask("long")).pipe(Stream.take(2), Stream.runCollect)
      expect(Chunk.size(first)).toBe(2)
      // Left open, the server would keep streaming for five seconds.
      yield* Effect.promise(() => server.waitForIdle()).pipe(Effect.timeout("1 second"))
      // With the only permit still held, this would wait forever.
      const next = yield* model.chat(ask("next")).pipe(Effect.timeout("2 seconds"))
      expect(next.text).toContain("fake reply")
    }))

  it.scopedLive("a transient fault before the stream starts is retried", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("503")
      server.script("after a retry")
      const parts = yield* collect(model.stream(ask("go")))
      const finished = parts.at(-1) as LanguageModel.Finished
      expect(finished.response.text).toBe("after a retry")
      expect(finished.response.retries).toBe(1)
    })))

  it.scopedLive("a stream that hangs before answering ends in ModelTimeout", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { timeoutMs: 150, maxRetries: 0 })
      server.inject("hang")
      const error = yield* Effect.flip(Stream.runDrain(model.stream(ask("hello?"))))
      expect(error._tag).toBe("ModelTimeout")
    })))

  it.scopedLive("malformed stream events end in MalformedModelResponse", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("malformed-json")
      const error = yield* Effect.flip(Stream.runDrain(model.stream(ask("json?"))))
      expect(error._tag).toBe("MalformedModelResponse")
    }))

  it.scopedLive("a stream answered with a wrong content type ends in MalformedModelResponse", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("wrong-content-type")
      const error = yield* Effect.flip(Stream.runDrain(model.stream(ask("html?"))))
      expect(error._tag).toBe("MalformedModelResponse")
      expect(error.message).toContain("text/html")
    })))
})

describe("LanguageModel limits and accounting", () => {
  it.scopedLive("the concurrency limit holds: the server never sees more requests in flight", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make({ latencyMs: 40 })
      const model = yield* modelFor(server, { maxConcurrency: 3 })
      yield* Effect.forEach(
        Array.from({ length: 12 }, (_, i) => i),
        (i) => i % 3 === 0 ? Stream.runDrain(model.stream(ask(`s${i}`))) : model.chat(ask(`c${i}`)),
        { concurrency: "unbounded" }
      )
      expect(server.stats().chatRequests).toBe(12)
      expect(server.stats().maxInFlight).toBe(3)
    }))

  it.scoped("requests per minute: the next request waits for the bucket to refill", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { requestsPerMinute: 2 })
      yield* model.chat(ask("one"))
      yield* model.chat(ask("two"))
      const third = yield* Effect.fork(model.chat(ask("three")))
      // A negative claim needs a little real time: give the third call the chance to go out.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 150)))
      expect(server.stats().chatRequests).toBe(2)
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(third)
      expect(server.stats().chatRequests).toBe(3)
    }))

  it.scopedLive("token totals equal what the fake server reported, retries and streams included", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.inject("500")
      yield* model.chat(ask("a fairly long question about accounting"))
      yield* Stream.runDrain(model.stream(ask("stream me something")))
      yield* model.chat(ask("short"))
      const report = yield* model.usage
      const reported = server.stats().usage
      expect(report.total.usage).toMatchObject(reported)
      expect(report.total).toMatchObject({ calls: 3, failures: 0, retries: 1 })
    })))

  it.scopedLive("cost follows the price table and is summed per agent and per collaboration", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { prices: { input: 2, output: 10 } })
      const usage = { promptTokens: 1_000, completionTokens: 100 }
      server.script({ text: "a", usage }, { text: "b", usage }, { text: "c", usage })
      const call = (agent: string, collaboration: string) =>
        LanguageModel.withAttribution(model.chat(ask(agent)), { agent, collaboration })
      const first = yield* call("triage", "ticket-1")
      yield* call("billing", "ticket-1")
      yield* call("triage", "ticket-2")
      const each = (1_000 * 2 + 100 * 10) / 1_000_000
      expect(first.cost).toBeCloseTo(each)
      const report = yield* model.usage
      expect(report.byAgent["triage"]?.cost).toBeCloseTo(2 * each)
      expect(report.byAgent["billing"]?.usage.totalTokens).toBe(1_100)
      expect(report.byCollaboration["ticket-1"]?.calls).toBe(2)
      expect(report.byCollaboration["ticket-2"]?.usage.promptTokens).toBe(1_000)
      expect(report.total.cost).toBeCloseTo(3 * each)
    }))

  it.scoped("the usage report lists the most recent collaborations and sums older ones in one row, counting them", () =>
    Effect.gen(function*() {
      const model = yield* LanguageModel.make(ModelRegistry.simulated, { collaborationRows: 2 })
      const callIn = (collaboration: string) =>
        LanguageModel.withAttribution(model.chat(ask(`a question in ${collaboration}`, "default")), { collaboration })
      for (const collaboration of ["ticket-1", "ticket-2", "ticket-1", "ticket-3", "ticket-4"]) {
        yield* callIn(collaboration)
      }
      const report = yield* model.usage
      // ticket-1 called again after ticket-2, so ticket-2 went out first
      expect(Object.keys(report.byCollaboration).sort()).toEqual([
        LanguageModel.otherCollaborations,
        "ticket-3",
        "ticket-4"
      ])
      expect(report.byCollaboration[LanguageModel.otherCollaborations]?.calls).toBe(3)
      expect(report.foldedCollaborations).toBe(2)
      const summed = Object.values(report.byCollaboration).reduce((sum, totals) => sum + totals.usage.totalTokens, 0)
      expect(summed).toBe(report.total.usage.totalTokens)
    }))

  it.scoped("a subscriber that stops reading holds at most feedCapacity calls: later calls are left out of the feed and counted, never out of the ledger", () =>
    Effect.gen(function*() {
      const model = yield* LanguageModel.make(ModelRegistry.simulated, { feedCapacity: 3 })
      const stalled = yield* model.subscribe
      const droppedBefore = (yield* Metric.value(LanguageModel.callsDropped)).count
      for (let i = 0; i < 5; i++) yield* model.chat(ask(`question ${i}`, "default"))
      expect(yield* Queue.size(stalled)).toBe(3)
      expect((yield* Metric.value(LanguageModel.callsDropped)).count - droppedBefore).toBe(2)
      expect((yield* model.usage).total.calls).toBe(5)
    }))

  it.scopedLive("every call is published as a ModelCall event with tokens, latency and retries", () =>
    quiet(Effect.gen(function*() {
      const server = yield* FakeOpenAI.make({ latencyMs: 20 })
      const model = yield* modelFor(server, { maxRetries: 0 })
      const events = yield* model.subscribe
      server.inject("500")
      server.inject("500")
      server.script({ text: "ok", usage: { promptTokens: 3, completionTokens: 4 } })
      yield* Effect.either(model.chat(ask("fails")))
      yield* LanguageModel.withAttribution(model.chat(ask("works")), { agent: "a1", collaboration: "c1" }).pipe(
        Effect.retry({ times: 1 })
      )
      const [failed, retriedAway, ok] = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
      expect(failed).toMatchObject({ outcome: "failure", error: "ModelRetriesExhausted", model: "fake-model" })
      expect(retriedAway?.outcome).toBe("failure")
      expect(ok).toMatchObject({
        outcome: "success",
        model: "fake-model",
        modelId: "fake-model",
        simulated: false,
        streamed: false,
        retries: 0,
        agent: "a1",
        collaboration: "c1"
      })
      expect(ok?.usage.totalTokens).toBe(7)
      expect(ok?.latencyMs).toBeGreaterThanOrEqual(15)
      expect(Schema.is(LanguageModel.ModelCall)(ok)).toBe(true)
    })))
})

describe("LanguageModel tools and structured output (openai provider)", () => {
  const Lookup = Schema.Struct({ orderId: Schema.String })
  const Ticket = Schema.Struct({
    priority: Schema.Literal("low", "high"),
    summary: Schema.String
  }).annotations({ identifier: "Ticket" })

  it.scopedLive("a tool-call loop runs the tool, feeds the result back and returns the final answer", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      const seen: Array<string> = []
      const lookup = LanguageModel.tool({
        name: "lookup_order",
        description: "Find an order by id",
        parameters: Lookup,
        handler: ({ orderId }) => Effect.sync(() => (seen.push(orderId), { orderId, status: "shipped" }))
      })
      server.script(
        { toolCalls: [{ name: "lookup_order", arguments: { orderId: "A-17" }, id: "call_1" }] },
        "Order A-17 has shipped."
      )
      const result = yield* LanguageModel.runTools({ ...ask("where is A-17?"), tools: [lookup] }).pipe(
        Effect.provideService(LanguageModel.LanguageModel, model)
      )
      expect(seen).toEqual(["A-17"])
      expect(result.response.text).toBe("Order A-17 has shipped.")
      expect(result.steps).toBe(2)
      const secondRequest = server.requests()[1]!.body
      expect(secondRequest.messages?.at(-1)).toMatchObject({
        role: "tool",
        tool_call_id: "call_1",
        content: JSON.stringify({ orderId: "A-17", status: "shipped" })
      })
      expect(server.requests()[0]!.body.tools?.[0]?.function?.name).toBe("lookup_order")
    }))

  it.scopedLive("arguments that do not match the tool's schema are reported back to the model", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      let runs = 0
      const lookup = LanguageModel.tool({
        name: "lookup_order",
        description: "Find an order by id",
        parameters: Lookup,
        handler: () => Effect.sync(() => ++runs)
      })
      server.script(
        { toolCalls: [{ name: "lookup_order", arguments: { order: 17 } }] },
        { toolCalls: [{ name: "lookup_order", arguments: { orderId: "17" } }] },
        "done"
      )
      const result = yield* LanguageModel.runTools({ ...ask("find 17"), tools: [lookup] }).pipe(
        Effect.provideService(LanguageModel.LanguageModel, model)
      )
      expect(runs).toBe(1)
      expect(result.invocations.map((i) => i.ok)).toEqual([false, true])
      expect(String(server.requests()[1]!.body.messages?.at(-1)?.content)).toContain("orderId")
    }))

  it.scopedLive("the tool loop stops at maxSteps with ToolStepLimitExceeded", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      const lookup = LanguageModel.tool({
        name: "lookup_order",
        description: "Find an order by id",
        parameters: Lookup,
        handler: () => Effect.succeed("still looking")
      })
      // Unscripted, the fake keeps calling the first tool until a tool result arrives... and
      // after one it answers; script three calls to keep it asking.
      const again = { toolCalls: [{ name: "lookup_order", arguments: { orderId: "1" } }] }
      server.script(again, again, again)
      const error = yield* Effect.flip(
        LanguageModel.runTools({ ...ask("loop"), tools: [lookup], maxSteps: 3 }).pipe(
          Effect.provideService(LanguageModel.LanguageModel, model)
        )
      )
      expect(error).toMatchObject({ _tag: "ToolStepLimitExceeded", maxSteps: 3 })
      expect(server.stats().chatRequests).toBe(3)
    }))

  it.scopedLive("structured output is requested with the JSON Schema and decoded", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.script(JSON.stringify({ priority: "high", summary: "refund request" }))
      const result = yield* LanguageModel.generateObject({ ...ask("triage this"), schema: Ticket }).pipe(
        Effect.provideService(LanguageModel.LanguageModel, model)
      )
      expect(result.value).toEqual({ priority: "high", summary: "refund request" })
      expect(result.repaired).toBe(false)
      const format = server.requests()[0]!.body.response_format
      expect(format?.type).toBe("json_schema")
      expect(format?.json_schema?.schema).toMatchObject({ required: ["priority", "summary"] })
    }))

  it.scopedLive("invalid structured output gets one repair attempt that can succeed", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.script("{\"priority\": \"urgent\"", "```json\n{\"priority\": \"low\", \"summary\": \"fixed\"}\n```")
      const result = yield* LanguageModel.generateObject({ ...ask("triage"), schema: Ticket }).pipe(
        Effect.provideService(LanguageModel.LanguageModel, model)
      )
      expect(result.value).toEqual({ priority: "low", summary: "fixed" })
      expect(result.repaired).toBe(true)
      expect(result.usage.totalTokens).toBe(server.stats().usage.totalTokens)
      expect(String(server.requests()[1]!.body.messages?.at(-1)?.content)).toContain("not valid")
    }))

  it.scopedLive("structured output still invalid after the repair ends in MalformedModelOutput", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server)
      server.script("{\"priority\": \"urgent\"}", "{\"priority\": \"urgent\", \"summary\": 3}")
      const error = yield* Effect.flip(
        LanguageModel.generateObject({ ...ask("triage"), schema: Ticket }).pipe(
          Effect.provideService(LanguageModel.LanguageModel, model)
        )
      )
      expect(error).toMatchObject({ _tag: "MalformedModelOutput", schema: "Ticket" })
      expect(server.stats().chatRequests).toBe(2)
    }))

  it.scopedLive("with structuredOutput \"prompt\" the schema goes in a system message instead", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const model = yield* modelFor(server, { structuredOutput: "prompt" })
      server.script(JSON.stringify({ priority: "low", summary: "ok" }))
      yield* LanguageModel.generateObject({ ...ask("triage"), schema: Ticket }).pipe(
        Effect.provideService(LanguageModel.LanguageModel, model)
      )
      const body = server.requests()[0]!.body
      expect(body.response_format).toBeUndefined()
      expect(body.messages?.[0]).toMatchObject({ role: "system" })
      expect(String(body.messages?.[0]?.content)).toContain("\"priority\"")
    }))
})

describe("LanguageModel keys", () => {
  const secret = "sk-colony-SECRET-0123456789abcdef"

  it.scopedLive("keys never appear in logs, errors or events", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const capture = Logger.make(({ annotations, message }) => {
        logs.push(`${JSON.stringify(message)} ${JSON.stringify(Object.fromEntries(annotations))}`)
      })
      // The fake echoes a wrong key in its 401, as OpenAI does; the right key must reach it.
      const strict = yield* FakeOpenAI.make({ apiKey: "sk-something-else" })
      const open = yield* FakeOpenAI.make()
      const model = yield* LanguageModel.make(ModelRegistry.make({
        rejected: { baseUrl: strict.url, apiKey: secret, ...fast },
        flaky: { baseUrl: open.url, apiKey: secret, ...fast, maxRetries: 1 }
      }))
      const events = yield* model.subscribe
      open.inject("500", 2)
      const observed = yield* Effect.all([
        Effect.flip(model.chat(ask("hi", "rejected"))),
        Effect.flip(model.chat(ask("hi", "flaky"))),
        model.chat(ask("hi", "flaky"))
      ]).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      const published = Chunk.toReadonlyArray(yield* Queue.takeAll(events))

      expect(strict.requests()[0]?.authorization).toBe(`Bearer ${secret}`)
      expect(open.requests()[0]?.authorization).toBe(`Bearer ${secret}`)
      expect(logs.length).toBeGreaterThan(0)
      expect(published).toHaveLength(3)
      const [rejected, exhausted] = observed
      const everything = [
        ...logs,
        rejected.message,
        String(rejected),
        JSON.stringify(rejected),
        exhausted.message,
        JSON.stringify(exhausted),
        JSON.stringify(observed[2]),
        ...published.map((e) => JSON.stringify(e)),
        JSON.stringify(ModelRegistry.make({ x: { baseUrl: strict.url, apiKey: secret } }))
      ].join("\n")
      expect(rejected._tag).toBe("ModelRequestRejected")
      expect(everything).not.toContain(secret)
      expect(everything).not.toContain("SECRET")
    }))
})

describe("LanguageModel registry", () => {
  it.scopedLive("different names go to different endpoints and model ids", () =>
    Effect.gen(function*() {
      const small = yield* FakeOpenAI.make()
      const large = yield* FakeOpenAI.make()
      const model = yield* LanguageModel.make(ModelRegistry.make({
        fast: { baseUrl: small.url, modelId: "small-1" },
        smart: { baseUrl: large.url, modelId: "large-2" },
        offline: { provider: "simulated" }
      }))
      yield* model.chat(ask("a", "fast"))
      yield* model.chat(ask("b", "smart"))
      const offline = yield* model.chat(ask("c", "offline"))
      expect(small.requests().map((r) => r.body.model)).toEqual(["small-1"])
      expect(large.requests().map((r) => r.body.model)).toEqual(["large-2"])
      expect(offline.simulated).toBe(true)
      const unknown = yield* Effect.flip(model.chat(ask("d", "nope")))
      expect(unknown._tag).toBe("UnknownModel")
      expect(unknown.message).toContain("fast, offline, smart")
    }))

  it.effect("backoff grows exponentially within its jitter band, capped, and never undercuts Retry-After", () =>
    Effect.sync(() => {
      const policy = { retryBaseDelayMs: 100, retryMaxDelayMs: 1_000 }
      expect(LanguageModel.backoffDelay(policy, 0, undefined, 0)).toBe(50)
      expect(LanguageModel.backoffDelay(policy, 0, undefined, 0.999)).toBeCloseTo(100, 0)
      expect(LanguageModel.backoffDelay(policy, 2, undefined, 0)).toBe(200)
      expect(LanguageModel.backoffDelay(policy, 10, undefined, 1)).toBe(1_000)
      expect(LanguageModel.backoffDelay(policy, 0, 3_000, 0.5)).toBe(3_000)
      expect(LanguageModel.backoffDelay(policy, 3, 10, 0)).toBe(400)
    }))
})

describe("LanguageModel (simulated provider)", () => {
  const Intent = Schema.Union(
    Schema.Literal("orders").annotations({ description: "order status, delivery, shipping, address" }),
    Schema.Literal("billing").annotations({ description: "invoice, charge, payment, refund" }),
    Schema.Literal("general").annotations({ description: "anything else" })
  )
  const Route = Schema.Struct({ intents: Schema.Array(Intent), primary: Intent, note: Schema.String })
  const request = (content: string): LanguageModel.ChatRequest => ({
    model: "default",
    messages: [LanguageModel.ChatMessage.user(content)]
  })

  it.scoped("structured output picks the choices whose words the request mentions, and labels free text", () =>
    Effect.gen(function*() {
      const route = (text: string) =>
        Effect.map(LanguageModel.generateObject({ ...request(text), schema: Route }), (r) => r.value)
      const both = yield* route("Where is my delivery, and why is there a second charge on my invoice?")
      expect(both.intents).toEqual(["orders", "billing"])
      expect(both.primary).toBe("billing")
      expect(both.note.startsWith(LanguageModel.SIMULATED_LABEL)).toBe(true)
      const none = yield* route("Hello there")
      expect(none.intents).toHaveLength(1)
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.scoped("tool arguments come from the request: pattern matches, else the request's text", () =>
    Effect.gen(function*() {
      const lookup = LanguageModel.tool({
        name: "lookup_order",
        description: "Look up an order",
        parameters: Schema.Struct({ orderId: Schema.String.pipe(Schema.pattern(/^A-\d{5}$/)), question: Schema.String }),
        handler: (args) => Effect.succeed(args)
      })
      const result = yield* LanguageModel.runTools({ ...request("Status of order A-10023 please"), tools: [lookup] })
      expect(result.invocations.map((i) => JSON.parse(i.call.arguments))).toEqual([
        { orderId: "A-10023", question: "Status of order A-10023 please" }
      ])
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))
})
