import { Collaboration, LoadTracker, SessionEvents } from "@colony/agents"
import { Colony, Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Queue, Ref, TestClock } from "effect"
import { colony, Prompts, ref } from "./fixtures.js"

/** Run a collaboration and keep every stamped event it recorded. */
const runRecorded = (collaboration: Collaboration.Collaboration, task: string) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<Collaboration.Stamped>>([])
    const result = yield* Collaboration.run(collaboration, task, {
      onEvent: (e) => Ref.update(seen, (all) => [...all, e])
    })
    const events = yield* Ref.get(seen)
    const of = <T extends SessionEvents.Event["_tag"]>(tag: T) =>
      events.map((e) => e.event).filter((e): e is Extract<SessionEvents.Event, { _tag: T }> => e._tag === tag)
    return { result, events, of }
  })

/** Advance the test clock until the fiber is done; the cluster needs a few turns per step. */
const settle = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
      yield* TestClock.adjust("500 millis")
      yield* Effect.yieldNow()
    }
    if (Option.isNone(yield* Fiber.poll(fiber))) return yield* Effect.dieMessage("the run did not finish within 200 s of test clock")
    return yield* Fiber.join(fiber)
  })

const by = (result: Collaboration.Result) => result.contributions.map((c) => `${c.by}:${c.role}`)

