import { Aggregate, Assign, Decompose, LogicalClock } from "@colony/agents"
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"

describe("Decompose", () => {
  it("blocks are contiguous, non-empty, at most `count`, differ in size by at most one, and give the data back", () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (items, count) => {
        const parts = Decompose.blocks(items, count)
        expect(parts.flat()).toEqual(items)
        expect(parts.length).toBe(Math.min(count, items.length))
        expect(parts.every((p) => p.length > 0)).toBe(true)
        const sizes = parts.map((p) => p.length)
        if (sizes.length > 0) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      })
    )
  })
  it("horizontal gives each block the same instruction and only its own items", () => {
    const subtasks = Decompose.horizontal("Translate", ["a1", "a2", "a3", "a4", "a5"], 2)
    expect(subtasks).toHaveLength(2)
    expect(subtasks[0]!.task).toContain("block 1 of 2")
    expect(subtasks[0]!.task).toContain("- a3")
    expect(subtasks[1]!.task).not.toContain("- a3")
    expect(subtasks.every((s) => s.task.startsWith("Translate"))).toBe(true)
  })
  it("vertical gives one subtask per function, requiring it, earlier functions first", () => {
    const subtasks = Decompose.vertical("Launch", ["research", "writing"])
    expect(subtasks.map((s) => [s.capability, s.priority])).toEqual([["research", 2], ["writing", 1]])
  })
  it("hybrid splits each clause by every function", () => {
    const subtasks = Decompose.hybrid("Trip: book flights, and book a hotel", ["research", "writing"])
    expect(subtasks.map((s) => `${s.task.split("\n")[0]} / ${s.capability}`)).toEqual([
      "Trip: book flights / research",
      "Trip: book flights / writing",
      "Trip: book a hotel / research",
      "Trip: book a hotel / writing"
    ])
  })
  it("a planned decomposition reads numbered lines and falls back to clauses without a plan", () => {
    expect(Decompose.planned("T: a, b", "1. first\n2. second\nnoise").subtasks.map((s) => s.task)).toEqual(["first", "second"])
    const fallback = Decompose.planned("T: a, and b", "[simulated] In short: one line")
    expect(fallback.fromPlan).toBe(false)
    expect(fallback.subtasks.map((s) => s.task)).toEqual(["T: a", "T: b"])
  })
  it("splits a listed task into one subtask per clause, keeping the heading", () => {
    expect(Decompose.byClauses("Plan the launch: research the market, draft the post, and estimate the budget"))
      .toEqual(["Plan the launch: research the market", "Plan the launch: draft the post", "Plan the launch: estimate the budget"])
    expect(Decompose.byClauses("Summarise the quarterly report.")).toEqual(["Summarise the quarterly report."])
  })
})

describe("Assign", () => {
  it("round-robin gives subtask i to worker i mod n", () => {
    expect(Assign.roundRobin(["a", "b", "c", "d"], ["w1", "w2", "w3"]).map((x) => x.worker)).toEqual(["w1", "w2", "w3", "w1"])
  })
  it("least-loaded always gives the next subtask to a worker with the least load so far", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.nat({ max: 20 }),
        (load, count) => {
          const workers = load.map((_, i) => i)
          const current = [...load]
          for (const { worker } of Assign.leastLoaded(Array.from({ length: count }, (_, i) => i), workers, load)) {
            expect(current[worker]).toBe(Math.min(...current))
            current[worker]!++
          }
          // the spread never grows beyond the initial one (or one, once levelled)
          expect(Math.max(...current) - Math.min(...current)).toBeLessThanOrEqual(Math.max(1, Math.max(...load) - Math.min(...load)))
        }
      )
    )
  })
  it("capability match sends a subtask to a capable worker and says when none was", () => {
    const workers = [{ worker: "r", capabilities: ["research"] }, { worker: "w", capabilities: ["writing"] }]
    const out = Assign.byCapability(
      [{ capability: "writing" }, { capability: "research" }, { capability: "legal" }],
      workers
    )
    expect(out.map((a) => [a.worker, a.matched])).toEqual([["w", true], ["r", true], ["r", false]])
    fc.assert(
      fc.property(fc.array(fc.constantFrom("research", "writing", undefined), { maxLength: 10 }), (caps) => {
        for (const a of Assign.byCapability(caps.map((capability) => ({ capability })), workers)) {
          if (a.subtask.capability !== undefined) {
            expect(workers.find((w) => w.worker === a.worker)!.capabilities).toContain(a.subtask.capability)
          }
        }
      })
    )
  })
  it("priority dispatches higher priorities first, keeping the order of equals", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 15 }), (priorities) => {
        const subtasks = priorities.map((priority, index) => ({ priority, index }))
        const order = Assign.byPriority(subtasks, ["a", "b"]).map((a) => a.subtask)
        for (let i = 1; i < order.length; i++) {
          const [p, q] = [order[i - 1]!, order[i]!]
          expect(p.priority > q.priority || (p.priority === q.priority && p.index < q.index)).toBe(true)
        }
      })
    )
  })
  it("contract-net awards each subtask to the lowest bid, penalising what a bidder already won", () => {
    const { awarded, unawarded } = Assign.contractNet(["s1", "s2", "s3"], ["a", "b"], [[1, 5], [1, 1.5], [undefined, undefined]])
    expect(awarded.map((a) => [a.subtask, a.worker])).toEqual([["s1", "a"], ["s2", "b"]])
    expect(unawarded).toEqual(["s3"])
    expect(Assign.readBid("I can. BID: 12", { capabilities: [], load: 0 })).toEqual({ cost: 12, how: "explicit" })
    expect(Assign.readBid("sure", { capabilities: ["research"], capability: "research", load: 1 })).toEqual({ cost: 20, how: "capabilities" })
  })
  it("reassignment picks the least-loaded worker that has not failed, and nobody when all have", () => {
    expect(Assign.reassign(["a", "b", "c"], ["a"], [0, 3, 1])).toBe("c")
    expect(Assign.reassign(["a", "b"], ["a", "b"])).toBeUndefined()
  })
})

