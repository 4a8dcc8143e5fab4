/**
 * The skill model's statistics, checked against theory with fixed seeds. The model is called
 * directly (no colony, no server): these are properties of the model and the aggregation rules.
 */
import { Aggregate, Assign, Eval, TaskSet } from "@colony/agents"
import * as SkillModel from "@colony/runtime/SkillModel"
import { describe, expect, it } from "@effect/vitest"

const binomialMajority = (n: number, p: number) => {
  let sum = 0
  const choose = (k: number) => {
    let c = 1
    for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i
    return c
  }
  for (let k = Math.floor(n / 2) + 1; k <= n; k++) sum += choose(k) * p ** k * (1 - p) ** (n - k)
  return sum
}

const peers = (count: number) => Array.from({ length: count }, (_, i) => `peer-${i + 1}`)

/** Accuracy of the majority of `agents`' first answers over `tasks`. */
const majorityAccuracy = (model: SkillModel.SkillModel, agents: ReadonlyArray<string>, tasks: ReadonlyArray<TaskSet.Task>) => {
  let right = 0
  for (const task of tasks) {
    const winner = Aggregate.majorityVote(agents.map((a) => SkillModel.answer(model, a, task).answer)).winner
    if (winner !== undefined && TaskSet.isCorrect(task, winner)) right++
  }
  return { right, trials: tasks.length, accuracy: right / tasks.length, interval: Eval.wilson(right, tasks.length) }
}

const singleAccuracy = (model: SkillModel.SkillModel, agent: string, tasks: ReadonlyArray<TaskSet.Task>) =>
  majorityAccuracy(model, [agent], tasks)

const tasks = TaskSet.arithmetic(3000, 11)

