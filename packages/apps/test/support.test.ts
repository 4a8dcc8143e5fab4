import { Events } from "@colony/runtime"
import { Effect, ManagedRuntime, Queue } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Desk from "../src/support/Desk.js"
import * as Evaluate from "../src/support/eval/Evaluate.js"
import * as Script from "../src/support/Script.js"

// One embedded colony over one embedded Postgres for the file: starting Postgres is the slow part.
let runtime: ManagedRuntime.ManagedRuntime<any, unknown>
beforeAll(async () => {
  runtime = ManagedRuntime.make(Script.layer())
  await runtime.runtime()
}, 120_000)
afterAll(() => runtime?.dispose())

const run = <A, E>(effect: Effect.Effect<A, E, any>): Promise<A> => runtime.runPromise(effect)
const fails = <A, E>(effect: Effect.Effect<A, E, any>): Promise<E> => runtime.runPromise(Effect.flip(effect))

describe("support desk (embedded colony, embedded Postgres, simulated model)", () => {
  it("routes all 50 evaluation conversations as expected, with the expected tools and escalations", async () => {
    const report = await run(Evaluate.run({ prefix: "t" }))
    expect(report.conversations).toBe(50)
    expect(report.outcomes.filter((o) => !o.routed).map((o) => `${o.conversation}: ${o.intents.join("+")} ${o.pattern}`))
      .toEqual([])
    expect(report.routingAccuracy).toBe(1)
    expect(report.outcomes.filter((o) => !o.toolsCorrect).map((o) => `${o.conversation}: ${o.tools.join(", ")}`))
      .toEqual([])
    expect(report.escalationAccuracy).toBe(1)
    expect(report.simulated).toBe(true)
    expect(Evaluate.format(report, "simulated")).toContain("| routing accuracy (intents and pattern) | 100.0% |")
  }, 120_000)

  it("looks orders up and changes an address in the orders table", async () => {
    const changed = await run(Desk.send("orders-1", "Please change the delivery address of A-10028 to 7 Mill Road, Leeds LS1 1AA"))
    expect(changed.tools.map((t) => [t.name, t.ok])).toEqual([["change_address", true]])
    const looked = await run(Desk.send("orders-1", "Where is my order A-10028?"))
    expect(looked.tools[0]!.name).toBe("lookup_order")
    expect(looked.tools[0]!.output).toContain("ships to 7 Mill Road, Leeds LS1 1AA")
    expect(looked.handledBy).toEqual(["triage/orders-1", "orders/orders-1", "critic/orders-1"])
    const shipped = await run(Desk.send("orders-2", "Please change the delivery address of A-10023 to 3 Quay Street, Porto"))
    expect(shipped.tools.map((t) => [t.name, t.ok])).toEqual([["change_address", false]])
    expect(shipped.tools[0]!.output).toContain("is shipped, so its address can no longer be changed")
  }, 60_000)

  it("a multi-part question runs master-slave in a session named after the conversation", async () => {
    const events = await run(Effect.gen(function*() {
      const hub = yield* Events.Events
      const queue = yield* hub.subscribe
      const reply = yield* Desk.send("multi-1", "Where is my order A-10024 and how do I return an item?")
      expect(reply.pattern).toBe("master-slave")
      return (yield* Queue.takeAll(queue)).pipe((chunk) => [...chunk])
    }).pipe(Effect.scoped))
    const started = events.filter((e) => e._tag === "SessionStarted")
    expect(started.map((e) => e.id)).toEqual(["multi-1.1-master-slave"])
    expect(events.every((e) => e.id === "multi-1" || e.id.startsWith("multi-1.") || !e.id.includes("multi-1"))).toBe(true)
  }, 60_000)

  it("an escalation's answer joins the transcript as the human's turn, once, and the conversation goes on", async () => {
    const escalated = await run(Desk.send("esc-1", "I want to speak to a person about my wedding list"))
    const ticket = escalated.escalation!
    expect(ticket.status).toBe("open")
    expect(escalated.text).toContain(ticket.id)
    expect((await run(Desk.escalations)).map((t) => t.id)).toContain(ticket.id)

    const answered = await run(Desk.answerEscalation(ticket.id, "Hi, Sara here: your wedding list is set up."))
    expect(answered.status).toBe("answered")
    expect(answered.reply).toBe("Hi, Sara here: your wedding list is set up.")
    expect((await run(Desk.escalations)).map((t) => t.id)).not.toContain(ticket.id)
    const again = await fails(Desk.answerEscalation(ticket.id, "twice"))
    expect(again._tag).toBe("SupportError")

    const next = await run(Desk.send("esc-1", "What is your return policy?"))
    expect(next.escalation).toBeNull()
    const turns = await run(Desk.transcript("esc-1"))
    expect(turns.map((t) => [t.role, t.by])).toEqual([
      ["customer", "customer"],
      ["agent", "escalation/esc-1"],
      ["human", "operator"],
      ["customer", "customer"],
      ["agent", "faq/esc-1"]
    ])
    expect(turns[2]!.text).toBe("Hi, Sara here: your wedding list is set up.")
  }, 60_000)

  it("a draft that breaks the written policy is revised, and when it still breaks it, goes to a person", async () => {
    // the simulated model quotes the customer, so a draft repeating a secret the customer pasted
    // breaks the no-secrets rule however it is revised
    const reply = await run(Desk.send("critic-1", "The password is hunter2, where is my order A-10021?"))
    expect(reply.escalation).not.toBeNull()
    expect(reply.escalation!.reason).toContain("broke the support policy (no-secrets)")
    expect(reply.text).not.toContain("hunter2")
    expect(reply.handledBy).toContain("critic/critic-1")
    // master-slave drafted (the password is a help-centre topic, the order an orders one), then the
    // orders specialist revised, looking the order up again
    expect(reply.pattern).toBe("master-slave")
    expect(reply.tools.map((t) => t.name)).toEqual(["search_knowledge_base", "lookup_order", "lookup_order"])
  }, 60_000)

  it("bad input is a SupportError saying what to do", async () => {
    const badId = await fails(Desk.send("has a space", "hello"))
    expect(badId._tag).toBe("SupportError")
    expect((badId as Desk.SupportError).reason).toContain("invalid conversation id")
    const empty = await fails(Desk.send("ok-1", "   "))
    expect((empty as Desk.SupportError).reason).toContain("the message is empty")
    const unknown = await fails(Desk.answerEscalation("T-999999", "hello"))
    expect((unknown as Desk.SupportError).reason).toContain("there is no ticket T-999999")
  }, 30_000)
})

describe("support desk with a pattern forced by configuration", () => {
  let forced: ManagedRuntime.ManagedRuntime<any, unknown>
  beforeAll(async () => {
    forced = ManagedRuntime.make(Script.layer({ pattern: "peer-review" }))
    await forced.runtime()
  }, 120_000)
  afterAll(() => forced?.dispose())

  it("every message runs the forced pattern, whatever the router would choose", async () => {
    const reply = await forced.runPromise(Desk.send("forced-1", "Where is my order A-10023?"))
    expect(reply.intents).toEqual(["orders"])
    expect(reply.pattern).toBe("peer-review")
    expect(reply.handledBy).toEqual(
      expect.arrayContaining(["orders/forced-1", "critic/forced-1", "reviewer/forced-1"])
    )
  }, 60_000)
})
