import { AgentMemory, LanguageModel } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"

const said = (text: string): AgentMemory.Transcript => [new LanguageModel.ChatMessage({ role: "user", content: text })]

describe("AgentMemory.layerMemory", () => {
  it.effect("keeps the transcripts of the most recently used instances, at most as many as it is told", () =>
    Effect.gen(function*() {
      const memory = yield* AgentMemory.AgentMemory
      for (let i = 0; i < 8; i++) yield* memory.save(`faq/${i}`, said(`hello ${i}`))
      // used since, so kept: a load and a committed turn both count as use
      yield* memory.load("faq/0")
      yield* memory.commitTurn("faq/1", { messageId: "m1", messages: said("again"), answer: "\"ok\"", limit: 100 })
      for (let i = 8; i < 12; i++) yield* memory.save(`faq/${i}`, said(`hello ${i}`))

      const kept: Array<string> = []
      for (let i = 0; i < 12; i++) {
        if (Option.isSome(yield* memory.load(`faq/${i}`))) kept.push(`faq/${i}`)
      }
      expect(kept).toEqual(["faq/0", "faq/1", "faq/6", "faq/7", "faq/8", "faq/9", "faq/10", "faq/11"])
      expect(Option.getOrThrow(yield* memory.load("faq/1")).map((m) => m.content)).toEqual(["hello 1", "again"])
    }).pipe(Effect.provide(AgentMemory.layerMemoryWith({ transcripts: 8 }))))

  it.effect("an evicted instance starts again with an empty memory", () =>
    Effect.gen(function*() {
      const memory = yield* AgentMemory.AgentMemory
      yield* memory.save("faq/a", said("remember me"))
      yield* memory.save("faq/b", said("I came later"))
      const committed = yield* memory.commitTurn("faq/a", { messageId: "m1", messages: said("hi"), answer: "\"ok\"", limit: 100 })
      expect(committed.transcript.map((m) => m.content)).toEqual(["hi"])
    }).pipe(Effect.provide(AgentMemory.layerMemoryWith({ transcripts: 1 }))))
})
