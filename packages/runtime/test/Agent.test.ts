import { Agent, AgentError, AgentMemory, Colony, Events, LanguageModel, ModelRegistry } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Tool, Toolkit } from "@effect/ai"
import { Rpc } from "@effect/rpc"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Queue, Ref, Schema, TestClock } from "effect"
import type { Scope } from "effect"

class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", { orderId: Schema.String }) {}

const LookupOrder = Rpc.make("LookupOrder", {
  payload: {
    orderId: Schema.String.pipe(Schema.pattern(/^o-\d+$/)),
    quantity: Schema.Int.pipe(Schema.positive())
  },
  success: Schema.Struct({ orderId: Schema.String, status: Schema.String }),
  error: OrderNotFound
})
const Hold = Rpc.make("Hold", { success: Schema.String })
const Flaky = Rpc.make("Flaky", { success: Schema.Number })
const Crash = Rpc.make("Crash")

/** Controls the test handlers: a gate `Hold` waits on, and a count of `Flaky` attempts. */
class Control extends Context.Tag("test/Control")<Control, {
  readonly entered: Queue.Queue<string>
  readonly release: Deferred.Deferred<void>
  readonly attempts: Ref.Ref<number>
}>() {}

const Support = Agent.make({
  name: "support",
  instructions: "You help customers of an online shop.",
  capabilities: ["orders", "faq"],
  protocol: [LookupOrder, Hold, Flaky, Crash],
  mailboxCapacity: 1,
  maxIdleTime: "10 seconds",
  supervision: { maxRestarts: 2, initialBackoff: "1 second", factor: 2, window: "1 minute" }
})

const Advisor = Agent.make({ name: "advisor" })

const SupportLive = Agent.toLayer(Support, {
  LookupOrder: ({ orderId }) =>
    orderId === "o-404"
      ? Effect.fail(new OrderNotFound({ orderId }))
      : Effect.succeed({ orderId, status: "shipped" }),
  Hold: (_, agent) =>
    Effect.gen(function*() {
      const control = yield* Control
      yield* Queue.offer(control.entered, agent.id)
      yield* Deferred.await(control.release)
      return "released"
    }),
  Flaky: () =>
    Effect.gen(function*() {
      const control = yield* Control
      const attempt = yield* Ref.updateAndGet(control.attempts, (n) => n + 1)
      if (attempt === 1) return yield* Effect.die(new Error("flaky handler blew up"))
      return attempt
    }),
  Crash: () => Effect.die(new Error("always broken"))
})

const Billing = Agent.make({ name: "billing" })

class Warehouse extends Context.Tag("test/Warehouse")<Warehouse, {
  readonly stock: (sku: string) => Effect.Effect<number, OutOfCatalog>
}>() {}
class OutOfCatalog extends Schema.TaggedError<OutOfCatalog>()("OutOfCatalog", { sku: Schema.String }) {
  override get message() {
    return `no product ${this.sku} in the catalogue`
  }
}

const CheckStock = Tool.make("check_stock", {
  description: "Check how many units of a product are in stock",
  parameters: { sku: Schema.String.pipe(Schema.pattern(/^SKU-\d{3}$/)) },
  success: Schema.Union(Schema.Number, Schema.String),
  failure: OutOfCatalog
})

const checkStock = ({ sku }: { readonly sku: string }) =>
    Effect.gen(function*() {
      const caller = yield* Agent.CurrentAgent
      const stock = yield* Effect.flatMap(Warehouse, (w) => w.stock(sku))
      // the tool knows whose call it is: the shared tool answers for one instance
      return caller.id === "shop" ? stock : `${stock} (for ${caller.agent}/${caller.id})`
    })

const Stockist = Agent.make({ name: "stockist", toolkit: Toolkit.make(CheckStock) })

const WarehouseLive = Layer.succeed(Warehouse, {
  stock: (sku) => sku === "SKU-404" ? Effect.fail(new OutOfCatalog({ sku })) : Effect.succeed(12)
})

const Ledger = Agent.make({ name: "ledger", durable: true })

const ControlLive = Layer.effect(
  Control,
  Effect.all({
    entered: Queue.unbounded<string>(),
    release: Deferred.make<void>(),
    attempts: Ref.make(0)
  })
)

/** Advance the test clock until the fiber is done; the cluster needs a few turns per step. */
const settle = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.DurationInput = "500 millis") =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust(step)
      yield* Effect.yieldNow()
    }
    const exit = yield* Fiber.poll(fiber)
    if (Option.isNone(exit)) return yield* Effect.dieMessage("the call did not finish within 100 s of test clock")
    return exit.value
  })

