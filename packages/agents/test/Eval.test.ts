/**
 * `Eval.run` against the fake OpenAI-compatible server with scripted answers, through the real
 * `openai` client: the accuracies, calls, tokens and abstentions it reports are exactly the ones
 * the script implies.
 */
import { Eval, TaskSet } from "@colony/agents"
import { Colony, LanguageModel, SkillModel } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"

const prices = { input: 2, output: 8 } // USD per million tokens
const usage = { promptTokens: 10, completionTokens: 5 }
const perCall = (10 * 2 + 5 * 8) / 1e6

const tasks = TaskSet.arithmetic(2, 5)
const [one, two] = tasks as unknown as [TaskSet.Task, TaskSet.Task]
const right = (task: TaskSet.Task) => ({ text: `Working it out.\n{"answer": "${task.answer}"}`, usage })
const wrong = (task: TaskSet.Task) => ({ text: `Working it out.\n{"answer": "${Number(task.answer) + 1}"}`, usage })
const unreadable = { text: "I am not sure.", usage }

const patterns = Either.getOrThrow(Eval.parsePatterns("single,peer:3x2,master-slave,hybrid:2x2x1"))

describe("Eval", () => {
  it.live("against scripted answers it reports exactly the accuracy, calls, tokens, cost and abstentions per pattern", () =>
    Effect.acquireUseRelease(
      Effect.promise(() => FakeOpenAI.start({})),
      (server) => {
        server.script(
          // single
          right(one), wrong(two),
          // peer:3x2 — task 1: right in both rounds (one peer unreadable in round 2); task 2: wrong, then persuaded
          right(one), right(one), wrong(one), right(one), right(one), unreadable,
          wrong(two), wrong(two), right(two), right(two), right(two), wrong(two),
          // master-slave: the arithmetic expert answers each task once
          right(one), unreadable,
          // hybrid:2x2x1 — every peer right on task 1, wrong on task 2
          right(one), right(one), right(one), right(one),
          wrong(two), wrong(two), wrong(two), wrong(two)
        )
        const colony = Eval.agents(patterns, tasks).pipe(
          Layer.provideMerge(Colony.layerEmbedded({ languageModel: LanguageModel.layerOpenAI({ baseUrl: server.url, apiKey: "k", prices }) }))
        )
        return Effect.gen(function*() {
          const progress: Array<string> = []
          const reports = yield* Eval.run({
            tasks,
            patterns,
            concurrency: 1,
            onProgress: (p) => Effect.sync(() => progress.push(`${p.pattern} ${p.done}/${p.total}`))
          })
          const rows = reports.map((r) => [r.pattern, r.correct, r.tasks, r.calls, r.tokens, r.abstentions, r.failures])
          expect(rows).toEqual([
            ["single", 1, 2, 2, 30, 0, 0],
            ["peer:3x2", 2, 2, 12, 180, 1, 0],
            ["master-slave", 1, 2, 2, 30, 1, 0],
            ["hybrid:2x2x1", 1, 2, 8, 120, 0, 0]
          ])
          expect(reports.map((r) => r.cost)).toEqual([2, 12, 2, 8].map((calls) => expect.closeTo(calls * perCall, 12)))
          expect(reports[1]!.rounds).toEqual([0.5, 1])
          expect(reports[0]!.interval.low).toBeLessThan(0.5)
          expect(reports[0]!.interval.high).toBeGreaterThan(0.5)
          expect(server.stats().chatRequests).toBe(24)
          expect(progress).toEqual(["single 1/2", "single 2/2", "peer:3x2 1/2", "peer:3x2 2/2", "master-slave 1/2", "master-slave 2/2", "hybrid:2x2x1 1/2", "hybrid:2x2x1 2/2"])
          const table = Eval.formatTable(new Eval.Report({ model: "fake", simulated: false, tasks: "arithmetic:2", patterns: reports }))
          expect(table).toContain("peer:3x2 majority after each round: 50.0% → 100.0%")
          // the model was asked for its final answer as JSON
          const first = server.requests()[0]!.body.messages!.at(-1)!.content as string
          expect(first).toContain(one.task)
          expect(first).toContain(`{"answer": <your final answer as a string>}`)
        }).pipe(Effect.provide(colony))
      },
      (server) => Effect.promise(() => server.close())
    ), 60_000)

  it.live("served by the fake server, the skill model's agents are as right as their skill says, through the openai client", () =>
    Effect.gen(function*() {
      const tasks = TaskSet.multipleChoice(6, 2)
      // solver-1 is always right, solvers 2 and 3 always wrong: alone it wins, outvoted it loses
      const model = SkillModel.make({ agents: { "solver-1": { "*": 1 }, "solver-2": { "*": 0 }, "solver-3": { "*": 0 } } })
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => FakeOpenAI.start({ respond: SkillModel.respond(model, tasks) })),
        (server) => Effect.promise(() => server.close())
      )
      const patterns = Either.getOrThrow(Eval.parsePatterns("single,peer:3x1"))
      const colony = Eval.agents(patterns, tasks).pipe(
        Layer.provideMerge(Colony.layerEmbedded({ languageModel: LanguageModel.layerOpenAI({ baseUrl: server.url, apiKey: "k" }) }))
      )
      const reports = yield* Eval.run({ tasks, patterns }).pipe(Effect.provide(colony))
      expect(reports.map((r) => [r.pattern, r.accuracy, r.calls, r.abstentions])).toEqual([["single", 1, 6, 0], ["peer:3x1", 0, 18, 0]])
      expect(server.requests().every((r) => String(r.body.model).startsWith("solver-"))).toBe(true)
    }).pipe(Effect.scoped), 60_000)

  it("a pattern list names patterns and sizes; anything else is an error that lists what is allowed", () => {
    expect(Either.getOrThrow(Eval.parsePatterns("single,peer:5x2,master-slave,hybrid")).map(Eval.patternName)).toEqual([
      "single",
      "peer:5x2",
      "master-slave",
      "hybrid:3x3x1"
    ])
    const bad = Eval.parsePatterns("single,crowd:9")
    expect(Either.isLeft(bad) && bad.left.message).toMatch(/^"crowd:9" is not a pattern to evaluate; .*peer:NxR/)
    expect(Either.isLeft(Eval.parsePatterns("peer:5x9"))).toBe(true)
  })
})
