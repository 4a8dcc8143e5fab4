import { Collaboration, DurableSession } from "@colony/agents"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import { colony, Prompts, ref } from "./fixtures.js"

const durableColony = DurableSession.layer.pipe(Layer.provideMerge(colony))

const pattern = Collaboration.MasterSlave.make({
  coordinator: ref("lead/d1"),
  workers: [ref("helper/h1"), ref("helper/h2")]
})
const task = "Trip: book flights, book a hotel, and rent a car"

describe("DurableSession", () => {
  it.live("a durable session runs the collaboration as a workflow and returns its result with provenance", () =>
    Effect.gen(function*() {
      const result = yield* DurableSession.result("trip-1", pattern, task)
      expect(result.contributions.map((c) => c.role)).toEqual(["worker", "worker", "worker", "coordinator"])
      expect(result.complete).toBe(true)
      expect(result.simulated).toBe(true)
    }).pipe(Effect.provide(durableColony)))

  it.live("running the same session again returns the stored result without asking any agent", () =>
    Effect.gen(function*() {
      const prompts = yield* Prompts
      const first = yield* DurableSession.result("trip-2", pattern, task)
      const asked = (yield* Ref.get(prompts)).length
      expect(asked).toBe(4)
      const again = yield* DurableSession.result("trip-2", pattern, task)
      expect(again.answer).toBe(first.answer)
      expect((yield* Ref.get(prompts)).length).toBe(asked)
      const id = yield* DurableSession.executionId("trip-2", pattern, task)
      expect(yield* DurableSession.start("trip-2", pattern, task)).toBe(id)
    }).pipe(Effect.provide(durableColony)))

  it.live("a session id already used for another task or collaboration fails with SessionConflict instead of answering with the old result", () =>
    Effect.gen(function*() {
      const prompts = yield* Prompts
      const first = yield* DurableSession.result("trip-3", pattern, task)
      const asked = (yield* Ref.get(prompts)).length
      const otherPattern = Collaboration.MasterSlave.make({ coordinator: ref("lead/d2"), workers: [ref("helper/h3")] })

      const otherTask = yield* Effect.flip(DurableSession.result("trip-3", pattern, "Trip: book a train"))
      const otherTeam = yield* Effect.flip(DurableSession.result("trip-3", otherPattern, task))
      const otherStart = yield* Effect.flip(DurableSession.start("trip-3", pattern, "Trip: book a train"))
      for (const conflict of [otherTask, otherTeam, otherStart]) {
        expect(conflict).toBeInstanceOf(DurableSession.SessionConflict)
        expect(conflict).toMatchObject({ session: "trip-3" })
        expect(conflict.message).toContain("new session id")
      }
      expect((yield* Ref.get(prompts)).length).toBe(asked)

      // the same input under the same id is still a retry, answered from the stored run
      const retried = yield* DurableSession.result("trip-3", pattern, task)
      expect(retried.answer).toBe(first.answer)
      expect((yield* Ref.get(prompts)).length).toBe(asked)
    }).pipe(Effect.provide(durableColony)))
})
