/**
 * The support desk's task set for `colony eval`: questions drawn from its help-centre articles,
 * offered by the desk's application.
 */
import { TaskSet } from "@colony/agents"
import { describe, expect, it } from "vitest"
import * as Application from "../src/Application.js"
import * as Demo from "../src/demo/Demo.js"
import { articles } from "../src/support/articles.js"
import * as KnowledgeBaseTasks from "../src/support/eval/KnowledgeBaseTasks.js"
import * as SupportDesk from "../src/support/SupportDesk.js"

const quoted = (task: TaskSet.Task) => /“(.+)”/.exec(task.task)?.[1]

describe("support-kb tasks", () => {
  it("each quotes a sentence of the right article's body and offers that article among four, as id and title", () => {
    const tasks = KnowledgeBaseTasks.make(120, 3)
    for (const task of tasks) {
      expect(task.domain).toBe("support")
      expect(task.options).toHaveLength(4)
      expect(new Set(task.options).size).toBe(4)
      expect(task.options).toContain(task.answer)
      const right = articles.find((a) => KnowledgeBaseTasks.option(a) === task.answer)!
      for (const option of task.options!) expect(articles.some((a) => KnowledgeBaseTasks.option(a) === option)).toBe(true)
      const sentence = quoted(task)!
      expect(sentence.length).toBeGreaterThanOrEqual(30)
      expect(right.body).toContain(sentence)
      // a question, not the title repeated: the quote is a sentence of the body, ending in a question mark
      expect(sentence).not.toBe(right.title)
      expect(task.task).toMatch(/\?$/)
      expect(TaskSet.isCorrect(task, task.answer)).toBe(true)
      expect(TaskSet.isCorrect(task, task.options!.find((o) => o !== task.answer)!)).toBe(false)
    }
    // no sentence is quoted twice until all have been, and the set reaches across the help centre
    expect(new Set(tasks.map(quoted)).size).toBe(120)
    expect(new Set(tasks.map((t) => t.answer)).size).toBeGreaterThan(60)
  })

  it("the same seed gives the same tasks, another seed others", () => {
    expect(KnowledgeBaseTasks.make(30, 5)).toEqual(KnowledgeBaseTasks.make(30, 5))
    expect(KnowledgeBaseTasks.make(30, 6)).not.toEqual(KnowledgeBaseTasks.make(30, 5))
    // beyond the quotable sentences the set repeats its tasks exactly
    const all = KnowledgeBaseTasks.make(600, 5)
    const first = all[0]!
    expect(all.filter((t) => t.task === first.task).every((t) => JSON.stringify(t) === JSON.stringify(first))).toBe(true)
  })

  it("the support desk's application offers it to colony eval as support-kb", () => {
    const sets = Application.taskSets([Demo.application, SupportDesk.application()])
    expect(Object.keys(sets)).toEqual(["support-kb"])
    expect(TaskSet.parseSpec("support-kb:4", 2, sets)).toEqual(KnowledgeBaseTasks.make(4, 2))
    expect(Demo.application.taskSets).toEqual({})
  })
})