describe("Aggregate", () => {
  const vote = fc.record({ choice: fc.constantFrom("x", "y", "z"), weight: fc.integer({ min: 1, max: 5 }) })
  it("a weighted vote's winner holds the largest total weight, and ties go to the choice voted first", () => {
    fc.assert(
      fc.property(fc.array(vote, { maxLength: 12 }), (votes) => {
        const tally = Aggregate.weightedVote(votes)
        if (votes.length === 0) {
          expect(tally.winner).toBeUndefined()
          return
        }
        const totals = new Map<string, number>()
        for (const v of votes) totals.set(v.choice, (totals.get(v.choice) ?? 0) + v.weight)
        const best = Math.max(...totals.values())
        expect(totals.get(tally.winner!)).toBe(best)
        const firstBest = votes.find((v) => totals.get(v.choice) === best)!.choice
        expect(tally.winner).toBe(firstBest)
      })
    )
    expect(Aggregate.majorityVote(["a", "b", "b"]).winner).toBe("b")
    expect(Aggregate.weightedVote([{ choice: "a", weight: 3 }, { choice: "b", weight: 1 }, { choice: "b", weight: 1 }]).winner).toBe("a")
  })
  it("a majority quorum is never reached by two different choices, and tolerates total - quorum missing voters", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.constantFrom("x", "y"), { maxLength: 9 }), (total, all) => {
        const choices = all.slice(0, total)
        const outcome = Aggregate.quorum(choices, { total })
        if (outcome._tag === "Reached") {
          expect(outcome.count).toBeGreaterThan(total / 2)
          expect(choices.filter((c) => c !== outcome.choice).length).toBeLessThan(total / 2)
        } else {
          expect(outcome.missing).toBe(total - choices.length)
        }
      })
    )
    expect(Aggregate.quorum(["x", "x"], { total: 3 })).toMatchObject({ _tag: "Reached", choice: "x" })
    expect(Aggregate.quorum(["x"], { total: 3 })).toMatchObject({ _tag: "NotReached", missing: 2, quorum: 2 })
  })
  it("a weighted average lies between the smallest and largest value, and is the mean with equal weights", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ value: fc.double({ min: -1e6, max: 1e6, noNaN: true }), weight: fc.double({ min: 0.01, max: 10, noNaN: true }) }), { minLength: 1, maxLength: 10 }),
        (values) => {
          const avg = Aggregate.weightedAverage(values)!
          const vs = values.map((v) => v.value)
          expect(avg).toBeGreaterThanOrEqual(Math.min(...vs) - 1e-6)
          expect(avg).toBeLessThanOrEqual(Math.max(...vs) + 1e-6)
          const mean = Aggregate.weightedAverage(values.map((v) => ({ value: v.value, weight: 1 })))!
          expect(mean).toBeCloseTo(vs.reduce((s, v) => s + v, 0) / vs.length, 6)
        }
      )
    )
    expect(Aggregate.weightedAverage([])).toBeUndefined()
  })
  it("reads a choice from structured output, an explicit line or a single mention; anything else is an abstention", () => {
    const options = ["red", "blue"]
    expect(Aggregate.readChoice('Blue it is.\n{"answer": "Blue"}', options)).toEqual({ choice: "blue", how: "structured" })
    expect(Aggregate.readChoice('{"answer": "green"}\nOptions red | blue.\nCHOICE: Blue', options)).toEqual({ choice: "blue", how: "explicit" })
    expect(Aggregate.readChoice("I would go with red here.", options)).toEqual({ choice: "red", how: "mention" })
    // the hash-chosen option these used to get counted as a full vote
    expect(Aggregate.readChoice("redistribute the budget", options)).toBeUndefined()
    expect(Aggregate.readChoice("red or blue, hard to say", options)).toBeUndefined()
    expect(Aggregate.readChoice('{"answer": "green"}', options)).toBeUndefined()
    fc.assert(
      fc.property(fc.string(), (text) => {
        const read = Aggregate.readChoice(text, options)
        if (read !== undefined) expect(options).toContain(read.choice)
        expect(Aggregate.readChoice(text, options)).toEqual(read)
      })
    )
  })
  it("reads the final answer a reply states as JSON, checked by its schema, or as an ANSWER line", () => {
    expect(Aggregate.readAnswer('Working: 12*3 = 36, plus 5.\n{"answer": "41"}')).toEqual({ answer: "41", how: "structured" })
    expect(Aggregate.readAnswer('{"answer": 41}')).toEqual({ answer: "41", how: "structured" })
    expect(Aggregate.readAnswer("so ANSWER: 41")).toEqual({ answer: "41", how: "explicit" })
    expect(Aggregate.readAnswer('{"answer": ["41"]}')).toBeUndefined()
    expect(Aggregate.readAnswer('{"result": "41"}')).toBeUndefined()
    expect(Aggregate.readAnswer("It is probably 41.")).toBeUndefined()
    // the instruction itself states no answer, so a reply that echoes it is not read as one
    expect(Aggregate.readAnswer(Aggregate.answerInstruction())).toBeUndefined()
    expect(Aggregate.readChoice(Aggregate.answerInstruction(["red", "blue"]), ["red", "blue"])).toBeUndefined()
  })
  it("reads a number from a VALUE line before any other number", () => {
    expect(Aggregate.readNumber("about 3 weeks\nVALUE: 12.5")).toEqual({ value: 12.5, how: "explicit" })
    expect(Aggregate.readNumber("about 3 weeks")).toEqual({ value: 3, how: "fallback" })
    expect(Aggregate.readNumber("no idea")).toBeUndefined()
  })
  it("lists the parts in subtask order", () => {
    expect(Aggregate.concatenate([{ subtask: "a", text: "A" }, { subtask: "b", text: "B" }])).toBe("1. a\n   A\n2. b\n   B")
  })
})

