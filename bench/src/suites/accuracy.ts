/**
 * Suite 9 — accuracy per pattern: what each collaboration pattern buys and costs, as
 * `colony eval` measures it. Two tables:
 *
 * 1. Offline, the skill model (`SkillModel`, simulated): agents right with p = 0.6 (experts 0.8
 *    in their domain), independent errors, on arithmetic and on a mixed set. Accuracy with its
 *    95 % interval, calls, tokens, latency, and the debate's majority after each round.
 * 2. The same measurement against the fake server with scripted answers (each call right with
 *    probability 0.6, seeded): the accuracy, calls and tokens measured beside the ones the script
 *    implies, which must be equal — the evaluation counts exactly.
 */
import { Eval, TaskSet } from "@colony/agents"
import { Colony, LanguageModel } from "@colony/runtime"
import * as SkillModel from "@colony/runtime/SkillModel"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Effect, Either, Layer } from "effect"
import type { Suite, Table } from "../lib/Suite.js"

const percent = (x: number) => `${(x * 100).toFixed(1)}%`

const evaluate = async (
  url: string,
  tasks: ReadonlyArray<TaskSet.Task>,
  patterns: ReadonlyArray<Eval.PatternSpec>,
  concurrency: number,
  log: (line: string) => void
) => {
  const colony = Eval.agents(patterns, tasks).pipe(
    Layer.provideMerge(Colony.layerEmbedded({ languageModel: LanguageModel.layerOpenAI({ baseUrl: url, apiKey: "bench" }) }))
  )
  return Effect.runPromise(
    Eval.run({
      tasks,
      patterns,
      concurrency,
      onProgress: (p) => Effect.sync(() => p.done === p.total && log(`accuracy: ${p.pattern} done (${p.total} tasks)`))
    }).pipe(Effect.provide(colony), Effect.scoped)
  )
}

const offline = async (quick: boolean, log: (line: string) => void) => {
  const patterns = Either.getOrThrow(Eval.parsePatterns("single,peer:5x2,master-slave,hybrid:3x3x1"))
  const sets = [`arithmetic:${quick ? 30 : 200}`, `mixed:${quick ? 30 : 201}`]
  const rows: Array<Eval.PatternReport & { readonly set: string }> = []
  for (const set of sets) {
    const tasks = TaskSet.parseSpec(set, 1)!
    const agents: Record<string, SkillModel.Skill> = {
      coordinator: { "*": 0.6 },
      ...SkillModel.uniform("solver", Eval.solversNeeded(patterns), { "*": 0.6 })
    }
    for (const domain of new Set(tasks.map((t) => t.domain))) agents[Eval.expertName(domain)] = { "*": 0.6, [domain]: 0.8 }
    const model = SkillModel.make({ agents, seed: 1, persuasion: 0.5 })
    const server = await FakeOpenAI.start({ respond: SkillModel.respond(model, tasks) })
    try {
      for (const report of await evaluate(server.url, tasks, patterns, 8, log)) rows.push({ ...report, set })
    } finally {
      await server.close()
    }
  }
  const table: Table = {
    title: "Accuracy per pattern — skill model (SIMULATED): agents right with p 0.6, experts 0.8 in their domain, independent errors",
    columns: ["tasks", "pattern", "accuracy", "95% interval", "calls", "tokens", "p50 ms", "p95 ms", "abstentions", "majority per round"],
    rows: rows.map((r) => [
      r.set,
      r.pattern,
      percent(r.accuracy),
      `${percent(r.interval.low)}–${percent(r.interval.high)}`,
      r.calls,
      r.tokens,
      Math.round(r.latencyMs.p50),
      Math.round(r.latencyMs.p95),
      r.abstentions,
      r.rounds === undefined ? null : r.rounds.map(percent).join(" → ")
    ]),
    notes: [
      "Simulated: the skill model answers right with the set probability per agent and domain; a wrong answer is the task's one plausible mistake, so wrong agents agree.",
      "In a debate a wrong agent that sees the right answer takes it with probability 0.5 (persuasion); master-slave sends each task to its domain's expert by capability.",
      "Theory for single vs majority of 5 at p 0.6: 60.0% vs 68.3% (Condorcet); peer:5x2's first round is that vote."
    ]
  }
  return { table, rows }
}