describe("MasterSlave", () => {
  it.live("workers answer the subtasks, the coordinator synthesises, and the result says who did what", () =>
    Effect.gen(function*() {
      const bus = yield* Events.Events
      const events = yield* bus.subscribe
      const pattern = Collaboration.MasterSlave.make({ coordinator: ref("lead/s1"), workers: [ref("helper/h1"), ref("helper/h2")] })
      const result = yield* Collaboration.run(pattern, "Trip: book flights, book a hotel, and rent a car")
      expect(result.contributions.map((c) => [c.by.toString(), c.role, c.task])).toEqual([
        ["helper/h1", "worker", "Trip: book flights"],
        ["helper/h2", "worker", "Trip: book a hotel"],
        ["helper/h1", "worker", "Trip: rent a car"],
        ["lead/s1", "coordinator", "synthesis"]
      ])
      expect(result.answer).toBe(result.contributions[3]!.text)
      expect(result.simulated).toBe(true)
      expect(result.complete).toBe(true)
      expect(result.totalTokens).toBe(result.contributions.reduce((s, c) => s + c.totalTokens, 0))
      const received = [...(yield* Queue.takeAll(events))].filter((e) => e._tag === "MessageReceived")
      expect(received.map((e) => `${e.agent}/${e.id}<-${(e as { from?: string }).from}`).sort()).toEqual([
        "helper/h1<-lead/s1",
        "helper/h1<-lead/s1",
        "helper/h2<-lead/s1",
        "lead/s1<-caller"
      ])
      const concatenated = yield* Collaboration.run(
        Collaboration.MasterSlave.make({ ...pattern, aggregate: "concatenation" }),
        "Trip: book flights, and book a hotel"
      )
      expect(concatenated.contributions.every((c) => c.role === "worker")).toBe(true)
      expect(concatenated.answer).toContain("1. Trip: book flights")
    }).pipe(Effect.provide(colony), Effect.scoped))

  it.live("vertical decomposition with capability match sends each function to the agent that declares it", () =>
    Effect.gen(function*() {
      const { result, of } = yield* runRecorded(
        Collaboration.MasterSlave.make({
          coordinator: ref("lead/v1"),
          workers: [ref("writer/v1"), ref("researcher/v1")],
          decompose: { _tag: "Vertical", functions: ["research", "writing"] },
          assign: "capability",
          aggregate: "concatenation"
        }),
        "Launch the espresso machine"
      )
      expect(of("SubtaskAssigned").map((e) => e.worker)).toEqual(["researcher/v1", "writer/v1"])
      expect(of("MessageSent").filter((e) => e.rpc === "Describe").map((e) => e.to).sort()).toEqual(["researcher/v1", "writer/v1"])
      expect(result.contributions.map((c) => `${c.by}`)).toEqual(["researcher/v1", "writer/v1"])
    }).pipe(Effect.provide(colony)))

  it.live("horizontal decomposition gives each worker the same instruction over its own block of the data", () =>
    Effect.gen(function*() {
      const { result, of } = yield* runRecorded(
        Collaboration.MasterSlave.make({
          coordinator: ref("lead/hz"),
          workers: [ref("helper/hz1"), ref("helper/hz2")],
          decompose: { _tag: "Horizontal", items: ["r1", "r2", "r3"] },
          aggregate: "concatenation"
        }),
        "Classify these reviews"
      )
      expect(of("TaskDecomposed")[0]!.strategy).toBe("horizontal by data")
      const tasks = result.contributions.map((c) => [`${c.by}`, c.task.split("\n").filter((l) => l.startsWith("- ")).join(",")])
      expect(tasks).toEqual([["helper/hz1", "- r1,- r2"], ["helper/hz2", "- r3"]])
    }).pipe(Effect.provide(colony)))

  it.live("least-loaded assignment steers work away from an agent with requests in flight", () =>
    Effect.gen(function*() {
      const tracker = yield* LoadTracker.LoadTracker
      // two requests to helper/busy are in flight from this process while the collaboration runs
      const started = yield* Queue.unbounded<void>()
      const inFlight = tracker.track("helper/busy", Effect.zipRight(Queue.offer(started, undefined), Effect.never))
      const busy = yield* Effect.fork(Effect.all([inFlight, inFlight], { concurrency: 2 }))
      yield* Queue.take(started)
      yield* Queue.take(started)
      const { of } = yield* runRecorded(
        Collaboration.MasterSlave.make({
          coordinator: ref("lead/l1"),
          workers: [ref("helper/busy"), ref("helper/idle")],
          assign: "least-loaded",
          aggregate: "concatenation"
        }),
        "Chores: wash, dry, and fold"
      )
      expect(of("SubtaskAssigned").map((e) => e.worker)).toEqual(["helper/idle", "helper/idle", "helper/busy"])
      yield* Fiber.interrupt(busy)
    }).pipe(Effect.provide(colony)))

  it.live("contract-net awards a subtask to the cheapest bidder, here the capable one", () =>
    Effect.gen(function*() {
      const { result, of } = yield* runRecorded(
        Collaboration.MasterSlave.make({
          coordinator: ref("lead/c1"),
          workers: [ref("writer/c1"), ref("researcher/c1")],
          decompose: { _tag: "Vertical", functions: ["research"] },
          assign: "contract-net",
          aggregate: "concatenation"
        }),
        "Size the market"
      )
      expect(of("SubtaskAssigned").map((e) => e.worker)).toEqual(["researcher/c1"])
      expect(result.contributions.filter((c) => c.role === "bidder").map((c) => `${c.by}`).sort()).toEqual(["researcher/c1", "writer/c1"])
    }).pipe(Effect.provide(colony)))

  it.live("priority assignment dispatches the highest-priority subtask first", () =>
    Effect.gen(function*() {
      const { of } = yield* runRecorded(
        Collaboration.MasterSlave.make({
          coordinator: ref("lead/p1"),
          workers: [ref("helper/p1")],
          assign: "priority",
          priorities: [0, 5, 1],
          aggregate: "concatenation"
        }),
        "Day: email, fix the outage, and lunch"
      )
      expect(of("SubtaskAssigned").map((e) => e.subtask)).toEqual(["Day: fix the outage", "Day: lunch", "Day: email"])
      expect(of("MessageSent").map((e) => e.step)).toEqual(["subtask-2/attempt-1", "subtask-3/attempt-1", "subtask-1/attempt-1"])
    }).pipe(Effect.provide(colony)))

  it.live("a worker that stays failed after supervision has its subtask reassigned to another worker", () =>
    Effect.gen(function*() {
      const { result, of } = yield* runRecorded(
        Collaboration.MasterSlave.make({
          coordinator: ref("lead/r1"),
          workers: [ref("crashy/r1"), ref("helper/r1")],
          aggregate: "concatenation"
        }),
        "Trip: book flights, and book a hotel"
      )
      expect(of("AgentRestarted").map((e) => `${e.agent}/${e.id}`)).toEqual(["crashy/r1"])
      expect(of("SubtaskReassigned").map((e) => [e.step, e.from, e.to])).toEqual([["subtask-1/attempt-1", "crashy/r1", "helper/r1"]])
      expect(result.contributions.map((c) => [c.task, `${c.by}`, c.step])).toEqual([
        ["Trip: book flights", "helper/r1", "subtask-1/attempt-2"],
        ["Trip: book a hotel", "helper/r1", "subtask-2/attempt-1"]
      ])
      expect(result.complete).toBe(true)
    }).pipe(Effect.provide(colony)))

  it.scoped("a worker that never answers times out on the clock and its subtask is reassigned", () =>
    Effect.gen(function*() {
      const run = yield* Effect.fork(
        Collaboration.run(
          Collaboration.MasterSlave.make({
            coordinator: ref("lead/to"),
            workers: [ref("sleeper/to"), ref("helper/to")],
            aggregate: "concatenation",
            stepTimeoutMs: 30_000
          }),
          "Trip: book flights, and book a hotel"
        )
      )
      const result = yield* settle(run)
      expect(result.complete).toBe(true)
      expect(result.contributions.map((c) => [`${c.by}`, c.step])).toEqual([
        ["helper/to", "subtask-1/attempt-2"],
        ["helper/to", "subtask-2/attempt-1"]
      ])
    }).pipe(Effect.provide(colony)))

  it.live("with every worker failed, the result lists the missing parts instead of failing or hanging", () =>
    Effect.gen(function*() {
      const { result, of } = yield* runRecorded(
        Collaboration.MasterSlave.make({ coordinator: ref("lead/m1"), workers: [ref("crashy/m1"), ref("crashy/m2")] }),
        "Trip: book flights, and book a hotel"
      )
      expect(result.complete).toBe(false)
      expect(result.missing.map((m) => m.task)).toEqual(["Trip: book flights", "Trip: book a hotel"])
      expect(result.missing[0]!.reason).toContain("AgentFailed")
      expect(result.answer).toBe("(no answer: every part is missing)")
      expect(of("SubtaskReassigned").some((e) => e.to === undefined)).toBe(true)
      expect(of("SessionCompleted")[0]!.missing).toBe(2)
    }).pipe(Effect.provide(colony)))

  it.live("replicated votes: majority, weighted vote and weighted average decide from the workers' answers", () =>
    Effect.gen(function*() {
      const workers = [ref("red/w1"), ref("red/w2"), ref("blue/w3")] as const
      const base = { coordinator: ref("lead/vote"), workers, decompose: "replicate", options: ["red", "blue"] } as const
      const majority = yield* Collaboration.run(Collaboration.MasterSlave.make({ ...base, aggregate: "majority" }), "Which colour?")
      expect(majority.answer).toBe("red")
      expect(majority.votes.map((v) => [`${v.voter}`, v.choice, v.how])).toEqual([
        ["red/w1", "red", "explicit"],
        ["red/w2", "red", "explicit"],
        ["blue/w3", "blue", "explicit"]
      ])
      const weighted = yield* Collaboration.run(
        Collaboration.MasterSlave.make({ ...base, aggregate: "weighted-vote", weights: [1, 1, 3] }),
        "Which colour?"
      )
      expect(weighted.answer).toBe("blue")
      const average = yield* Collaboration.run(
        Collaboration.MasterSlave.make({
          coordinator: ref("lead/avg"),
          workers: [ref("low/a1"), ref("high/a2")],
          decompose: "replicate",
          aggregate: "weighted-average",
          weights: [1, 2]
        }),
        "How many weeks?"
      )
      expect(average.answer).toBe("30")
    }).pipe(Effect.provide(colony)))

  it.live("quorum consensus tolerates f of n failed workers and says so when the quorum is not reached", () =>
    Effect.gen(function*() {
      const base = { coordinator: ref("lead/q"), decompose: "replicate", aggregate: "quorum", options: ["red", "blue"] } as const
      const tolerated = yield* Collaboration.run(
        Collaboration.MasterSlave.make({ ...base, workers: [ref("red/q1"), ref("red/q2"), ref("crashy/q3")] }),
        "Which colour?"
      )
      expect(tolerated.answer).toBe("red")
      expect(tolerated.missing.map((m) => `${m.by}`)).toEqual(["crashy/q3"])
      const short = yield* Collaboration.run(
        Collaboration.MasterSlave.make({ ...base, workers: [ref("red/q4"), ref("crashy/q5"), ref("crashy/q6")] }),
        "Which colour?"
      )
      expect(short.answer).toBe("(no decision)")
      expect(short.complete).toBe(false)
      expect(short.missing.map((m) => m.reason).join("\n")).toContain("no quorum: the leading choice has 1 of the 2 votes needed; 2 of 3 answers are missing")
    }).pipe(Effect.provide(colony)))
})

