/**
 * What the eval's agents report of their hosting, and the check a client of runners makes with it,
 * in an embedded colony (the runner processes' side is in packages/apps/test/evalRunners.test.ts).
 */
import { Eval, TaskSet } from "@colony/agents"
import * as EvalAgents from "@colony/agents/EvalAgents"
import { Colony } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"

const hosting = (solvers: number, domains: ReadonlyArray<string>) =>
  Eval.layerAgents(solvers, domains).pipe(Layer.provideMerge(Colony.layerEmbedded()))

const patterns = (spec: string) => Either.getOrThrow(Eval.parsePatterns(spec))
const arithmetic = TaskSet.arithmetic(6)
const support = [new TaskSet.Task({ task: "Which article?", answer: "kb-1", domain: "support", options: ["kb-1", "kb-2"] })]

describe("EvalAgents", () => {
  it.live("the coordinator reports how many solvers and which experts its process hosts", () =>
    Effect.gen(function*() {
      const coordinator = yield* Colony.client(Eval.coordinator)
      const reported = yield* coordinator("any-task").ReportHosting()
      expect(reported).toEqual(new Eval.Hosting({ solvers: 4, domains: ["arithmetic", "support"], runner: "embedded" }))
    }).pipe(Effect.provide(hosting(4, ["arithmetic", "support", "arithmetic"])), Effect.scoped))

  it.live("a check passes when the hosts have what the patterns and tasks need, and names what they lack when not", () =>
    Effect.gen(function*() {
      expect(yield* EvalAgents.check(patterns("single,peer:3x2"), arithmetic)).toEqual([
        new Eval.Hosting({ solvers: 3, domains: ["arithmetic"], runner: "embedded" })
      ])
      // experts matter only to master-slave
      expect(yield* Effect.either(EvalAgents.check(patterns("peer:3x1"), support))).toMatchObject({ _tag: "Right" })
      const lacking = yield* Effect.flip(EvalAgents.check(patterns("single,hybrid:2x2,master-slave"), support))
      expect(lacking).toBeInstanceOf(EvalAgents.RunnersLackAgents)
      expect(lacking.message).toContain("runner embedded hosts 3 solvers where hybrid:2x2x1 needs 4")
      expect(lacking.message).toContain("runner embedded hosts no expert for support")
      expect(lacking.message).toContain("COLONY_EVAL_SOLVERS=4 COLONY_EVAL_DOMAINS=arithmetic,support")
    }).pipe(Effect.provide(hosting(3, ["arithmetic"])), Effect.scoped))

  it("what an eval needs: solvers for its largest team, experts for the task domains only with master-slave", () => {
    expect(EvalAgents.needs(patterns("single,peer:5x2"), support)).toEqual({ solvers: 5, domains: [] })
    expect(EvalAgents.needs(patterns("hybrid:3x3,master-slave"), [...arithmetic, ...support])).toEqual({
      solvers: 9,
      domains: ["arithmetic", "support"]
    })
  })
})