/** For each pattern, the number of model calls one task takes. */
const callsPerTask = (spec: Eval.PatternSpec) =>
  spec._tag === "Peer" ? spec.peers * spec.rounds : spec._tag === "Hybrid" ? spec.teams * spec.peers * spec.rounds : 1

const scripted = async (quick: boolean, log: (line: string) => void) => {
  const patterns = Either.getOrThrow(Eval.parsePatterns("single,peer:3x2,master-slave,hybrid:3x3x1"))
  const tasks = TaskSet.arithmetic(quick ? 10 : 60, 3)
  const usage = { promptTokens: 120, completionTokens: 8 }
  const draw = TaskSet.random(17)
  const reply = (task: TaskSet.Task, right: boolean) => ({ text: `{"answer": "${right ? task.answer : Number(task.answer) + 1}"}`, usage })
  const server = await FakeOpenAI.start({})
  const expected: Array<{ correct: number; calls: number }> = []
  try {
    for (const spec of patterns) {
      let correct = 0
      for (const task of tasks) {
        // A round's replies go to its peers in any order, so only a round's majority is fixed by
        // the script; hybrid teams run at once, so all of a hybrid task's replies are alike.
        const n = callsPerTask(spec)
        const same = spec._tag === "Hybrid" ? draw() < 0.6 : undefined
        const rights = Array.from({ length: n }, () => same ?? draw() < 0.6)
        server.script(...rights.map((r) => reply(task, r)))
        const final = spec._tag === "Peer" ? rights.slice(-spec.peers) : rights
        if (final.filter(Boolean).length * 2 > final.length) correct++
      }
      expected.push({ correct, calls: callsPerTask(spec) * tasks.length })
    }
    const reports = await evaluate(server.url, tasks, patterns, 1, log)
    const rows = reports.map((r, i) => ({
      pattern: r.pattern,
      accuracy: r.accuracy,
      expectedAccuracy: expected[i]!.correct / tasks.length,
      calls: r.calls,
      expectedCalls: expected[i]!.calls,
      tokens: r.tokens,
      expectedTokens: expected[i]!.calls * (usage.promptTokens + usage.completionTokens),
      p50Ms: r.latencyMs.p50,
      p95Ms: r.latencyMs.p95
    }))
    const table: Table = {
      title: `Accuracy per pattern — fake server, scripted answers (each right with probability 0.6), arithmetic:${tasks.length}`,
      columns: ["pattern", "accuracy", "expected", "calls", "expected calls", "tokens", "expected tokens", "p50 ms", "p95 ms"],
      rows: rows.map((r) => [
        r.pattern,
        percent(r.accuracy),
        percent(r.expectedAccuracy),
        r.calls,
        r.expectedCalls,
        r.tokens,
        r.expectedTokens,
        Math.round(r.p50Ms),
        Math.round(r.p95Ms)
      ]),
      notes: ["Expected: what the script implies (the last round's majority for peers). Measured through the openai client, one task at a time."]
    }
    return { table, rows }
  } finally {
    await server.close()
  }
}

export const suite: Suite = {
  id: "accuracy",
  title: "9. Accuracy per pattern: the skill model (simulated) and scripted answers on the fake server",
  run: async ({ log, quick }) => {
    const simulated = await offline(quick, log)
    const exact = await scripted(quick, log)
    const mismatched = exact.rows.filter((r) => r.accuracy !== r.expectedAccuracy || r.calls !== r.expectedCalls || r.tokens !== r.expectedTokens)
    if (mismatched.length > 0) throw new Error(`scripted answers were not counted exactly: ${mismatched.map((r) => r.pattern).join(", ")}`)
    return { tables: [simulated.table, exact.table], data: { simulated: simulated.rows, scripted: exact.rows } }
  }
}