/**
 * The cluster acquires its shards on a timer; under the test clock one step lets it, so each test
 * starts with a colony that is ready to deliver.
 */
const warmUp = Layer.effectDiscard(
  Effect.gen(function*() {
    const support = yield* Colony.client(Support)
    yield* settle(yield* Effect.fork(support("warm-up").Describe()))
  })
)

const colony = (settings?: Partial<Colony.Settings>) =>
  warmUp.pipe(
    Layer.provideMerge(SupportLive),
    Layer.provideMerge(Agent.toLayer(Ledger)),
    Layer.provideMerge(Agent.toLayer(Stockist, {}, { toolHandlers: { check_stock: checkStock } }).pipe(Layer.provide(WarehouseLive))),
    Layer.provideMerge(Colony.layerEmbedded({ settings })),
    Layer.provideMerge(ControlLive)
  )

const Archive = Agent.make({ name: "archive" })

/**
 * The in-process memory store with the quarantine the SQL store keeps: a row that no longer
 * decodes (here: "archive/poisoned", as if written by an older deploy) is reported by every load
 * until `Forget` releases it.
 */
const quarantining = Layer.effect(
  AgentMemory.AgentMemory,
  Effect.gen(function*() {
    const store = yield* AgentMemory.AgentMemory
    const quarantined = new Set(["archive/poisoned"])
    return {
      ...store,
      load: (key) =>
        quarantined.has(key)
          ? Effect.fail(
            new AgentMemory.MemoryUnreadable({
              agent: "archive",
              id: key.slice("archive/".length),
              key,
              quarantineId: 1,
              reason: "Expected string, actual undefined"
            })
          )
          : store.load(key),
      forget: (key) => Effect.zipRight(Effect.sync(() => quarantined.delete(key)), store.forget(key))
    } satisfies AgentMemory.AgentMemory["Type"]
  })
).pipe(Layer.provide(AgentMemory.layerMemory))

const colonyWithQuarantine = () =>
  warmUp.pipe(
    Layer.provideMerge(SupportLive),
    Layer.provideMerge(Agent.toLayer(Archive).pipe(Layer.provide(quarantining))),
    Layer.provideMerge(Colony.layerEmbedded()),
    Layer.provideMerge(ControlLive)
  )

/** The next event with this tag (and this agent id, if given), skipping others. */
const takeUntil = <T extends Events.RuntimeEvent["_tag"]>(
  queue: Queue.Dequeue<Events.Event>,
  tag: T,
  id?: string
): Effect.Effect<Extract<Events.RuntimeEvent, { _tag: T }>> =>
  Effect.gen(function*() {
    while (true) {
      const event = yield* Queue.take(queue)
      if (event._tag === tag && (id === undefined || event.id === id)) {
        return event as Extract<Events.RuntimeEvent, { _tag: T }>
      }
    }
  })

const withEvents = <A, E, R>(f: (events: Queue.Dequeue<Events.Event>) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Events.Events, (bus) => Effect.flatMap(bus.subscribe, f)) as Effect.Effect<
    A,
    E,
    R | Events.Events | Scope.Scope
  >

