import { FakeOpenAI } from "@colony/runtime/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import OpenAI, { AuthenticationError, RateLimitError } from "openai"

// The fake is exercised through the official client, exactly as LanguageModel reaches it.
const clientFor = (server: FakeOpenAI.Server, apiKey = "sk-fake") =>
  new OpenAI({ baseURL: server.url, apiKey, maxRetries: 0, logLevel: "off" })

const user = (content: string) => ({ role: "user" as const, content })

describe("FakeOpenAI", () => {
  it.scopedLive("lists its models at /v1/models", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make({ models: ["small", "large"] })
      const page = yield* Effect.promise(() => clientFor(server).models.list())
      expect(page.data.map((m) => m.id)).toEqual(["small", "large"])
    }))

  it.scopedLive("answers a plain completion with the scripted text and its usage", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.script({ text: "scripted answer", usage: { promptTokens: 11, completionTokens: 7 } })
      const completion = yield* Effect.promise(() =>
        clientFor(server).chat.completions.create({ model: "m", messages: [user("hi")] })
      )
      expect(completion.choices[0]?.message.content).toBe("scripted answer")
      expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 })
      expect(server.stats().usage).toEqual({ promptTokens: 11, completionTokens: 7, totalTokens: 18 })
    }))

  it.scopedLive("streams the scripted text as SSE chunks followed by a usage chunk", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.script("one two three four")
      const chunks = yield* Effect.promise(async () => {
        const stream = await clientFor(server).chat.completions.create({
          model: "m",
          messages: [user("count")],
          stream: true,
          stream_options: { include_usage: true }
        })
        const all = []
        for await (const chunk of stream) all.push(chunk)
        return all
      })
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")
      expect(text).toBe("one two three four")
      expect(chunks.filter((c) => (c.choices[0]?.delta.content ?? "") !== "").length).toBeGreaterThan(1)
      expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0)
      expect(server.stats().streamRequests).toBe(1)
    }))

  it.scopedLive("sends scripted tool calls as tool_calls, streamed or not", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const tools = [{
        type: "function" as const,
        function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } }
      }]
      server.script({ toolCalls: [{ name: "lookup", arguments: { q: "order 42" } }] })
      server.script({ toolCalls: [{ name: "lookup", arguments: { q: "order 43" } }] })
      const plain = yield* Effect.promise(() =>
        clientFor(server).chat.completions.create({ model: "m", messages: [user("find")], tools })
      )
      const call = plain.choices[0]?.message.tool_calls?.[0]
      expect(plain.choices[0]?.finish_reason).toBe("tool_calls")
      expect(call?.type === "function" ? JSON.parse(call.function.arguments) : undefined).toEqual({ q: "order 42" })

      const streamed = yield* Effect.promise(async () => {
        const stream = await clientFor(server).chat.completions.create({
          model: "m",
          messages: [user("find")],
          tools,
          stream: true
        })
        let args = ""
        let name = ""
        for await (const chunk of stream) {
          for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
            name += delta.function?.name ?? ""
            args += delta.function?.arguments ?? ""
          }
        }
        return { name, args }
      })
      expect(streamed.name).toBe("lookup")
      expect(JSON.parse(streamed.args)).toEqual({ q: "order 43" })
    }))

  it.scopedLive("answers structured requests with JSON shaped by the request's schema when nothing is scripted", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      const completion = yield* Effect.promise(() =>
        clientFor(server).chat.completions.create({
          model: "m",
          messages: [user("classify")],
          response_format: {
            type: "json_schema",
            json_schema: {
              name: "Ticket",
              schema: {
                type: "object",
                required: ["priority", "tags"],
                properties: {
                  priority: { type: "string", enum: ["low", "high"] },
                  tags: { type: "array", items: { type: "string" } }
                }
              }
            }
          }
        })
      )
      const value = JSON.parse(completion.choices[0]?.message.content ?? "")
      expect(["low", "high"]).toContain(value.priority)
      expect(value.tags).toHaveLength(1)
    }))

  it.scopedLive("injects a queued fault into the next request only", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.inject({ kind: "429", retryAfterSeconds: 7 })
      const client = clientFor(server)
      const first = yield* Effect.promise(() =>
        client.chat.completions.create({ model: "m", messages: [user("a")] }).then(() => undefined, (e) => e)
      )
      expect(first).toBeInstanceOf(RateLimitError)
      expect((first as RateLimitError).headers.get("retry-after")).toBe("7")
      const second = yield* Effect.promise(() => client.chat.completions.create({ model: "m", messages: [user("b")] }))
      expect(second.choices[0]?.message.content).toContain("fake reply")
      expect(server.stats().faults["429"]).toBe(1)
    }))

  it.scopedLive("injects faults at the configured rate, the same ones for the same seed", () =>
    Effect.gen(function*() {
      const run = (seed: number) =>
        Effect.gen(function*() {
          const server = yield* FakeOpenAI.make({ faultRate: 0.3, faults: ["500"], seed })
          const client = clientFor(server)
          const outcomes: Array<boolean> = []
          for (let i = 0; i < 40; i++) {
            outcomes.push(
              yield* Effect.promise(() =>
                client.chat.completions.create({ model: "m", messages: [user(`q${i}`)] }).then(() => true, () => false)
              )
            )
          }
          return outcomes
        })
      const first = yield* run(7)
      const again = yield* run(7)
      const failures = first.filter((ok) => !ok).length
      expect(again).toEqual(first)
      expect(failures).toBeGreaterThan(3)
      expect(failures).toBeLessThan(25)
    }))

  it.scopedLive("counts requests and the most in flight at once", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make({ latencyMs: 100 })
      const client = clientFor(server)
      yield* Effect.promise(() =>
        Promise.all(
          Array.from({ length: 5 }, (_, i) => client.chat.completions.create({ model: "m", messages: [user(`${i}`)] }))
        )
      )
      const stats = server.stats()
      expect(stats.chatRequests).toBe(5)
      expect(stats.maxInFlight).toBe(5)
      expect(stats.inFlight).toBe(0)
    }))

  it.scopedLive("delays answers by the latency setting", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.setLatency(300)
      const started = Date.now()
      yield* Effect.promise(() => clientFor(server).chat.completions.create({ model: "m", messages: [user("slow")] }))
      expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    }))

  it.scopedLive("answers 401 naming the presented key when the key is wrong", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make({ apiKey: "sk-right" })
      const error = yield* Effect.promise(() =>
        clientFor(server, "sk-wrong-key").chat.completions.create({ model: "m", messages: [user("a")] }).then(
          () => undefined,
          (e) => e
        )
      )
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(String(error)).toContain("sk-wrong-key")
      const ok = yield* Effect.promise(() =>
        clientFor(server, "sk-right").chat.completions.create({ model: "m", messages: [user("a")] })
      )
      expect(ok.choices).toHaveLength(1)
    }))

  it.live("start and close as plain promises free the port", () =>
    Effect.promise(async () => {
      const server = await FakeOpenAI.start()
      const models = await clientFor(server).models.list()
      expect(models.data.length).toBe(1)
      await server.close()
      const again = await FakeOpenAI.start({ port: server.port })
      expect(again.port).toBe(server.port)
      await again.close()
    }))

  it.live("closing the server releases a hung request", () =>
    Effect.promise(async () => {
      const server = await FakeOpenAI.start()
      server.inject("hang")
      const pending = clientFor(server).chat.completions.create({ model: "m", messages: [user("a")] }).then(
        () => "answered",
        () => "released"
      )
      await server.waitForRequests(1)
      await server.close()
      expect(await pending).toBe("released")
    }))
})
