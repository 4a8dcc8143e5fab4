/**
 * Whether a tool call failed is carried as data from where the failure is caught, never read off
 * the text the model is shown: a tool may legitimately answer text that starts with "error: ".
 */
import { Agent, AgentMemory, Colony, LanguageModel } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref, Schema } from "effect"

class LogUnavailable extends Schema.TaggedError<LogUnavailable>()("LogUnavailable", { service: Schema.String }) {
  override get message() {
    return `the log of ${this.service} cannot be read now`
  }
}

/** Reads the last line of a service's log, which for a failing service is an error line. */
const makeLastLogLine = (calls: Ref.Ref<number>) =>
  LanguageModel.tool({
    name: "last_log_line",
    description: "Read the last line of a service's log",
    parameters: Schema.Struct({ service: Schema.Literal("billing", "orders") }),
    handler: ({ service }) =>
      Effect.gen(function*() {
        yield* Ref.update(calls, (n) => n + 1)
        return service === "billing"
          ? "error: payment provider timed out at 03:12"
          : yield* new LogUnavailable({ service })
      })
  })

const Operator = Agent.make({ name: "operator" })
const DurableOperator = Agent.make({ name: "durable-operator", durable: true })

const colony = (calls: Ref.Ref<number>) => {
  const tools = [makeLastLogLine(calls)]
  return Layer.mergeAll(Agent.toLayer(Operator, {}, { tools }), Agent.toLayer(DurableOperator, {}, { tools })).pipe(
    Layer.provideMerge(Colony.layerEmbedded())
  )
}

const withColony = <A, E, R>(f: (calls: Ref.Ref<number>) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Ref.make(0), (calls) => Effect.provide(f(calls), colony(calls)))

const encodeRecord = Schema.encodeSync(Schema.parseJson(Schema.Struct({ ok: Schema.Boolean, output: Schema.String })))

describe("tool results", () => {
  it.effect("runTools marks a handler's ToolFailure as failed and an output that reads like an error as a success", () =>
    Effect.gen(function*() {
      const lookup = (output: unknown) =>
        LanguageModel.tool({
          name: "lookup",
          description: "Look something up",
          parameters: Schema.Struct({ q: Schema.String }),
          handler: () => Effect.succeed(output)
        })
      const run = (output: unknown) =>
        LanguageModel.runTools({
          model: "default",
          messages: [LanguageModel.ChatMessage.user("Look up the status")],
          tools: [lookup(output)]
        })
      const legit = yield* run("error: 3 lines matched")
      expect(legit.invocations.map((i) => [i.ok, i.output])).toEqual([[true, "error: 3 lines matched"]])
      const failed = yield* run(new LanguageModel.ToolFailure({ output: "the index is rebuilding" }))
      expect(failed.invocations.map((i) => [i.ok, i.output])).toEqual([[false, "the index is rebuilding"]])
      // the model is shown the failure's text as the tool's result
      expect(failed.messages.find((m) => m.role === "tool")?.content).toBe("the index is rebuilding")
    }).pipe(Effect.provide(LanguageModel.layerSimulated)))

  it.scopedLive("a tool whose output starts with \"error: \" is reported as ok; a tool that fails is not, and the model reads the same text as before", () =>
    withColony(() =>
      Effect.gen(function*() {
        const operator = yield* Colony.client(Operator)
        const billing = yield* operator("a").Ask({ prompt: "Read the last log line of billing" })
        expect(billing.tools.map((t) => [t.name, t.ok, t.output])).toEqual([
          ["last_log_line", true, "error: payment provider timed out at 03:12"]
        ])
        const orders = yield* operator("b").Ask({ prompt: "Read the last log line of orders" })
        expect(orders.tools.map((t) => [t.ok, t.output])).toEqual([
          [false, "error: LogUnavailable: the log of orders cannot be read now"]
        ])
        expect(orders.text).toContain("The last_log_line tool failed: LogUnavailable: the log of orders cannot be read now.")
        expect(orders.text).not.toContain("Read the last log line")
      })
    ), 30_000)

  it.scopedLive("a durable message replaying a tool step recorded as failed reports it failed, without running the tool again", () =>
    withColony((calls) =>
      Effect.gen(function*() {
        const store = yield* AgentMemory.AgentMemory
        yield* store.recordStep(
          "durable-operator/c",
          "m-1",
          "tool-1",
          encodeRecord({ ok: false, output: "error: LogUnavailable: recorded" })
        )
        const operator = yield* Colony.client(DurableOperator)
        const answer = yield* operator("c").Ask({ prompt: "Read the last log line of billing", messageId: "m-1" })
        expect(answer.tools.map((t) => [t.ok, t.output])).toEqual([[false, "error: LogUnavailable: recorded"]])
        expect(yield* Ref.get(calls)).toBe(0)

        // a durable message that runs the tool records and reports it the same way as a volatile one
        const fresh = yield* operator("d").Ask({ prompt: "Read the last log line of billing", messageId: "m-2" })
        expect(fresh.tools.map((t) => [t.ok, t.output])).toEqual([[true, "error: payment provider timed out at 03:12"]])
        expect(yield* Ref.get(calls)).toBe(1)
      })
    ), 30_000)
})