describe("Agent", () => {
  it.scoped("an agent answers Ask with a labelled answer and remembers the exchange", () =>
    Effect.gen(function*() {
      const support = yield* Colony.client(Support)
      const first = yield* support("customer-42").Ask({ prompt: "Where is my order?" })
      expect(first.text.startsWith(LanguageModel.SIMULATED_LABEL)).toBe(true)
      expect(first.text).not.toContain("Where is my order")
      expect(first).toMatchObject({ agent: "support", id: "customer-42", model: "default", simulated: true })
      expect(first.usage.totalTokens).toBe(first.usage.promptTokens + first.usage.completionTokens)

      const second = yield* support("customer-42").Ask({ prompt: "And the invoice?" })
      expect(second.usage.promptTokens).toBeGreaterThan(first.usage.promptTokens)
      // the system prompt, the first exchange, and the new question
      expect(second.text).toContain("It read 4 messages of context")
      const description = yield* support("customer-42").Describe()
      expect(description).toMatchObject({
        name: "support",
        id: "customer-42",
        capabilities: ["orders", "faq"],
        rpcs: ["Ask", "Describe", "Forget", "LookupOrder", "Hold", "Flaky", "Crash"],
        memoryMessages: 4
      })
      // another instance of the same type has its own memory
      expect((yield* support("customer-7").Describe()).memoryMessages).toBe(0)
    }).pipe(Effect.provide(colony())))

  it.scoped("an Ask with an answer format is answered as JSON in that shape, with or without tools", () =>
    Effect.gen(function*() {
      const answerFormat = {
        name: "final_answer",
        jsonSchema: {
          type: "object",
          properties: { answer: { type: "string", enum: ["ship", "hold"] } },
          required: ["answer"],
          additionalProperties: false
        }
      }
      for (const agent of ["support", "stockist"]) {
        const answer = yield* Colony.ask(agent, "format-1", "Should we ship today or hold?", { answerFormat })
        expect(["ship", "hold"], agent).toContain(JSON.parse(answer.text).answer)
        expect(answer.simulated).toBe(true)
      }
    }).pipe(Effect.provide(colony())))

  it.scopedLive("an answer format reaches an OpenAI-compatible model as its JSON Schema response format", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAI.make()
      server.script(JSON.stringify({ answer: "hold" }))
      const jsonSchema = { type: "object", properties: { answer: { type: "string", enum: ["ship", "hold"] } }, required: ["answer"] }
      const answer = yield* Colony.ask("advisor", "format-2", "Ship or hold?", { answerFormat: { name: "final_answer", jsonSchema } }).pipe(
        Effect.provide(
          Agent.toLayer(Advisor).pipe(
            Layer.provideMerge(Colony.layerEmbedded({
              languageModel: LanguageModel.layerRegistry(ModelRegistry.openAI({ apiKey: "sk-test", baseUrl: server.url }))
            }))
          )
        )
      )
      expect(JSON.parse(answer.text)).toEqual({ answer: "hold" })
      const format = server.requests()[0]!.body.response_format
      expect(format).toMatchObject({ type: "json_schema", json_schema: { name: "final_answer", schema: jsonSchema } })
    }))

  it.scoped("a custom typed RPC answers with its success and its declared error", () =>
    Effect.gen(function*() {
      const support = yield* Colony.client(Support)
      const found = yield* support("c1").LookupOrder({ orderId: "o-17", quantity: 1 })
      expect(found).toEqual({ orderId: "o-17", status: "shipped" })
      const missing = yield* Effect.flip(support("c1").LookupOrder({ orderId: "o-404", quantity: 1 }))
      expect(missing).toBeInstanceOf(OrderNotFound)
    }).pipe(Effect.provide(colony())))

  it.scoped("a schema-invalid payload is refused with InvalidMessage explaining the schema", () =>
    Effect.gen(function*() {
      const support = yield* Colony.client(Support)
      const typed = yield* Effect.flip(support("c1").LookupOrder({ orderId: "o-1", quantity: -3 }))
      expect(typed).toBeInstanceOf(AgentError.InvalidMessage)
      expect(typed.message).toContain("positive")

      const untyped = yield* Effect.flip(Colony.send("support", "c1", "LookupOrder", { orderId: 42 }))
      expect(untyped).toBeInstanceOf(AgentError.InvalidMessage)
      expect((untyped as AgentError.InvalidMessage).details).toContain("orderId")

      const noSuchRpc = yield* Effect.flip(Colony.send("support", "c1", "Refund", {}))
      expect(noSuchRpc).toBeInstanceOf(AgentError.InvalidMessage)
      expect(noSuchRpc.message).toContain("Ask, Describe, Forget, LookupOrder")

      // the agent is unharmed and nothing was delivered
      expect((yield* support("c1").Describe()).memoryMessages).toBe(0)
      const ok = yield* Colony.send("support", "c1", "LookupOrder", { orderId: "o-2", quantity: 2 })
      expect(ok).toEqual({ orderId: "o-2", status: "shipped" })
    }).pipe(Effect.provide(colony())))

  it.scoped("an unknown agent type is refused with UnknownAgent listing the registered types", () =>
    Effect.gen(function*() {
      const byName = yield* Effect.flip(Colony.ask("billing", "c1", "hello"))
      expect(byName).toBeInstanceOf(AgentError.UnknownAgent)
      expect(byName.message).toContain(`no agent type "billing" is registered; registered types: ledger, stockist, support`)

      const billing = yield* Colony.client(Billing)
      const typed = yield* Effect.flip(billing("c1").Ask({ prompt: "hello" }))
      expect(typed).toBeInstanceOf(AgentError.UnknownAgent)
    }).pipe(Effect.provide(colony())))

  it.scoped("a payload over the limit is refused with PayloadTooLarge", () =>
    Effect.gen(function*() {
      const support = yield* Colony.client(Support)
      const prompt = "x".repeat(1024 * 1024)
      const error = yield* Effect.flip(support("c1").Ask({ prompt }))
      expect(error).toBeInstanceOf(AgentError.PayloadTooLarge)
      expect(error).toMatchObject({ limit: 1024 * 1024, rpc: "Ask" })
      expect((yield* support("c1").Describe()).memoryMessages).toBe(0)

      const small = yield* support("c1").Ask({ prompt: "x".repeat(1000) })
      expect(small.simulated).toBe(true)
    }).pipe(Effect.provide(colony())))

  it.scoped("the payload limit is configurable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Colony.ask("support", "c1", "x".repeat(200)))
      expect(error).toMatchObject({ _tag: "PayloadTooLarge", limit: 128 })
    }).pipe(Effect.provide(colony({ maxPayloadBytes: 128 }))))

  it.scoped("a full mailbox answers MailboxFull at once, and the agent takes messages again once drained", () =>
    Effect.gen(function*() {
      const control = yield* Control
      const support = yield* Colony.client(Support)
      const held = yield* Effect.fork(support("c1").Hold())
      expect(yield* Queue.take(control.entered)).toBe("c1")

      const refused = yield* Effect.flip(support("c1").Ask({ prompt: "are you there?" }))
      expect(refused).toBeInstanceOf(AgentError.MailboxFull)
      expect(refused).toMatchObject({ agent: "support", id: "c1", capacity: 1 })
      // the mailbox is per instance: another customer is served meanwhile
      expect((yield* support("c2").Ask({ prompt: "hi" })).id).toBe("c2")

      yield* Deferred.succeed(control.release, undefined)
      expect(yield* Fiber.join(held)).toBe("released")
      expect((yield* support("c1").Ask({ prompt: "are you there now?" })).id).toBe("c1")
    }).pipe(Effect.provide(colony())))

  it.scoped("a handler defect restarts the agent with backoff, replays the message and the next one is answered", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        const control = yield* Control
        const support = yield* Colony.client(Support)
        yield* support("c1").Ask({ prompt: "remember me" })

        const flaky = yield* Effect.fork(support("c1").Flaky())
        const exit = yield* settle(flaky)
        expect(exit).toEqual(Exit.succeed(2))
        expect(yield* Ref.get(control.attempts)).toBe(2)

        const restarted = yield* takeUntil(events, "AgentRestarted")
        expect(restarted).toMatchObject({ agent: "support", id: "c1", restart: 1, delayMs: 1000 })
        expect(restarted.defect).toContain("flaky handler blew up")

        // memory survives the restart and the agent answers the next message
        const description = yield* support("c1").Describe()
        expect(description.memoryMessages).toBe(2)
      })).pipe(Effect.provide(colony())))

  it.scoped("past its restart limit an agent answers AgentFailed carrying the cause", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        const support = yield* Colony.client(Support)
        const crash = yield* Effect.fork(support("c1").Crash())
        const exit = yield* settle(crash)
        expect(Exit.isFailure(exit)).toBe(true)
        const error = yield* Effect.flip(exit)
        expect(error).toBeInstanceOf(AgentError.AgentFailed)
        expect(error).toMatchObject({ agent: "support", id: "c1", rpc: "Crash", restarts: 2 })
        expect(error.message).toContain("always broken")

        const first = yield* takeUntil(events, "AgentRestarted")
        const second = yield* takeUntil(events, "AgentRestarted")
        expect([first.delayMs, second.delayMs]).toEqual([1000, 2000])
        expect(yield* takeUntil(events, "AgentGaveUp")).toMatchObject({ rpc: "Crash", restarts: 2 })

        // the agent itself is alive and answers other messages
        expect((yield* support("c1").Ask({ prompt: "still there?" })).id).toBe("c1")
      })).pipe(Effect.provide(colony())))

  it.scoped("an idle agent is passivated and comes back with its memory on the next message", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        const support = yield* Colony.client(Support)
        yield* support("c1").Ask({ prompt: "my name is Ada" })
        yield* support("c1").Ask({ prompt: "I ordered a lamp" })
        expect(yield* takeUntil(events, "AgentStarted")).toMatchObject({ id: "c1", memoryMessages: 0 })

        yield* TestClock.adjust("1 minute")
        expect(yield* takeUntil(events, "AgentStopped", "c1")).toMatchObject({ agent: "support", id: "c1" })

        const description = yield* support("c1").Describe()
        expect(description.memoryMessages).toBe(4)
        expect(yield* takeUntil(events, "AgentStarted")).toMatchObject({
          id: "c1",
          restart: false,
          memoryMessages: 4
        })
      })).pipe(Effect.provide(colony())))

  it.scoped("a durable agent handles a message sent twice with the same id once, and both senders get the same reply", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        const ledger = yield* Colony.client(Ledger)
        // persisted replies are read back from message storage on a timer: drive the test clock
        const call = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.flatMap(Effect.fork(effect), (fiber) => Effect.flatten(settle(fiber, "100 millis")))
        const pay = (messageId: string) => ledger("acct-1").Ask({ prompt: "record a payment of 10", messageId })
        const [first, second] = yield* call(Effect.all([pay("m-1"), pay("m-1")], { concurrency: "unbounded" }))
        expect(second).toEqual(first)
        const again = yield* call(pay("m-1"))
        expect(again).toEqual(first)
        // one model call, one exchange in memory
        expect((yield* call(ledger("acct-1").Describe())).memoryMessages).toBe(2)
        const handled = [...(yield* Queue.takeAll(events))].filter((e) => e._tag === "ModelCalled" && e.id === "acct-1")
        expect(handled).toHaveLength(1)

        const other = yield* call(pay("m-2"))
        expect(other.text).not.toEqual(first.text)
      })).pipe(Effect.provide(colony())))

  it.scoped("a durable message whose turn an earlier execution committed is answered with the committed answer, without asking the model", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        // an execution on a runner that died after committing the turn, before its reply was stored
        const committed = new Agent.Answer({
          text: "recorded: 10",
          agent: "ledger",
          id: "acct-9",
          model: "default",
          modelId: "simulated",
          simulated: true,
          usage: LanguageModel.Usage.zero,
          cost: 0,
          runner: "10.0.0.7:34431",
          tools: []
        })
        const store = yield* AgentMemory.AgentMemory
        yield* store.commitTurn("ledger/acct-9", {
          messageId: "m-1",
          messages: [LanguageModel.ChatMessage.user("record a payment of 10"), LanguageModel.ChatMessage.assistant("recorded: 10")],
          answer: Schema.encodeSync(Schema.parseJson(Agent.Answer))(committed),
          limit: 40
        })

        const ledger = yield* Colony.client(Ledger)
        const call = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.flatMap(Effect.fork(effect), (fiber) => Effect.flatten(settle(fiber, "100 millis")))
        const replayed = yield* call(ledger("acct-9").Ask({ prompt: "record a payment of 10", messageId: "m-1" }))
        expect(replayed).toBeInstanceOf(Agent.Answer)
        expect(replayed).toEqual(committed)
        // the turn is in memory once, and the model was not asked
        expect((yield* call(ledger("acct-9").Describe())).memoryMessages).toBe(2)
        const called = [...(yield* Queue.takeAll(events))].filter((e) => e._tag === "ModelCalled" && e.id === "acct-9")
        expect(called).toHaveLength(0)
      })).pipe(Effect.provide(colony())))

  it.scoped("an agent whose memory no longer decodes refuses every message but Forget with MemoryUnreadable, without being rebuilt, and Forget starts it afresh", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        const archive = yield* Colony.client(Archive)
        const first = yield* Effect.flip(archive("poisoned").Ask({ prompt: "what do you know?" }))
        const second = yield* Effect.flip(archive("poisoned").Describe())
        for (const refusal of [first, second]) {
          expect(refusal).toBeInstanceOf(AgentError.AgentFailed)
          expect(refusal).toMatchObject({ agent: "archive", id: "poisoned", restarts: 0 })
          expect((refusal as AgentError.AgentFailed).defect).toBeInstanceOf(AgentMemory.MemoryUnreadable)
          expect(refusal.message).toContain("colony_agent_memory_quarantine")
        }
        expect(first).toMatchObject({ rpc: "Ask" })
        expect(second).toMatchObject({ rpc: "Describe" })

        yield* archive("poisoned").Forget()
        const answer = yield* archive("poisoned").Ask({ prompt: "what do you know now?" })
        expect(answer.id).toBe("poisoned")
        expect((yield* archive("poisoned").Describe()).memoryMessages).toBe(2)

        // one build for all of it: a refusal is an answer, not a defect the cluster rebuilds for
        const seen = [...(yield* Queue.takeAll(events))].filter((e) => e.id === "poisoned")
        expect(seen.filter((e) => e._tag === "AgentStarted")).toHaveLength(1)
        expect(seen.filter((e) => e._tag === "AgentRestarted" || e._tag === "AgentGaveUp")).toHaveLength(0)
      })).pipe(Effect.provide(colonyWithQuarantine())))

  it.scoped("an agent calls its tools while answering, in its own context, and reports what it used", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        const stockist = yield* Colony.client(Stockist)
        const answer = yield* stockist("shop").Ask({ prompt: "How many SKU-123 are in stock?" })
        // the simulated model took the product code from the prompt, because the parameter's pattern fits it
        expect(answer.tools.map((t) => ({ name: t.name, arguments: JSON.parse(t.arguments), ok: t.ok }))).toEqual([
          { name: "check_stock", arguments: { sku: "SKU-123" }, ok: true }
        ])
        expect(answer.tools[0]!.output).toBe("12")
        expect(answer.text).toBe(`${LanguageModel.SIMULATED_LABEL} The check_stock tool returned: 12.`)
        expect(answer.simulated).toBe(true)
        const seen = [...(yield* Queue.takeAll(events))].filter((e) => e.id === "shop")
        // the model asked for the tool, the tool ran, the model answered with its result
        expect(seen.filter((e) => e._tag === "ModelCalled" || e._tag === "ToolCalled").map((e) => e._tag)).toEqual([
          "ModelCalled",
          "ToolCalled",
          "ModelCalled"
        ])
        expect(seen.find((e) => e._tag === "ToolCalled")).toMatchObject({
          agent: "stockist",
          tool: "check_stock",
          ok: true,
          summary: "12"
        })
        expect((yield* stockist("shop").Describe()).tools).toEqual(["check_stock"])
        const other = yield* stockist("annex").Ask({ prompt: "How many SKU-123 are in stock?" })
        expect(other.tools[0]!.output).toBe("12 (for stockist/annex)")
      })).pipe(Effect.provide(colony())))

  it.scoped("a tool's failure reaches the model as the tool's result and the agent answers anyway", () =>
    withEvents((events) =>
      Effect.gen(function*() {
        const stockist = yield* Colony.client(Stockist)
        const answer = yield* stockist("shop").Ask({ prompt: "Do you stock SKU-404?" })
        expect(answer.tools).toHaveLength(1)
        expect(answer.tools[0]).toMatchObject({ name: "check_stock", ok: false })
        expect(answer.tools[0]!.output).toBe("error: OutOfCatalog: no product SKU-404 in the catalogue")
        expect(answer.text).toContain("no product SKU-404")
        expect(yield* takeUntil(events, "ToolCalled", "shop")).toMatchObject({ ok: false })
      })).pipe(Effect.provide(colony())))

  it("a tool without a handler is a type error, and a layer built past the types fails to start, naming the tool", async () => {
    // @ts-expect-error the toolkit's check_stock has no handler
    const withoutOptions = Agent.toLayer(Stockist, {})
    // @ts-expect-error the same, with the handlers object present but empty
    const withoutHandler = Agent.toLayer(Stockist, {}, { toolHandlers: {} })
    // @ts-expect-error a handler must answer with the tool's success schema's type
    Agent.toLayer(Stockist, {}, { toolHandlers: { check_stock: () => Effect.succeed(true) } })
    expect(Agent.definition(Stockist).tools).toEqual(["check_stock"])
    for (const layer of [withoutOptions, withoutHandler] as Array<Layer.Layer<never, never, Agent.Requirements>>) {
      const exit = await Effect.runPromiseExit(
        Layer.launch(layer).pipe(Effect.provide(Colony.layerEmbedded()), Effect.scoped)
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("no handler for the tool(s) check_stock")
    }
  })

  it("a provider-defined tool cannot be an agent's: it would run in the provider, not the agent", () => {
    const search = Tool.providerDefined({
      id: "openai.web_search",
      toolkitName: "WebSearch",
      providerName: "web_search",
      args: {},
      success: Schema.String
    })
    expect(() => Agent.make({ name: "searcher", toolkit: Toolkit.make(search({})) })).toThrow(/defined by a provider/)
  })

  it("a definition naming a tool that toLayer is not given fails to start, naming the tool", async () => {
    const exit = await Effect.runPromiseExit(
      // @ts-expect-error the toolkit's check_stock has no handler
      Layer.launch(Agent.toLayer(Stockist)).pipe(
        Effect.provide(Colony.layerEmbedded()),
        Effect.scoped
      )
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("check_stock")
  })
})
