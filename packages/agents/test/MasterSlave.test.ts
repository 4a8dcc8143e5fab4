import { Aggregate, Assign, Collaboration, Decompose } from "@colony/agents"
import { Agent, Colony, Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Queue } from "effect"

describe("Decompose.byClauses", () => {
  it("splits a listed task into one subtask per clause, keeping the heading", () => {
    expect(Decompose.byClauses("Plan the launch: research the market, draft the post, and estimate the budget"))
      .toEqual([
        "Plan the launch: research the market",
        "Plan the launch: draft the post",
        "Plan the launch: estimate the budget"
      ])
  })
  it("leaves a task without a list whole", () => {
    expect(Decompose.byClauses("Summarise the quarterly report.")).toEqual(["Summarise the quarterly report."])
  })
})

describe("Assign.roundRobin", () => {
  it("gives subtask i to worker i mod n", () => {
    expect(Assign.roundRobin(["a", "b", "c", "d"], ["w1", "w2", "w3"]).map((x) => x.worker))
      .toEqual(["w1", "w2", "w3", "w1"])
  })
})

describe("Aggregate.concatenate", () => {
  it("lists the parts in subtask order", () => {
    expect(Aggregate.concatenate([{ subtask: "a", text: "A" }, { subtask: "b", text: "B" }]))
      .toBe("1. a\n   A\n2. b\n   B")
  })
})

const Lead = Agent.make({ name: "lead" })
const Helper = Agent.make({ name: "helper" })
const colony = Layer.mergeAll(Agent.toLayer(Lead), Agent.toLayer(Helper)).pipe(
  Layer.provideMerge(Colony.embedded)
)

describe("Collaboration.run MasterSlave", () => {
  it.live("workers answer the subtasks, the coordinator synthesises, and the result says who did what", () =>
    Effect.gen(function*() {
      const bus = yield* Events.Events
      const events = yield* bus.subscribe
      const pattern = Collaboration.MasterSlave.make({
        coordinator: new Collaboration.AgentRef({ agent: "lead", id: "s1" }),
        workers: [
          new Collaboration.AgentRef({ agent: "helper", id: "h1" }),
          new Collaboration.AgentRef({ agent: "helper", id: "h2" })
        ]
      })
      const result = yield* Collaboration.run(pattern, "Trip: book flights, book a hotel, and rent a car")
      expect(result.contributions.map((c) => [c.by.toString(), c.role, c.task])).toEqual([
        ["helper/h1", "worker", "Trip: book flights"],
        ["helper/h2", "worker", "Trip: book a hotel"],
        ["helper/h1", "worker", "Trip: rent a car"],
        ["lead/s1", "coordinator", "synthesis"]
      ])
      expect(result.answer).toBe(result.contributions[3]!.text)
      expect(result.simulated).toBe(true)
      expect(result.totalTokens).toBe(result.contributions.reduce((s, c) => s + c.totalTokens, 0))

      const received = [...(yield* Queue.takeAll(events))].filter((e) => e._tag === "MessageReceived")
      expect(received.map((e) => `${e.agent}/${e.id}<-${(e as { from?: string }).from}`).sort()).toEqual([
        "helper/h1<-lead/s1",
        "helper/h1<-lead/s1",
        "helper/h2<-lead/s1",
        "lead/s1<-caller"
      ])

      const concatenated = yield* Collaboration.run(
        Collaboration.MasterSlave.make({ ...pattern, aggregate: "concatenation" }),
        "Trip: book flights, and book a hotel"
      )
      expect(concatenated.contributions.every((c) => c.role === "worker")).toBe(true)
      expect(concatenated.answer).toContain("1. Trip: book flights")
    }).pipe(Effect.provide(colony), Effect.scoped))
})