describe("Peer", () => {
  it.live("peers see each other's previous answers, and stop when no one changes their choice", () =>
    Effect.gen(function*() {
      const { result, of } = yield* runRecorded(
        Collaboration.Peer.make({ peers: [ref("red/d1"), ref("blue/d2"), ref("red/d3")], rounds: 4, options: ["red", "blue"] }),
        "Which colour should the logo be?"
      )
      // round 2 repeats round 1's choices, so the debate stops there although 4 rounds were allowed
      expect(of("RoundCompleted").map((e) => [e.round, e.stopped])).toEqual([[1, false], [2, true]])
      expect(result.rounds).toBe(2)
      expect(result.answer).toBe("red")
      const round1 = result.contributions.filter((c) => c.task === "round 1")
      const prompts = yield* Ref.get(yield* Prompts)
      const round2ToD2 = prompts.find((p) => p.includes("round 2") && p.includes(round1[0]!.text) && p.includes(round1[2]!.text))
      expect(round2ToD2).toBeDefined()
      expect(result.contributions.filter((c) => c.role === "peer")).toHaveLength(6)
    }).pipe(Effect.provide(colony)))

  it.live("an agreement threshold stops the debate as soon as enough peers agree; fixed rounds run them all", () =>
    Effect.gen(function*() {
      const peers = [ref("red/t1"), ref("red/t2"), ref("blue/t3")] as const
      const agreed = yield* Collaboration.run(
        Collaboration.Peer.make({ peers, rounds: 3, options: ["red", "blue"], stop: { _tag: "Agreement", threshold: 0.6 } }),
        "Which colour?"
      )
      expect(agreed.rounds).toBe(1)
      const fixed = yield* Collaboration.run(
        Collaboration.Peer.make({ peers, rounds: 3, options: ["red", "blue"], stop: "fixed-rounds" }),
        "Which colour?"
      )
      expect(fixed.rounds).toBe(3)
    }).pipe(Effect.provide(colony)))

  it.live("a weighted vote and a judge agent can overrule the majority", () =>
    Effect.gen(function*() {
      const peers = [ref("red/j1"), ref("red/j2"), ref("blue/j3")] as const
      const weighted = yield* Collaboration.run(
        Collaboration.Peer.make({ peers, rounds: 1, options: ["red", "blue"], vote: { _tag: "Weighted", weights: [1, 1, 5] } }),
        "Which colour?"
      )
      expect(weighted.answer).toBe("blue")
      const { result, of } = yield* runRecorded(
        Collaboration.Peer.make({ peers, rounds: 1, options: ["red", "blue"], vote: { _tag: "Judge", judge: ref("blue/judge") } }),
        "Which colour?"
      )
      expect(result.answer).toBe("blue")
      expect(result.contributions.at(-1)!.role).toBe("judge")
      expect(of("VoteCast").at(-1)).toMatchObject({ voter: "blue/judge", choice: "blue", how: "judge, explicit" })
    }).pipe(Effect.provide(colony)))

  it.live("a peer quorum tolerates f of n failed peers, and reports no decision below it", () =>
    Effect.gen(function*() {
      const tolerated = yield* Collaboration.run(
        Collaboration.Peer.make({ peers: [ref("red/f1"), ref("blue/f2"), ref("crashy/f3")], rounds: 2, options: ["red", "blue"] }),
        "Which colour?"
      )
      expect(tolerated.answer).toBe("red")
      expect(tolerated.missing.map((m) => [m.step, `${m.by}`])).toEqual([["round-1/crashy/f3", "crashy/f3"]])
      const lost = yield* Collaboration.run(
        Collaboration.Peer.make({ peers: [ref("red/f4"), ref("crashy/f5"), ref("crashy/f6")], rounds: 2, options: ["red", "blue"] }),
        "Which colour?"
      )
      expect(lost.complete).toBe(false)
      expect(lost.answer).toBe("(no decision: only 1 of 3 peers answered the last round; a decision needs 2)")
    }).pipe(Effect.provide(colony)))

  it.live("peers with options are asked for their choice as structured output: the simulated model answers one option as JSON, read as such, and decides the same way twice", () =>
    Effect.gen(function*() {
      const peers = [ref("helper/det-a"), ref("helper/det-b"), ref("helper/det-c")] as const
      const debate = runRecorded(
        Collaboration.Peer.make({ peers, rounds: 2, stop: "fixed-rounds", options: ["yes", "no"] }),
        "Should we ship on Friday?"
      )
      const { of, result: first } = yield* debate
      // the agents' memory is part of what the model sees: start the second run from the same state
      yield* Effect.forEach(peers, (p) => Colony.send(p.agent, p.id, "Forget", undefined))
      const { result: second } = yield* debate
      expect(first.abstentions).toEqual([])
      expect(of("VoteAbstained")).toEqual([])
      // the votes counted: the last round's
      expect(first.votes).toHaveLength(peers.length)
      for (const vote of first.votes) {
        expect(["yes", "no"]).toContain(vote.choice)
        expect(vote.how).toBe("structured")
      }
      for (const peer of first.contributions.filter((c) => c.role === "peer")) {
        expect(["yes", "no"]).toContain(JSON.parse(peer.text).answer)
      }
      expect(first.complete).toBe(true)
      expect(["yes", "no"]).toContain(first.answer)
      expect(second.answer).toBe(first.answer)
    }).pipe(Effect.provide(colony)))
})

