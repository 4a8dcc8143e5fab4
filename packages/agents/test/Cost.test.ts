import { Collaboration } from "@colony/agents"
import { Agent, Colony, Events, LanguageModel } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Queue } from "effect"

const prices = { input: 2, output: 8 } // USD per million tokens

const withFakeModel = <A, E, R>(
  body: (server: FakeOpenAI.Server) => Effect.Effect<A, E, R>
) =>
  Effect.acquireUseRelease(
    Effect.promise(() => FakeOpenAI.start({})),
    (server) => {
      const colony = Layer.mergeAll(
        Agent.toLayer(Agent.make({ name: "lead" })),
        Agent.toLayer(Agent.make({ name: "helper" }))
      ).pipe(
        Layer.provideMerge(
          Colony.layerEmbedded({
            languageModel: LanguageModel.layerOpenAI({ baseUrl: server.url, apiKey: "k", prices })
          })
        )
      )
      return Effect.provide(body(server), colony)
    },
    (server) => Effect.promise(() => server.close())
  )

describe("cost accounting", () => {
  it.live("a collaboration's cost is the sum of its model calls at the configured prices, per agent and in total", () =>
    withFakeModel(() =>
      Effect.gen(function*() {
        const bus = yield* Events.Events
        const events = yield* bus.subscribe
        const pattern = Collaboration.MasterSlave.make({
          coordinator: Collaboration.ref("lead/c1"),
          workers: [Collaboration.ref("helper/h1"), Collaboration.ref("helper/h2")]
        })
        const result = yield* Collaboration.run(pattern, "Trip: book flights, and book a hotel")
        const calls = [...(yield* Queue.takeAll(events))].filter((e): e is Events.ModelCalled => e._tag === "ModelCalled")
        expect(calls).toHaveLength(3)
        const expected = calls.reduce(
          (sum, call) => sum + (call.usage.promptTokens * prices.input + call.usage.completionTokens * prices.output) / 1e6,
          0
        )
        expect(expected).toBeGreaterThan(0)
        for (const call of calls) {
          expect(call.cost).toBeCloseTo(
            (call.usage.promptTokens * prices.input + call.usage.completionTokens * prices.output) / 1e6,
            12
          )
        }
        expect(result.totalCost).toBeCloseTo(expected, 12)
        expect(result.contributions.reduce((sum, c) => sum + c.cost, 0)).toBeCloseTo(expected, 12)

        // the model layer's own report sums the same calls per agent
        const report = yield* LanguageModel.usage
        expect(report.total.cost).toBeCloseTo(expected, 12)
        expect(Object.keys(report.byAgent).sort()).toEqual(["helper/h1", "helper/h2", "lead/c1"])
      }).pipe(Effect.scoped)
    ))
})