describe("SkillModel", () => {
  it("an agent with skill p is right on about a share p of the tasks of its domain", () => {
    const model = SkillModel.make({ agents: { expert: { arithmetic: 0.6, "*": 0.2 } }, seed: 2 })
    const single = singleAccuracy(model, "expert", tasks)
    expect(single.interval.low).toBeLessThan(0.6)
    expect(single.interval.high).toBeGreaterThan(0.6)
    const elsewhere = singleAccuracy(model, "expert", TaskSet.wordProblems(3000, 2))
    expect(elsewhere.interval.low).toBeLessThan(0.2)
    expect(elsewhere.interval.high).toBeGreaterThan(0.2)
  })

  it("majority of 5 at p = 0.6 with independent errors reaches the Condorcet value 0.683 within its interval", () => {
    const condorcet = binomialMajority(5, 0.6)
    expect(condorcet).toBeCloseTo(0.6826, 4)
    const model = SkillModel.make({ agents: SkillModel.uniform("peer", 5, { "*": 0.6 }), seed: 3 })
    const vote = majorityAccuracy(model, peers(5), tasks)
    expect(vote.interval.low).toBeLessThan(condorcet)
    expect(vote.interval.high).toBeGreaterThan(condorcet)
    // and a single agent's interval lies wholly below it: the vote pays
    expect(singleAccuracy(model, "peer-1", tasks).interval.high).toBeLessThan(vote.interval.low)
  })

  it("correlated errors shrink the vote's gain, to nothing when every agent shares one draw", () => {
    const at = (correlation: number) =>
      majorityAccuracy(SkillModel.make({ agents: SkillModel.uniform("peer", 5, { "*": 0.6 }), seed: 3, correlation }), peers(5), tasks)
    const independent = at(0)
    const half = at(0.5)
    const full = at(1)
    expect(half.interval.high).toBeLessThan(independent.interval.low)
    expect(half.accuracy).toBeGreaterThan(full.accuracy)
    expect(full.interval.low).toBeLessThan(0.6)
    expect(full.interval.high).toBeGreaterThan(0.6)
  })

  it("experts in different domains, with capability-based assignment, beat every single agent and their vote", () => {
    const mixed = TaskSet.mixed(1500, 5)
    const domains = ["arithmetic", "word-problems", "multiple-choice"]
    const experts = Object.fromEntries(domains.map((d) => [`${d}-expert`, { [d]: 0.9, "*": 0.4 }]))
    const model = SkillModel.make({ agents: experts, seed: 9 })
    const workers = domains.map((d) => ({ worker: `${d}-expert`, capabilities: [d] }))
    let right = 0
    for (const task of mixed) {
      const [assignment] = Assign.byCapability([{ task: task.task, capability: task.domain, priority: 0 }], workers, [0, 0, 0])
      if (SkillModel.answer(model, assignment!.worker, task).correct) right++
    }
    const assigned = Eval.wilson(right, mixed.length)
    for (const expert of Object.keys(experts)) {
      expect(singleAccuracy(model, expert, mixed).interval.high).toBeLessThan(assigned.low)
    }
    expect(majorityAccuracy(model, Object.keys(experts), mixed).interval.high).toBeLessThan(assigned.low)
    expect(assigned.low).toBeLessThan(0.9)
    expect(assigned.high).toBeGreaterThan(0.9)
  })

  it("in a debate where right answers persuade, accuracy rises round by round; without persuasion it stays", () => {
    const rounds = (persuasion: number) => {
      const model = SkillModel.make({ agents: SkillModel.uniform("peer", 5, { "*": 0.6 }), seed: 3, persuasion })
      const agents = peers(5)
      const perRound = [0, 0, 0].map(() => ({ decisions: 0, answers: 0 }))
      for (const task of tasks) {
        let previous = agents.map((a) => SkillModel.answer(model, a, task).answer)
        for (let round = 1; round <= 3; round++) {
          const answers = round === 1
            ? previous
            : agents.map((a, i) =>
              SkillModel.answer(model, a, task, { round, own: previous[i], others: previous.filter((_, j) => j !== i) }).answer
            )
          perRound[round - 1]!.answers += answers.filter((x) => TaskSet.isCorrect(task, x)).length
          if (TaskSet.isCorrect(task, Aggregate.majorityVote(answers).winner!)) perRound[round - 1]!.decisions++
          previous = answers
        }
      }
      return perRound.map((r) => ({ agent: r.answers / (tasks.length * 5), decision: Eval.wilson(r.decisions, tasks.length) }))
    }
    const debate = rounds(0.5)
    expect(debate[0]!.agent).toBeCloseTo(0.6, 1)
    expect(debate[1]!.agent).toBeGreaterThan(debate[0]!.agent + 0.1)
    expect(debate[2]!.agent).toBeGreaterThan(debate[1]!.agent)
    expect(debate[1]!.decision.low).toBeGreaterThan(debate[0]!.decision.high)
    expect(debate[2]!.decision.low).toBeGreaterThan(debate[0]!.decision.high)
    const stubborn = rounds(0)
    expect(stubborn.map((r) => r.agent)).toEqual([stubborn[0]!.agent, stubborn[0]!.agent, stubborn[0]!.agent])
  })

  it("a wrong answer is plausible: another option, or a number near the answer", () => {
    const model = SkillModel.make({ agents: {}, seed: 1 })
    for (const task of TaskSet.multipleChoice(20)) {
      const wrong = SkillModel.mistake(model, task)
      expect(task.options).toContain(wrong)
      expect(wrong).not.toBe(task.answer)
    }
    for (const task of TaskSet.arithmetic(20)) {
      const off = Math.abs(Number(SkillModel.mistake(model, task)) - Number(task.answer))
      expect([1, 2, 10]).toContain(off)
    }
  })

  it("served over HTTP it answers the task in the prompt as the agent the model name is, labelled simulated, as JSON", () => {
    const task = TaskSet.arithmetic(1, 2)[0]!
    const model = SkillModel.make({ agents: { sure: { "*": 1 }, wrong: { "*": 0 } }, seed: 1 })
    const respond = SkillModel.respond(model, [task])
    const ask = (agent: string, content: string) => respond({ model: agent, messages: [{ role: "user", content }] })?.text
    expect(ask("sure", `${task.task}\n${Aggregate.answerInstruction()}`)).toMatch(/^\[simulated\] sure/)
    expect(Aggregate.readAnswer(ask("sure", task.task)!)?.answer).toBe(task.answer)
    expect(Aggregate.readAnswer(ask("wrong", task.task)!)?.answer).toBe(SkillModel.mistake(model, task))
    expect(ask("sure", "What is the capital of France?")).toBeUndefined()
  })

  it("asked for a final answer as structured output it answers that JSON alone, with its skill; other formats get no reply", () => {
    const task = TaskSet.multipleChoice(1, 3)[0]!
    const model = SkillModel.make({ agents: { sure: { "*": 1 }, wrong: { "*": 0 } }, seed: 1 })
    const respond = SkillModel.respond(model, [task])
    const format = Aggregate.answerFormat(task.options)
    const structured = (agent: string, schema: object) =>
      respond({
        model: agent,
        messages: [{ role: "user", content: task.task }],
        response_format: { type: "json_schema", json_schema: { name: "x", schema } }
      })?.text
    expect(JSON.parse(structured("sure", format.jsonSchema)!)).toEqual({ answer: task.answer })
    expect(JSON.parse(structured("wrong", format.jsonSchema)!)).toEqual({ answer: SkillModel.mistake(model, task) })
    expect(structured("sure", { type: "object", properties: { plan: { type: "string" } } })).toBeUndefined()
  })
})