describe("Hybrid", () => {
  it.live("teams deliberate as peers, then the coordinator aggregates their decisions", () =>
    Effect.gen(function*() {
      const teams = [
        new Collaboration.Team({ name: "a", peers: [ref("red/ha1"), ref("red/ha2")], rounds: 1, options: ["red", "blue"] }),
        new Collaboration.Team({ name: "b", peers: [ref("blue/hb1"), ref("blue/hb2")], rounds: 1, options: ["red", "blue"] }),
        new Collaboration.Team({ name: "c", peers: [ref("red/hc1"), ref("blue/hc2"), ref("red/hc3")], rounds: 1, options: ["red", "blue"] })
      ] as const
      const { result, of } = yield* runRecorded(
        Collaboration.Hybrid.make({ coordinator: ref("lead/h"), teams, aggregate: "majority" }),
        "Which colour?"
      )
      expect(result.answer).toBe("red")
      expect(of("RoundCompleted").map((e) => e.team).sort()).toEqual(["a", "b", "c"])
      expect(of("MessageSent").map((e) => e.step)).toContain("team-c/round-1/red/hc3")
      const synthesised = yield* Collaboration.run(Collaboration.Hybrid.make({ coordinator: ref("lead/h2"), teams }), "Which colour?")
      expect(synthesised.contributions.at(-1)!.role).toBe("coordinator")
      expect(synthesised.contributions.filter((c) => c.role === "peer")).toHaveLength(7)
    }).pipe(Effect.provide(colony)))
})

