import { TaskSet } from "@colony/agents"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"

describe("TaskSet", () => {
  it("arithmetic tasks are six two-digit numbers as a+b*c+d-e*f, answered exactly, the same for the same seed", () => {
    const tasks = TaskSet.arithmetic(50, 7)
    for (const t of tasks) {
      const m = /(\d\d)\+(\d\d)\*(\d\d)\+(\d\d)-(\d\d)\*(\d\d)\?$/.exec(t.task)
      expect(m).not.toBeNull()
      const [a, b, c, d, e, f] = m!.slice(1).map(Number) as [number, number, number, number, number, number]
      expect(t.answer).toBe(String(a + b * c + d - e * f))
    }
    expect(TaskSet.arithmetic(50, 7)).toEqual(tasks)
    expect(TaskSet.arithmetic(50, 8)).not.toEqual(tasks)
  })
  it("every generated set has checkable answers: the answer is correct, a neighbour is not", () => {
    for (const name of TaskSet.generatedNames) {
      const tasks = TaskSet.parseSpec(`${name}:12`)!
      expect(tasks).toHaveLength(12)
      for (const t of tasks) {
        expect(TaskSet.isCorrect(t, t.answer)).toBe(true)
        const wrong = t.options?.find((o) => o !== t.answer) ?? t.answer.replace(/\d+$/, (n) => String(Number(n) + 1))
        expect(TaskSet.isCorrect(t, wrong)).toBe(false)
      }
    }
  })
  it("multiple-choice tasks have exactly one option with the property asked", () => {
    for (const t of TaskSet.multipleChoice(30)) {
      expect(t.options).toHaveLength(4)
      expect(t.options).toContain(t.answer)
      expect(new Set(t.options).size).toBe(4)
    }
  })
  it("numbers compare by value and lists in order; text without regard to case", () => {
    const t = new TaskSet.Task({ task: "sum", answer: "1234" })
    expect(TaskSet.isCorrect(t, " 1,234 ")).toBe(true)
    expect(TaskSet.isCorrect(t, "1234.0")).toBe(true)
    const list = new TaskSet.Task({ task: "parts", answer: "3, -4, 5" })
    expect(TaskSet.isCorrect(list, "3,-4,5")).toBe(true)
    expect(TaskSet.isCorrect(list, "3, 5, -4")).toBe(false)
    const text = new TaskSet.Task({ task: "capital", answer: "Paris" })
    expect(TaskSet.isCorrect(text, "paris.")).toBe(true)
  })
  it("a JSONL file gives its tasks; a bad line is an error naming the file and the line", () => {
    const good = TaskSet.fromJsonl(`{"task":"2+2?","answer":4}\n\n{"task":"Capital of France?","answer":"Paris","domain":"geo"}\n`, "t.jsonl")
    expect(Either.getOrThrow(good).map((t) => [t.answer, t.domain])).toEqual([["4", "general"], ["Paris", "geo"]])
    const notJson = TaskSet.fromJsonl(`{"task":"a","answer":"b"}\n{"task": "c", answer: 1}`, "t.jsonl")
    expect(Either.isLeft(notJson) && notJson.left.message).toMatch(/^t\.jsonl line 2: not JSON/)
    const noAnswer = TaskSet.fromJsonl(`{"task":"a","answer":"b"}\n{"task":"c"}`, "t.jsonl")
    expect(Either.isLeft(noAnswer) && noAnswer.left).toMatchObject({ line: 2 })
    expect(Either.isLeft(noAnswer) && noAnswer.left.message).toContain("answer")
    expect(Either.isLeft(TaskSet.fromJsonl("\n", "empty.jsonl"))).toBe(true)
  })
  it("a spec names a generated set and its size; anything else is not one", () => {
    expect(TaskSet.parseSpec("arithmetic:3")).toHaveLength(3)
    expect(TaskSet.parseSpec("arithmetic")).toHaveLength(100)
    expect(TaskSet.parseSpec("poetry:3")).toBeUndefined()
    expect(TaskSet.parseSpec("tasks.jsonl")).toBeUndefined()
  })
  it("a spec names a set among the ones given, with its count and seed; an unknown name's error lists them", () => {
    const capitals: TaskSet.Generator = {
      description: "capitals",
      make: (count, seed) => Array.from({ length: count }, (_, i) => new TaskSet.Task({ task: `Capital ${seed}-${i}?`, answer: "Paris" }))
    }
    const sets = { ...TaskSet.generators, "eu-capitals": capitals }
    expect(TaskSet.parseSpec("eu-capitals:2", 7, sets)?.map((t) => t.task)).toEqual(["Capital 7-0?", "Capital 7-1?"])
    expect(TaskSet.parseSpec("arithmetic:2", 7, sets)).toEqual(TaskSet.arithmetic(2, 7))
    expect(TaskSet.parseSpec("eu-capitals:2")).toBeUndefined()
    expect(new TaskSet.UnknownTaskSet({ spec: "poetry:3", names: Object.keys(sets) }).message).toContain("mixed, eu-capitals (e.g.")
    expect(new TaskSet.UnknownTaskSet({ spec: "poetry:3" }).message).toContain("decomposable, mixed (e.g.")
  })
})
