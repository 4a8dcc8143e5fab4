import { Events, LanguageModel } from "@colony/runtime"
import { Effect, Fiber, Layer, ManagedRuntime, Option, Queue } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Desk from "../src/support/Desk.js"
import * as DeskEvents from "../src/support/DeskEvents.js"
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

const ana = "ana.ribeiro@example.com" // A-10023 (shipped), A-10031 (processing)
const tom = "tom.okafor@example.com" // A-10022 (processing)
const kenji = "kenji.sato@example.com" // A-10028 (processing)
// what Tom's order A-10022 says about him, none of which another customer may read
const tomsData = ["Tom Okafor", "tom.okafor", "Cast-iron skillet", "14 Elm Road", "LS6 2AB", "Leeds LS1 4AB", "44 Church Street"]
const refusal = (reply: Desk.Reply, tool: string) => reply.tools.filter((t) => t.name === tool && !t.ok)
const lookupAsTom = (conversation: string) =>
  Effect.map(Desk.send(conversation, "Where is my order A-10022?", { customer: tom }), (reply) => reply.tools[0]!.output)

describe("support desk (embedded colony, embedded Postgres, simulated model)", () => {
  // How the router chooses is tested with scripted model replies (supportRouting.test.ts); offline,
  // the evaluation runs end to end and says that its scores are the simulated model's.
  it("runs the 52 evaluation conversations end to end offline and reports them as simulated", async () => {
    const report = await run(Evaluate.run({ prefix: "t" }))
    expect(report.conversations).toBe(52)
    expect(report.outcomes).toHaveLength(report.messages)
    expect(report.simulated).toBe(true)
    expect(Evaluate.format(report, "offline")).toContain("support evaluation — offline (simulated model)")
  }, 120_000)

  it("looks orders up and changes an address in the orders table", async () => {
    const changed = await run(Desk.send("orders-1", "Please change the delivery address of A-10028 to 7 Mill Road, Leeds LS1 1AA", { customer: kenji }))
    expect(changed.tools.map((t) => [t.name, t.ok])).toEqual([["change_address", true]])
    const looked = await run(Desk.send("orders-1", "Where is my order A-10028?", { customer: kenji }))
    expect(looked.tools[0]!.name).toBe("lookup_order")
    expect(looked.tools[0]!.output).toContain("ships to 7 Mill Road, Leeds LS1 1AA")
    expect(looked.handledBy).toEqual(["triage/orders-1", "orders/orders-1", "critic/orders-1"])
    const shipped = await run(Desk.send("orders-2", "Please change the delivery address of A-10023 to 3 Quay Street, Porto", { customer: ana }))
    expect(shipped.tools.map((t) => [t.name, t.ok])).toEqual([["change_address", false]])
    expect(shipped.tools[0]!.output).toContain("is shipped, so its address can no longer be changed")
  }, 60_000)

  it("a multi-part question runs master-slave in a session named after the conversation", async () => {
    const events = await run(Effect.gen(function*() {
      const hub = yield* Events.Events
      const queue = yield* hub.subscribe
      const reply = yield* Desk.send("multi-1", "Where is my order A-10024 and how do I return an item?", {
        customer: "jonas.weber@example.com"
      })
      expect(reply.pattern).toBe("master-slave")
      return (yield* Queue.takeAll(queue)).pipe((chunk) => [...chunk])
    }).pipe(Effect.scoped))
    const started = events.filter((e) => e._tag === "SessionStarted")
    expect(started.map((e) => e.id)).toEqual(["multi-1.1-master-slave"])
    expect(events.every((e) => e.id === "multi-1" || e.id.startsWith("multi-1.") || !e.id.includes("multi-1"))).toBe(true)
  }, 60_000)

  it("an escalation's answer joins the transcript as the human's turn, once, and the conversation goes on", async () => {
    const { escalated, events } = await run(Effect.gen(function*() {
      const queue = yield* Effect.flatMap(Events.Events, (bus) => bus.subscribe)
      const escalated = yield* Desk.send("esc-1", "I want to speak to a person about my wedding list")
      return { escalated, events: [...yield* Queue.takeAll(queue)] }
    }).pipe(Effect.scoped))
    const ticket = escalated.escalation!
    expect(ticket.status).toBe("open")
    // the desk's own event, on the runtime's bus next to the agents' events
    const opened = events.filter((e) => e instanceof DeskEvents.TicketOpened)
    expect(opened).toMatchObject([{ agent: "escalation", id: "esc-1", ticketId: ticket.id, reason: ticket.reason }])
    expect(Events.format(opened[0]!)).toBe(`✋ escalation/esc-1 opened ticket ${ticket.id}: ${ticket.reason}`)
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
    // the secret the customer pasted into the new address comes back in the tool's confirmation,
    // which the simulated model reports, so the draft breaks the no-secrets rule however it is revised
    const reply = await run(Desk.send(
      "critic-1",
      "Please change the delivery address of A-10028 to 5 Park Lane, Leeds LS1 4AB, the password is hunter2",
      { customer: kenji }
    ))
    expect(reply.escalation).not.toBeNull()
    expect(reply.escalation!.reason).toContain("broke the support policy (no-secrets)")
    expect(reply.text).not.toContain("hunter2")
    expect(reply.handledBy).toContain("critic/critic-1")
    // the orders specialist drafted, changing the address, then revised, changing it again
    expect(reply.tools.map((t) => t.name)).toEqual(["change_address", "change_address"])
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

describe("support desk: a conversation's customer and their orders", () => {
  it("a customer looks up their own order, and of another customer's learns nothing", async () => {
    const own = await run(Desk.send("owner-lookup-1", "Where is my order A-10023?", { customer: ana }))
    expect(own.tools.map((t) => [t.name, t.ok])).toEqual([["lookup_order", true]])
    expect(own.tools[0]!.output).toContain("ships to Rua das Flores 88")

    const other = await run(Desk.send("owner-lookup-1", "Where is my order A-10022?", { customer: ana }))
    expect(refusal(other, "lookup_order")).toHaveLength(1)
    expect(refusal(other, "lookup_order")[0]!.output).toContain(
      "OrderNotYours: order A-10022 is not on the signed-in customer's account"
    )
    const seen = JSON.stringify(other)
    for (const data of tomsData) expect(seen).not.toContain(data)
  }, 60_000)

  it("a customer changes the address of their own order, not another customer's, which stays as it was", async () => {
    const before = await run(lookupAsTom("owner-address-tom"))
    const other = await run(
      Desk.send("owner-address-1", "Please change the delivery address of A-10022 to 99 Thief Lane, London E1 1AA", {
        customer: ana
      })
    )
    expect(refusal(other, "change_address")).toHaveLength(1)
    expect(refusal(other, "change_address")[0]!.output).toContain("OrderNotYours")
    for (const data of tomsData) expect(JSON.stringify(other)).not.toContain(data)
    const after = await run(lookupAsTom("owner-address-tom"))
    expect(after).toBe(before)
    expect(after).not.toContain("Thief Lane")

    const own = await run(
      Desk.send("owner-address-1", "Please change the delivery address of A-10031 to 7 Mill Road, 4000-100 Porto", {
        customer: ana
      })
    )
    expect(own.tools.map((t) => [t.name, t.ok])).toEqual([["change_address", true]])
    expect(own.tools[0]!.output).toBe("the delivery address of order A-10031 is now 7 Mill Road, 4000-100 Porto")
  }, 60_000)

  it("a customer gets a refund on their own order, not on another customer's, which stays as it was", async () => {
    const before = await run(lookupAsTom("owner-refund-tom"))
    const other = await run(Desk.send("owner-refund-1", "Please refund order A-10022", { customer: ana }))
    expect(refusal(other, "request_refund")).toHaveLength(1)
    expect(refusal(other, "request_refund")[0]!.output).toContain("OrderNotYours")
    for (const data of tomsData) expect(JSON.stringify(other)).not.toContain(data)
    const after = await run(lookupAsTom("owner-refund-tom"))
    expect(after).toBe(before)
    expect(after).not.toContain("refund requested")

    // the address on file is compared without regard to case
    const own = await run(Desk.send("owner-refund-2", "Please refund order A-10031", { customer: "Ana.Ribeiro@Example.com" }))
    const refunded = own.tools.filter((t) => t.name === "request_refund")
    expect(refunded.map((t) => t.ok)).toEqual([true])
    expect(refunded[0]!.output).toContain("order A-10031: refund requested")
  }, 60_000)

  it("a conversation started by one customer refuses anyone else's message, even one reusing a message id", async () => {
    const first = await run(Desk.send("owner-bound-1", "What is your return policy?", { customer: ana, messageId: "m-1" }))
    expect(await run(Desk.owner("owner-bound-1"))).toEqual(Option.some(ana))

    const stranger = await fails(Desk.send("owner-bound-1", "Where is my order A-10022?", { customer: tom }))
    expect(stranger._tag).toBe("ConversationNotYours")
    expect(stranger.message).toBe("conversation owner-bound-1 belongs to another customer; start a new conversation")
    // a message id answers once per sender: a stranger reusing it gets no stored reply of hers
    const replay = await fails(Desk.send("owner-bound-1", "What is your return policy?", { customer: tom, messageId: "m-1" }))
    expect(replay._tag).toBe("ConversationNotYours")
    const signedOut = await fails(Desk.send("owner-bound-1", "What is your return policy?"))
    expect(signedOut._tag).toBe("ConversationNotYours")
    expect(signedOut.message).toContain("belongs to a signed-in customer")

    const again = await run(Desk.send("owner-bound-1", "What is your return policy?", { customer: ana, messageId: "m-1" }))
    expect(again.text).toBe(first.text)
    await run(Desk.send("owner-bound-1", "How do I reset my password?", { customer: "ANA.RIBEIRO@example.com" }))
    const turns = await run(Desk.transcript("owner-bound-1"))
    expect(turns.filter((t) => t.role === "customer").map((t) => t.text)).toEqual([
      "What is your return policy?",
      "How do I reset my password?"
    ])

    await run(Desk.send("owner-bound-2", "What is your return policy?"))
    expect(await run(Desk.owner("owner-bound-2"))).toEqual(Option.some(null))
    const late = await fails(Desk.send("owner-bound-2", "Where is my order A-10023?", { customer: ana }))
    expect(late._tag).toBe("ConversationNotYours")
    expect(late.message).toContain("was started without a signed-in customer")
    expect(await run(Desk.owner("owner-never-started"))).toEqual(Option.none())
  }, 60_000)

  it("without a signed-in customer the order tools ask the customer to sign in and reveal no order", async () => {
    const reply = await run(Desk.send("owner-anonymous-1", "Where is my order A-10023?"))
    expect(refusal(reply, "lookup_order")).toHaveLength(1)
    expect(refusal(reply, "lookup_order")[0]!.output).toContain("CustomerNotVerified")
    expect(refusal(reply, "lookup_order")[0]!.output).toContain("ask the customer to sign in")
    const seen = JSON.stringify(reply)
    for (const data of ["Ana Ribeiro", "Espresso grinder", "JD014600006281", "Rua das Flores"]) expect(seen).not.toContain(data)
  }, 60_000)

  it("a customer that is not an e-mail address is a SupportError", async () => {
    const bad = await fails(Desk.send("owner-bad-1", "hello", { customer: "not an address" }))
    expect(bad._tag).toBe("SupportError")
    expect(bad.message).toContain("invalid customer")
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
    const reply = await forced.runPromise(Desk.send("forced-1", "Where is my order A-10023?", { customer: ana }))
    expect(reply.intents).toEqual(["orders"])
    expect(reply.pattern).toBe("peer-review")
    expect(reply.handledBy).toEqual(
      expect.arrayContaining(["orders/forced-1", "critic/forced-1", "reviewer/forced-1"])
    )
  }, 60_000)
})

// Every model call takes 400 ms, so the desk is still routing a customer's message when the
// operator's answer arrives.
const slowModel = Layer.effect(
  LanguageModel.LanguageModel,
  Effect.map(LanguageModel.LanguageModel, (model) => ({
    ...model,
    chat: (request: LanguageModel.ChatRequest) => Effect.delay(model.chat(request), "400 millis")
  }))
).pipe(Layer.provide(LanguageModel.layerSimulated))

describe("support desk: a customer and an operator at the same moment", () => {
  let slow: ManagedRuntime.ManagedRuntime<any, unknown>
  beforeAll(async () => {
    slow = ManagedRuntime.make(Script.layer({ languageModel: slowModel }))
    await slow.runtime()
  }, 120_000)
  afterAll(() => slow?.dispose())

  it("a customer message and an operator's answer given while the desk handles it both complete", async () => {
    const first = await slow.runPromise(Desk.send("both-1", "I want to speak to a person about my wedding list"))
    const ticket = first.escalation!
    const started = Date.now()
    const { answered, reply } = await slow.runPromise(Effect.gen(function*() {
      // the message asks for a person: the desk routes it, then opens a ticket with the
      // conversation's escalation agent, which is answering the first ticket meanwhile
      const customer = yield* Effect.fork(Desk.send("both-1", "Can I speak to a real person, please? A human operator."))
      yield* Effect.sleep("150 millis")
      const answered = yield* Desk.answerEscalation(ticket.id, "Hi, Sara here: your wedding list is set up.")
      return { answered, reply: yield* Fiber.join(customer) }
    }).pipe(Effect.timeout("30 seconds")))
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(answered.status).toBe("answered")
    expect(reply.escalation).not.toBeNull()
    expect(reply.escalation!.id).not.toBe(ticket.id)

    // the answer is in the transcript at once, where it was given, and stays there once
    const roles = (turns: ReadonlyArray<Desk.Turn>) => turns.map((t) => t.role)
    expect(roles(await slow.runPromise(Desk.transcript("both-1")))).toEqual(["customer", "agent", "customer", "human", "agent"])
    await slow.runPromise(Desk.send("both-1", "What is your return policy?"))
    const turns = await slow.runPromise(Desk.transcript("both-1"))
    expect(roles(turns)).toEqual(["customer", "agent", "customer", "human", "agent", "customer", "agent"])
    expect(turns[3]!.text).toBe("Hi, Sara here: your wedding list is set up.")
  }, 90_000)
})
