import { Collaboration } from "@colony/agents"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option, Schema } from "effect"

const { checkBounds, CollaborationTooLarge, Hybrid, MasterSlave, Peer, ref, Team } = Collaboration

const refs = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ref(`${prefix}/${i + 1}`)) as unknown as readonly [Collaboration.AgentRef, ...Array<Collaboration.AgentRef>]

const team = (name: string, peers: number, rounds = 2) => new Team({ name, peers: refs(`peer-${name}`, peers), rounds })

const tooLarge = (bound: Collaboration.Bound, limit: number, requested: number) =>
  Option.some(new CollaborationTooLarge({ bound, limit, requested }))

describe("Collaboration bounds", () => {
  it("collaborations within the defaults pass", () => {
    expect(checkBounds(new Peer({ peers: refs("p", 5), rounds: 10 }))).toEqual(Option.none())
    expect(checkBounds(new MasterSlave({ coordinator: ref("lead/1"), workers: refs("w", 12) }))).toEqual(Option.none())
    expect(checkBounds(new Hybrid({ coordinator: ref("lead/1"), teams: [team("a", 3), team("b", 3)] })))
      .toEqual(Option.none())
  })

  it("a debate of thousands of rounds is refused with the bound, the limit and what was asked", () => {
    const found = checkBounds(new Peer({ peers: refs("p", 3), rounds: 5000 }))
    expect(found).toEqual(tooLarge("rounds", 10, 5000))
    const error = Option.getOrThrow(found)
    expect(error.message).toContain("5000 rounds")
    expect(error.message).toContain("at most 10")
    expect(error.message).toContain("split the task")
  })

  it("the rounds of every team of a hybrid count, the largest reported", () => {
    const hybrid = new Hybrid({ coordinator: ref("lead/1"), teams: [team("a", 2, 3), team("b", 2, 40)] })
    expect(checkBounds(hybrid)).toEqual(tooLarge("rounds", 10, 40))
  })

  it("participants are counted over coordinator, workers, peers and judges, duplicates included", () => {
    const peers = refs("p", 16)
    expect(checkBounds(new Peer({ peers }))).toEqual(Option.none())
    expect(checkBounds(new Peer({ peers, vote: { _tag: "Judge", judge: ref("judge/1") } })))
      .toEqual(tooLarge("participants", 16, 17))
    const same = Array.from({ length: 20 }, () => ref("p/1")) as unknown as readonly [Collaboration.AgentRef]
    expect(checkBounds(new Peer({ peers: same }))).toEqual(tooLarge("participants", 16, 20))
    const hybrid = new Hybrid({ coordinator: ref("lead/1"), teams: [team("a", 4), team("b", 4), team("c", 4), team("d", 4)] })
    expect(checkBounds(hybrid)).toEqual(tooLarge("participants", 16, 17))
  })

  it("teams and workers have their own bounds", () => {
    const teams = Array.from({ length: 5 }, (_, i) => team(`t${i}`, 1)) as unknown as readonly [Collaboration.Team]
    expect(checkBounds(new Hybrid({ coordinator: ref("lead/1"), teams }))).toEqual(tooLarge("teams", 4, 5))
    const workers = new MasterSlave({ coordinator: ref("lead/1"), workers: refs("w", 13) })
    expect(checkBounds(workers)).toEqual(tooLarge("workers", 12, 13))
  })

  it("subtasks declared by a decomposition are bounded: functions, and blocks no more than the items", () => {
    const functions = Array.from({ length: 17 }, (_, i) => `f${i}`) as unknown as readonly [string]
    const vertical = new MasterSlave({
      coordinator: ref("lead/1"),
      workers: refs("w", 2),
      decompose: { _tag: "Vertical", functions }
    })
    expect(checkBounds(vertical)).toEqual(tooLarge("subtasks", 16, 17))
    const items = Array.from({ length: 1000 }, (_, i) => `item ${i}`) as unknown as readonly [string]
    const horizontal = (blocks?: number) =>
      new MasterSlave({
        coordinator: ref("lead/1"),
        workers: refs("w", 2),
        decompose: blocks === undefined ? { _tag: "Horizontal", items } : { _tag: "Horizontal", items, blocks }
      })
    expect(checkBounds(horizontal())).toEqual(Option.none())
    expect(checkBounds(horizontal(5000))).toEqual(tooLarge("subtasks", 16, 1000))
    const few = new MasterSlave({
      coordinator: ref("lead/1"),
      workers: refs("w", 2),
      decompose: { _tag: "Horizontal", items: ["a", "b"], blocks: 5000 }
    })
    expect(checkBounds(few)).toEqual(Option.none())
  })

  it("bounds are the caller's to choose: tighter ones refuse more", () => {
    const bounds = new Collaboration.Bounds({ rounds: 2, participants: 3 })
    expect(checkBounds(new Peer({ peers: refs("p", 3), rounds: 3 }), bounds)).toEqual(tooLarge("rounds", 2, 3))
    expect(checkBounds(new Peer({ peers: refs("p", 4), rounds: 1 }), bounds)).toEqual(tooLarge("participants", 3, 4))
  })

  it("the refusal crosses a process boundary as a value", () => {
    const error = new CollaborationTooLarge({ bound: "teams", limit: 4, requested: 9 })
    const decoded = Schema.decodeUnknownSync(CollaborationTooLarge)(Schema.encodeSync(CollaborationTooLarge)(error))
    expect(decoded).toEqual(error)
    expect(decoded.message).toBe(error.message)
  })

  it.effect("bounds are read from the environment, with the defaults for what is not set", () =>
    Effect.gen(function*() {
      const bounds = yield* Collaboration.boundsConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["COLONY_MAX_ROUNDS", "3"]])))
      )
      expect(bounds).toEqual(new Collaboration.Bounds({ rounds: 3 }))
      expect(bounds.participants).toBe(16)
      const refused = yield* Effect.flip(Collaboration.boundsConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["COLONY_MAX_TEAMS", "0"]])))
      ))
      expect(String(refused)).toContain("positive integer")
    }))
})
