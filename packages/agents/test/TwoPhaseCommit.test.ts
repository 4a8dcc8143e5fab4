import { CoordinationStorage, TwoPhaseCommit } from "@colony/agents"
import { Colony } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Ref } from "effect"

/** A tiny bank: balances, amounts reserved by prepared transactions, and a log of what each account did. */
class Bank extends Context.Tag("test/Bank")<Bank, {
  readonly balances: Ref.Ref<Record<string, number>>
  readonly reserved: Ref.Ref<Record<string, number>>
  readonly log: Ref.Ref<ReadonlyArray<string>>
}>() {}

const amountOf = (action: string) => Number(action.split(":")[1])

const Account = TwoPhaseCommit.participant({
  name: "account",
  prepare: (action, tx, agent) =>
    Effect.gen(function*() {
      const bank = yield* Bank
      yield* Ref.update(bank.log, (l) => [...l, `${agent.id} prepare ${tx}`])
      if (action === "explode") return yield* Effect.die(new Error("the ledger is corrupt"))
      const amount = amountOf(action)
      const balance = (yield* Ref.get(bank.balances))[agent.id] ?? 0
      const held = (yield* Ref.get(bank.reserved))[agent.id] ?? 0
      if (action.startsWith("debit") && balance - held < amount) return { commit: false, reason: `insufficient funds in ${agent.id}` }
      yield* Ref.update(bank.reserved, (r) => ({ ...r, [agent.id]: (r[agent.id] ?? 0) + (action.startsWith("debit") ? amount : 0) }))
      yield* Ref.update(bank.log, (l) => [...l, `${agent.id} staged ${action}`])
      return { commit: true }
    }).pipe(Effect.orDie),
  commit: (tx, agent) =>
    Effect.gen(function*() {
      const bank = yield* Bank
      yield* Ref.update(bank.log, (l) => [...l, `${agent.id} commit ${tx}`])
    }),
  abort: (tx, agent) =>
    Effect.gen(function*() {
      const bank = yield* Bank
      yield* Ref.update(bank.reserved, (r) => ({ ...r, [agent.id]: 0 }))
      yield* Ref.update(bank.log, (l) => [...l, `${agent.id} abort ${tx}`])
    }),
  supervision: { maxRestarts: 0 }
})

const BankLive = Layer.effect(
  Bank,
  Effect.all({
    balances: Ref.make<Record<string, number>>({ alice: 100, bob: 5, carol: 10 }),
    reserved: Ref.make<Record<string, number>>({}),
    log: Ref.make<ReadonlyArray<string>>([])
  })
)

const colony = Layer.mergeAll(Account.layer, CoordinationStorage.layer).pipe(
  Layer.provideMerge(Colony.embedded),
  Layer.provideMerge(BankLive),
  Layer.orDie
)

const logOf = Effect.flatMap(Bank, (bank) => Ref.get(bank.log))

describe("TwoPhaseCommit", () => {
  it.live("when every participant votes commit, everyone commits", () =>
    Effect.gen(function*() {
      const outcome = yield* TwoPhaseCommit.run("t1", [
        { agent: "account", id: "alice", action: "debit:30" },
        { agent: "account", id: "bob", action: "credit:30" }
      ])
      expect(outcome.decision).toBe("committed")
      expect(outcome.participants.map((p) => [p.participant, p.vote, p.acknowledged])).toEqual([
        ["account/alice", "commit", true],
        ["account/bob", "commit", true]
      ])
      const log = yield* logOf
      expect(log.filter((l) => l.includes("commit t1")).sort()).toEqual(["alice commit t1", "bob commit t1"])
      // two phases, each a send and a reply per participant: the coordinator's clock passed them all
      expect(outcome.clock).toBeGreaterThanOrEqual(4)
    }).pipe(Effect.provide(colony)))

  it.live("one participant's abort rolls back every participant that prepared, and nobody commits", () =>
    Effect.gen(function*() {
      const outcome = yield* TwoPhaseCommit.run("t2", [
        { agent: "account", id: "alice", action: "debit:30" },
        { agent: "account", id: "carol", action: "debit:500" },
        { agent: "account", id: "bob", action: "credit:530" }
      ])
      expect(outcome.decision).toBe("aborted")
      expect(outcome.participants.find((p) => p.participant === "account/carol")).toMatchObject({
        vote: "abort",
        reason: "insufficient funds in carol"
      })
      expect(outcome.participants.every((p) => p.acknowledged)).toBe(true)
      const log = yield* logOf
      expect(log.some((l) => l.includes("commit"))).toBe(false)
      expect(log.filter((l) => l.includes("abort t2")).sort()).toEqual(["alice abort t2", "bob abort t2"])
      const bank = yield* Bank
      expect(yield* Ref.get(bank.reserved)).toEqual({ alice: 0, bob: 0 })
      // a retried Commit after the abort is refused: the participant did not stay prepared
      const late = yield* Effect.flip(Colony.send("account", "alice", "Commit", { transaction: "t2", clock: 99 }))
      expect((late as { _tag: string })._tag).toBe("NotPrepared")
    }).pipe(Effect.provide(colony)))

  it.live("a participant that fails while preparing counts as an abort vote", () =>
    Effect.gen(function*() {
      const outcome = yield* TwoPhaseCommit.run("t3", [
        { agent: "account", id: "alice", action: "debit:10" },
        { agent: "account", id: "dave", action: "explode" }
      ])
      expect(outcome.decision).toBe("aborted")
      expect(outcome.participants[1]!.reason).toContain("AgentFailed")
      expect((yield* logOf).filter((l) => l.startsWith("alice"))).toEqual(["alice prepare t3", "alice staged debit:10", "alice abort t3"])
    }).pipe(Effect.provide(colony)))
})
