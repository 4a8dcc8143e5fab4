/**
 * Two embedded colonies over one coordination storage: the second colony's lock, topic and
 * participant entities are fresh instances, as on the runner that takes a shard over (or the old
 * and new owner coexisting during a move). What they know must come from the storage.
 */
import { CoordinationStorage, Lock, Topic, TwoPhaseCommit } from "@colony/agents"
import { Agent, Colony } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Ref } from "effect"

class Log extends Context.Tag("test/Log")<Log, Ref.Ref<ReadonlyArray<string>>>() {}

const note = (line: string) => Effect.flatMap(Log, (log) => Ref.update(log, (all) => [...all, line]))

const Reader = Agent.make({ name: "reader", protocol: [Topic.Message] })
const ReaderLive = Agent.toLayer(Reader, {
  TopicMessage: (message, agent) => note(`${agent.id} got "${message.message}" at ${message.clock}`)
})

const Account = TwoPhaseCommit.participant({
  name: "account",
  prepare: (action, tx, agent) => Effect.as(note(`${agent.id} prepare ${tx} ${action}`), { commit: true }),
  commit: (tx, agent) => note(`${agent.id} commit ${tx}`),
  abort: (tx, agent) => note(`${agent.id} abort ${tx}`)
})

/** One colony: the coordination entities and the test agents, over the given storage and log. */
const colonyOver = (storage: CoordinationStorage.Service, log: Ref.Ref<ReadonlyArray<string>>) =>
  Layer.mergeAll(Lock.layer, Topic.layer, ReaderLive, Account.layer, CoordinationStorage.layer).pipe(
    Layer.provideMerge(Colony.embedded),
    Layer.provide(Layer.succeed(CoordinationStorage.CoordinationStorage, storage)),
    Layer.provideMerge(Layer.succeed(Log, log)),
    Layer.orDie
  )

/** Two colonies sharing one storage and one log, each built on its own. */
const twoColonies = Effect.gen(function*() {
  const storage = yield* Effect.provide(CoordinationStorage.CoordinationStorage, CoordinationStorage.layerMemory)
  const log = yield* Ref.make<ReadonlyArray<string>>([])
  const first = yield* Layer.build(colonyOver(storage, log))
  const second = yield* Layer.build(colonyOver(storage, log))
  return { first, second, storage, log }
})

describe("coordination state lives in CoordinationStorage", () => {
  it.live("a lease granted by one lock instance is refused to another owner by a second instance", () =>
    Effect.gen(function*() {
      const { first, second } = yield* twoColonies
      const lease = yield* Effect.provide(Lock.tryAcquire("ledger", "agent-a", "30 minutes"), first)
      const refused = yield* Effect.flip(Effect.provide(Lock.tryAcquire("ledger", "agent-b", "30 minutes"), second))
      expect(refused._tag).toBe("LockHeld")
      expect((yield* Effect.provide(Lock.current("ledger"), second))?.token).toBe(lease.token)
      // the holder renews and releases through the other instance
      expect((yield* Effect.provide(Lock.extend(lease, "30 minutes"), second)).token).toBe(lease.token)
      expect(yield* Effect.provide(Lock.giveUp(lease), second)).toBe(true)
      const next = yield* Effect.provide(Lock.tryAcquire("ledger", "agent-b", "1 minute"), first)
      expect(next.token).toBeGreaterThan(lease.token)
    }).pipe(Effect.scoped))

  it.live("a subscription made through one topic instance is delivered to by a second, whose clock goes on", () =>
    Effect.gen(function*() {
      const { first, log, second } = yield* twoColonies
      expect(yield* Effect.provide(Topic.subscribe("news", "reader", "r1"), first)).toBe(1)
      const before = yield* Effect.provide(Topic.publish("news", "one", { clock: 7 }), first)
      expect(before.delivered).toEqual(["reader/r1"])
      const after = yield* Effect.provide(Topic.publish("news", "two"), second)
      expect(after.delivered).toEqual(["reader/r1"])
      expect(after.clock).toBeGreaterThan(before.clock)
      expect((yield* Effect.provide(Topic.subscribers("news"), second)).map(String)).toEqual(["reader/r1"])
      expect(yield* Ref.get(log)).toEqual([`r1 got "one" at ${before.clock}`, `r1 got "two" at ${after.clock}`])
    }).pipe(Effect.scoped))

  it.live("a participant prepared through one instance commits through a second", () =>
    Effect.gen(function*() {
      const { first, log, second } = yield* twoColonies
      yield* Effect.provide(Colony.send("account", "alice", "Prepare", { transaction: "t1", action: "debit:5", clock: 1 }), first)
      const ack = yield* Effect.provide(Colony.send("account", "alice", "Commit", { transaction: "t1", clock: 2 }), second)
      expect(ack).toMatchObject({ state: "committed" })
      expect(yield* Ref.get(log)).toEqual(["alice prepare t1 debit:5", "alice commit t1"])
    }).pipe(Effect.scoped))

  it.live("a recorded decision is what a second coordinator sends: nobody is asked to vote again", () =>
    Effect.gen(function*() {
      const { first, log, second, storage } = yield* twoColonies
      const actions = [
        { agent: "account", id: "alice", action: "debit:5" },
        { agent: "account", id: "bob", action: "credit:5" }
      ]
      // the first coordinator prepared everyone and recorded its decision, then died before telling anyone
      for (const a of actions) {
        yield* Effect.provide(Colony.send(a.agent, a.id, "Prepare", { transaction: "t2", action: a.action, clock: 1 }), first)
      }
      yield* storage.decide(
        "t2",
        new CoordinationStorage.DecisionRecord({
          decision: "committed",
          votes: [{ participant: "account/alice", vote: "commit" }, { participant: "account/bob", vote: "commit" }]
        })
      )
      const outcome = yield* Effect.provide(TwoPhaseCommit.run("t2", actions), second)
      expect(outcome.decision).toBe("committed")
      expect(outcome.participants.every((p) => p.acknowledged)).toBe(true)
      expect((yield* Ref.get(log)).filter((l) => l.includes("prepare"))).toHaveLength(2)
      expect((yield* Ref.get(log)).filter((l) => l.includes("commit t2")).sort()).toEqual(["alice commit t2", "bob commit t2"])
      const recorded = yield* Effect.provide(TwoPhaseCommit.decision("t2"), second)
      expect(Option.map(recorded, (d) => d.decision)).toEqual(Option.some("committed"))
    }).pipe(Effect.scoped))
})
