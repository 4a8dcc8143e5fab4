/**
 * Exactly-once turns for durable agents, and memory rows that no longer decode, in the agent
 * memory store on Postgres. A durable message whose runner dies mid-message is replayed from the
 * start on another runner; what it had done (model calls, tool calls, the memory append) is keyed
 * by its message id and step, so the replay repeats none of it.
 */
import { AgentMemory, LanguageModel } from "@colony/runtime"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { freshDatabase, postgresPerFile } from "./support/cluster.js"

const postgres = postgresPerFile()

describe("the idempotent turn store on Postgres", () => {
  it("a turn committed twice under one message id is stored once, and the second commit returns the first answer", async () => {
    const url = await freshDatabase(postgres())
    const store = ManagedRuntime.make(AgentMemory.layerSql.pipe(Layer.provide(PgClient.layer({ url: Redacted.make(url) }))))
    try {
      const result = await store.runPromise(
        Effect.gen(function*() {
          const memory = yield* AgentMemory.AgentMemory
          const turn = (messageId: string, answer: string) => ({
            messageId,
            messages: [LanguageModel.ChatMessage.user(messageId), LanguageModel.ChatMessage.assistant(answer)],
            answer,
            limit: 40
          })
          yield* memory.recordStep("keeper/k1", "m-1", "model-1", "step one")
          yield* memory.recordStep("keeper/k1", "m-1", "model-1", "step one again")
          const during = yield* memory.progress("keeper/k1", "m-1")
          const first = yield* memory.commitTurn("keeper/k1", turn("m-1", "A"))
          const again = yield* memory.commitTurn("keeper/k1", turn("m-1", "B"))
          const other = yield* memory.commitTurn("keeper/k1", turn("m-2", "C"))
          const after = yield* memory.progress("keeper/k1", "m-1")
          const loaded = yield* memory.load("keeper/k1")
          return { during, first, again, other, after, loaded }
        })
      )
      expect([...result.during.steps]).toEqual([["model-1", "step one"]])
      expect(Option.isNone(result.during.answer)).toBe(true)
      expect(result.first.fresh).toBe(true)
      expect(result.again).toMatchObject({ fresh: false, answer: "A" })
      expect(result.again.transcript.map((m) => m.content)).toEqual(["m-1", "A"])
      expect(result.other.transcript.map((m) => m.content)).toEqual(["m-1", "A", "m-2", "C"])
      // a committed message keeps its answer, not its steps
      expect(result.after.answer).toEqual(Option.some("A"))
      expect(result.after.steps.size).toBe(0)
      expect(Option.getOrThrow(result.loaded).map((m) => m.content)).toEqual(["m-1", "A", "m-2", "C"])
    } finally {
      await store.dispose()
    }
  }, 60_000)

  it("a memory row that no longer decodes is moved to the quarantine and named by every load, until Forget releases it", async () => {
    const url = await freshDatabase(postgres())
    const sql = PgClient.layer({ url: Redacted.make(url) })
    const store = ManagedRuntime.make(Layer.merge(AgentMemory.layerSql.pipe(Layer.provide(sql)), sql))
    try {
      const result = await store.runPromise(
        Effect.gen(function*() {
          const memory = yield* AgentMemory.AgentMemory
          const db = yield* SqlClient.SqlClient
          yield* memory.save("clerk/poisoned", [LanguageModel.ChatMessage.user("hello")])
          // a transcript written by a deploy whose messages had another shape
          yield* db`UPDATE colony_agent_memory SET transcript = '[{"speaker":"user","text":"hello"}]' WHERE key = 'clerk/poisoned'`
          const first = yield* Effect.flip(memory.load("clerk/poisoned"))
          const second = yield* Effect.flip(memory.load("clerk/poisoned"))
          const kept = yield* db<{ transcript: string; released: boolean }>`SELECT transcript, released_at IS NOT NULL AS released
            FROM colony_agent_memory_quarantine WHERE key = 'clerk/poisoned'`
          const inMemory = yield* db`SELECT 1 FROM colony_agent_memory WHERE key = 'clerk/poisoned'`
          yield* memory.forget("clerk/poisoned")
          const afterForget = yield* memory.load("clerk/poisoned")
          const released = yield* db<{ released: boolean }>`SELECT released_at IS NOT NULL AS released
            FROM colony_agent_memory_quarantine WHERE key = 'clerk/poisoned'`
          return { first, second, kept, inMemory, afterForget, released }
        })
      )
      expect(result.first).toBeInstanceOf(AgentMemory.MemoryUnreadable)
      expect(result.first).toMatchObject({ agent: "clerk", id: "poisoned", key: "clerk/poisoned" })
      expect(result.first.message).toContain("colony_agent_memory_quarantine")
      // the second load reads the quarantine, not the row again
      expect(result.second).toMatchObject({ _tag: "MemoryUnreadable", quarantineId: (result.first as AgentMemory.MemoryUnreadable).quarantineId })
      expect(result.kept).toEqual([{ transcript: '[{"speaker":"user","text":"hello"}]', released: false }])
      expect(result.inMemory).toHaveLength(0)
      expect(Option.isNone(result.afterForget)).toBe(true)
      expect(result.released).toEqual([{ released: true }])
    } finally {
      await store.dispose()
    }
  }, 60_000)
})