describe("LogicalClock", () => {
  // Random runs of local events, sends and receipts among three nodes: every event's stamp must
  // be larger than the stamps of the events that happened before it.
  it("orders every event after everything that happened before it", () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("local" as const), node: fc.nat({ max: 2 }) }),
      fc.record({ kind: fc.constant("send" as const), node: fc.nat({ max: 2 }), to: fc.nat({ max: 2 }) }),
      fc.record({ kind: fc.constant("deliver" as const), node: fc.nat({ max: 2 }) })
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const clocks = [0, 1, 2].map((n) => LogicalClock.make(`n${n}`))
        const last: Array<LogicalClock.Stamp | undefined> = [undefined, undefined, undefined]
        const inbox: Array<Array<LogicalClock.Stamp>> = [[], [], []]
        const after = (n: number, before: ReadonlyArray<LogicalClock.Stamp | undefined>) => {
          const now = LogicalClock.stamp(clocks[n]!)
          for (const b of before) if (b !== undefined) expect(LogicalClock.order(b, now)).toBe(-1)
          last[n] = now
          return now
        }
        for (const s of steps) {
          if (s.kind === "local") {
            clocks[s.node] = LogicalClock.tick(clocks[s.node]!)
            after(s.node, [last[s.node]])
          } else if (s.kind === "send") {
            clocks[s.node] = LogicalClock.tick(clocks[s.node]!)
            inbox[s.to]!.push(after(s.node, [last[s.node]]))
          } else {
            const message = inbox[s.node]!.shift()
            if (message === undefined) continue
            clocks[s.node] = LogicalClock.receive(clocks[s.node]!, message.time)
            after(s.node, [last[s.node], message])
          }
        }
      })
    )
  })
})