describe("Collaboration", () => {
  it.live("the same agents and task run as another pattern when only the value changes", () =>
    Effect.gen(function*() {
      const agents = [ref("helper/same-1"), ref("helper/same-2")] as const
      const task = "Pick: tea, or coffee"
      const patterns = [
        Collaboration.MasterSlave.make({ coordinator: ref("lead/same"), workers: agents }),
        Collaboration.Peer.make({ peers: agents, rounds: 1 }),
        Collaboration.Hybrid.make({ coordinator: ref("lead/same"), teams: [new Collaboration.Team({ name: "t", peers: agents, rounds: 1 })] })
      ]
      const results = yield* Effect.forEach(patterns, (p) => Collaboration.run(p, task))
      expect(results.map((r) => r.pattern)).toEqual(["MasterSlave", "Peer", "Hybrid"])
      expect(results.map((r) => by(r))).toEqual([
        ["helper/same-1:worker", "helper/same-2:worker", "lead/same:coordinator"],
        ["helper/same-1:peer", "helper/same-2:peer"],
        ["helper/same-1:peer", "helper/same-2:peer", "lead/same:coordinator"]
      ])
    }).pipe(Effect.provide(colony)))

  it.live("every recorded event carries a Lamport stamp that increases, and each send precedes its reply", () =>
    Effect.gen(function*() {
      const { events } = yield* runRecorded(
        Collaboration.MasterSlave.make({ coordinator: ref("lead/lc"), workers: [ref("crashy/lc"), ref("helper/lc")] }),
        "Trip: book flights, and book a hotel"
      )
      const times = events.map((e) => e.stamp.time)
      expect(times).toEqual(times.map((_, i) => i + 1))
      for (const e of events) if ("clock" in e.event) expect(e.event.clock).toBe(e.stamp.time)
      const tags = new Set(events.map((e) => e.event._tag))
      for (const tag of ["SessionStarted", "TaskDecomposed", "SubtaskAssigned", "MessageSent", "ReplyReceived", "ModelCalled", "AgentRestarted", "SubtaskReassigned", "SessionCompleted"]) {
        expect(tags).toContain(tag)
      }
      const lines = events.map((e) => Events.format(e.event))
      expect(lines[0]).toBe(`◆ colony-session/${events[0]!.event.id} @1 started MasterSlave: Trip: book flights, and book a hotel`)
      expect(lines.find((l) => l.includes("moved from"))).toMatch(/subtask-1\/attempt-1 moved from crashy\/lc to helper\/lc: AgentFailed/)
      const sent = new Map<string, number>()
      for (const { event, stamp } of events) {
        if (event._tag === "MessageSent") sent.set(event.step, stamp.time)
        if (event._tag === "ReplyReceived") expect(sent.get(event.step)).toBeLessThan(stamp.time)
      }
    }).pipe(Effect.provide(colony)))

  it.live("runs at once each record the model calls of their own agents, once, and of no other run", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.forEach(["c1", "c2", "c3"], (run) =>
        runRecorded(
          Collaboration.MasterSlave.make({ coordinator: ref(`lead/${run}`), workers: [ref(`helper/${run}-a`), ref(`helper/${run}-b`)] }),
          "Trip: book flights, book a hotel, and rent a car"
        ), { concurrency: "unbounded" })
      for (const [i, run] of ["c1", "c2", "c3"].entries()) {
        const calls = runs[i]!.of("ModelCalled").map((e) => `${e.agent}/${e.id}`).sort()
        expect(calls).toEqual([`helper/${run}-a`, `helper/${run}-a`, `helper/${run}-b`, `lead/${run}`])
        const stamps = runs[i]!.events.map((e) => e.stamp.time)
        expect(stamps).toEqual(stamps.map((_, k) => k + 1))
      }
      // a run that starts after they ended sees none of their calls
      const later = yield* runRecorded(
        Collaboration.MasterSlave.make({ coordinator: ref("lead/c1"), workers: [ref("helper/c1-a")] }),
        "Trip: book flights"
      )
      expect(later.of("ModelCalled").map((e) => `${e.agent}/${e.id}`).sort()).toEqual(["helper/c1-a", "lead/c1"])
    }).pipe(Effect.provide(colony)))

  it.live("every agent call is a step with a key that is unique within the run, for durable execution", () =>
    Effect.gen(function*() {
      const keys: Array<string> = []
      const step = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.zipRight(Effect.sync(() => keys.push(key)), effect)
      const hybrid = Collaboration.Hybrid.make({
        coordinator: ref("lead/keys"),
        teams: [
          new Collaboration.Team({ name: "a", peers: [ref("red/k1"), ref("blue/k2")], rounds: 2, stop: "fixed-rounds" }),
          new Collaboration.Team({ name: "b", peers: [ref("crashy/k3"), ref("red/k4")], rounds: 1 })
        ]
      })
      yield* Collaboration.run(hybrid, "Which colour?", { step })
      expect([...keys].sort()).toEqual([
        "synthesis",
        "team-a/round-1/blue/k2",
        "team-a/round-1/red/k1",
        "team-a/round-2/blue/k2",
        "team-a/round-2/red/k1",
        "team-b/round-1/crashy/k3",
        "team-b/round-1/red/k4"
      ])
      keys.length = 0
      yield* Collaboration.run(
        Collaboration.MasterSlave.make({ coordinator: ref("lead/keys"), workers: [ref("crashy/k5"), ref("helper/k6")], decompose: "planned" }),
        "Trip: book flights, and book a hotel",
        { step }
      )
      expect(new Set(keys).size).toBe(keys.length)
      expect(keys).toEqual(expect.arrayContaining(["plan", "subtask-1/attempt-1", "subtask-1/attempt-2", "synthesis"]))
    }).pipe(Effect.provide(colony)))

  it.live("a collaboration naming an agent type nobody hosts fails at once with UnknownAgent", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Collaboration.run(Collaboration.Peer.make({ peers: [ref("nobody/x")] }), "Hello?")
      )
      expect(error._tag).toBe("UnknownAgent")
      expect(error.message).toContain("nobody")
    }).pipe(Effect.provide(colony)))
})

describe("direct runs", () => {
  it.live("each direct run has its own session id, unique across processes (no per-process counter)", () =>
    Effect.gen(function*() {
      const pattern = Collaboration.MasterSlave.make({ coordinator: ref("lead/d1"), workers: [ref("helper/d2")] })
      const first = yield* Collaboration.run(pattern, "Trip: book flights")
      const second = yield* Collaboration.run(pattern, "Trip: book flights")
      for (const { session } of [first, second]) expect(session).toMatch(/^direct-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(first.session).not.toBe(second.session)
    }).pipe(Effect.provide(colony), Effect.scoped))
})
