/**
 * What a caller sees when a call goes wrong on the way: a connection to a runner that breaks, a
 * handler cut off by a shard move, a reply that never comes. The faults are injected where the
 * colony's client meets the cluster (a `Sharding` whose clients fail as a broken connection
 * does), so the agents themselves run as usual.
 */
import { Agent, AgentError, Colony } from "@colony/runtime"
import * as Sharding from "@effect/cluster/Sharding"
import * as Socket from "@effect/platform/Socket"
import { Rpc } from "@effect/rpc"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Queue, Ref, Schema } from "effect"

const Hold = Rpc.make("Hold", { success: Schema.String })
const CutOff = Rpc.make("CutOff", { success: Schema.String })

class Control extends Context.Tag("test/CallsControl")<Control, {
  readonly entered: Queue.Queue<string>
  readonly cutOffs: Ref.Ref<number>
}>() {}

const Clerk = Agent.make({ name: "clerk", protocol: [Hold, CutOff] })
const Ledger = Agent.make({ name: "ledger", durable: true })

const ClerkLive = Agent.toLayer(Clerk, {
  Hold: (_, agent) => Effect.zipRight(Effect.flatMap(Control, (c) => Queue.offer(c.entered, agent.id)), Effect.never),
  // what a handler sees when its runner gives its shard up mid-message
  CutOff: () => Effect.zipRight(Effect.flatMap(Control, (c) => Ref.update(c.cutOffs, (n) => n + 1)), Effect.interrupt)
})

type Fault = "not-sent" | "reply-lost" | "cut-off"

/** Faults to inject, each once, into the next call of an RPC. */
class Faults extends Context.Tag("test/Faults")<Faults, Ref.Ref<ReadonlyArray<{ readonly rpc: string; readonly fault: Fault }>>>() {}

const broken = (reason: "Write" | "Read") => new Socket.SocketGenericError({ reason, cause: new Error("EPIPE") })

/** The colony's `Sharding`, with clients that fail as a broken connection to a runner does. */
const faultyTransport = Layer.effect(
  Sharding.Sharding,
  Effect.gen(function*() {
    const real = yield* Sharding.Sharding
    const faults = yield* Faults
    const take = (rpc: string) =>
      Ref.modify(faults, (all) => {
        const i = all.findIndex((f) => f.rpc === rpc)
        return i < 0 ? [undefined, all] : [all[i]!.fault, all.filter((_, j) => j !== i)]
      })
    return {
      ...real,
      makeClient: (entity) =>
        Effect.map(real.makeClient(entity), (make) => (id: string) =>
          new Proxy(make(id) as any, {
            get: (client, rpc) => (payload: unknown, options: unknown) =>
              Effect.flatMap(take(String(rpc)), (fault): Effect.Effect<unknown, unknown> => {
                const call = client[rpc](payload, options) as Effect.Effect<unknown, unknown>
                switch (fault) {
                  case undefined:
                    return call
                  case "not-sent":
                    return Effect.die(broken("Write"))
                  case "reply-lost":
                    return Effect.zipRight(call, Effect.die(broken("Read")))
                  case "cut-off":
                    return Effect.zipRight(call, Effect.interrupt)
                }
              })
          })) as any
    } satisfies Sharding.Sharding["Type"]
  })
)

const ControlLive = Layer.effect(Control, Effect.all({ entered: Queue.unbounded<string>(), cutOffs: Ref.make(0) }))
const FaultsLive = Layer.effect(Faults, Ref.make<ReadonlyArray<{ readonly rpc: string; readonly fault: Fault }>>([]))

const colony = (settings?: Partial<Colony.Settings>) =>
  faultyTransport.pipe(
    Layer.provideMerge(Layer.mergeAll(ClerkLive, Agent.toLayer(Ledger))),
    Layer.provideMerge(Colony.layerEmbedded({ settings })),
    Layer.provideMerge(Layer.merge(ControlLive, FaultsLive))
  )

const inject = (rpc: string, fault: Fault) => Effect.flatMap(Faults, (faults) => Ref.update(faults, (all) => [...all, { rpc, fault }]))

describe("Colony calls under faults", () => {
  it.live("a message the connection could not send is sent again and answered once", () =>
    Effect.gen(function*() {
      const clerk = yield* Colony.client(Clerk)
      yield* inject("Ask", "not-sent")
      const answer = yield* clerk("c1").Ask({ prompt: "hello" })
      expect(answer.id).toBe("c1")
      expect((yield* clerk("c1").Describe()).memoryMessages).toBe(2)
    }).pipe(Effect.provide(colony())))

  it.live("a volatile Ask whose reply was lost is not asked again: AgentUnavailable says it may have been handled", () =>
    Effect.gen(function*() {
      const clerk = yield* Colony.client(Clerk)
      yield* inject("Ask", "reply-lost")
      const error = yield* Effect.flip(clerk("c2").Ask({ prompt: "hello" }))
      expect(error).toBeInstanceOf(AgentError.AgentUnavailable)
      expect(error.message).toContain("may or may not have been handled")
      expect((yield* clerk("c2").Describe()).memoryMessages).toBe(2)

      // a read is asked again
      yield* inject("Describe", "reply-lost")
      expect((yield* clerk("c2").Describe()).memoryMessages).toBe(2)
    }).pipe(Effect.provide(colony())))

  it.live("a durable Ask whose reply was lost is sent again with its message id and handled once", () =>
    Effect.gen(function*() {
      const ledger = yield* Colony.client(Ledger)
      yield* inject("Ask", "reply-lost")
      const answer = yield* ledger("l1").Ask({ prompt: "book it", messageId: "m-1" })
      expect(answer.id).toBe("l1")
      expect((yield* ledger("l1").Describe()).memoryMessages).toBe(2)
    }).pipe(Effect.provide(colony())))

  it.live("a handler cut off mid-message is AgentInterrupted, not a bare interruption, and is not run again", () =>
    Effect.gen(function*() {
      const control = yield* Control
      const clerk = yield* Colony.client(Clerk)
      const exit = yield* Effect.exit(clerk("c3").CutOff())
      expect(Exit.isInterrupted(exit)).toBe(false)
      const error = yield* Effect.flip(exit)
      expect(error).toBeInstanceOf(AgentError.AgentInterrupted)
      expect(error).toMatchObject({ agent: "clerk", id: "c3", rpc: "CutOff" })
      expect(yield* Ref.get(control.cutOffs)).toBe(1)

      // a read cut off is asked again
      yield* inject("Describe", "cut-off")
      expect((yield* clerk("c3").Describe()).name).toBe("clerk")

      // a durable message cut off is left to the cluster's own replay, and its caller told at once
      const ledger = yield* Colony.client(Ledger)
      yield* inject("Ask", "cut-off")
      const durable = yield* Effect.flip(ledger("l2").Ask({ prompt: "book it", messageId: "m-2" }))
      expect(durable).toBeInstanceOf(AgentError.AgentInterrupted)
    }).pipe(Effect.provide(colony())))

  it.live("the caller's own interruption still interrupts its call", () =>
    Effect.gen(function*() {
      const control = yield* Control
      const clerk = yield* Colony.client(Clerk)
      const call = yield* Effect.fork(clerk("c4").Hold())
      expect(yield* Queue.take(control.entered)).toBe("c4")
      const exit = yield* Fiber.interrupt(call)
      expect(Exit.isInterrupted(exit)).toBe(true)
    }).pipe(Effect.provide(colony())))

  it.live("a call with no reply within COLONY_CALL_TIMEOUT fails with AgentCallTimeout", () =>
    Effect.gen(function*() {
      const clerk = yield* Colony.client(Clerk)
      const started = Date.now()
      const error = yield* Effect.flip(clerk("c5").Hold())
      expect(error).toBeInstanceOf(AgentError.AgentCallTimeout)
      expect(error).toMatchObject({ agent: "clerk", id: "c5", rpc: "Hold" })
      expect(Duration.toMillis((error as AgentError.AgentCallTimeout).after)).toBe(300)
      expect(error.message).toContain("did not answer \"Hold\" within 300ms")
      expect(Date.now() - started).toBeLessThan(5_000)
    }).pipe(Effect.provide(colony({ callTimeout: Duration.millis(300) }))))

  it.live("a caller gives one call its own deadline, per call or for the calls of an effect", () =>
    Effect.gen(function*() {
      const clerk = yield* Colony.client(Clerk, { timeout: "200 millis" })
      const own = yield* Effect.flip(clerk("c6").Hold())
      expect(own).toMatchObject({ _tag: "AgentCallTimeout", after: Duration.millis(200) })

      const plain = yield* Colony.client(Clerk)
      const scoped = yield* Effect.flip(plain("c7").Hold().pipe(Colony.withCallTimeout("250 millis")))
      expect(scoped).toMatchObject({ _tag: "AgentCallTimeout", after: Duration.millis(250) })

      const named = yield* Effect.flip(Colony.send("clerk", "c8", "Hold", undefined, { timeout: "150 millis" }))
      expect(named).toMatchObject({ _tag: "AgentCallTimeout", after: Duration.millis(150) })
    }).pipe(Effect.provide(colony())))
})

// Two agents whose handlers wait on each other: each mailbox is serial, so north's Start holds
// north while south's Bounce waits for north's Ping.
const Ping = Rpc.make("Ping", { success: Schema.String })
const Start = Rpc.make("Start", { success: Schema.String, error: AgentError.AgentCallTimeout })
const Bounce = Rpc.make("Bounce", { success: Schema.String, error: AgentError.AgentCallTimeout })
const North = Agent.make({ name: "north", protocol: [Ping, Start] })
const South = Agent.make({ name: "south", protocol: [Bounce] })
// A handler passes a timeout on as its own typed failure; anything else would be a bug here.
const timeoutsOnly = <A, E extends { readonly _tag: string }, R>(call: Effect.Effect<A, E, R>) =>
  Effect.catchAll(call, (error) => error instanceof AgentError.AgentCallTimeout ? Effect.fail(error) : Effect.die(error))
const NorthLive = Agent.toLayer(North, {
  Ping: () => Effect.succeed("pong"),
  Start: (_, agent) => timeoutsOnly(Effect.flatMap(Colony.client(South), (south) => south(agent.id).Bounce()))
})
const SouthLive = Agent.toLayer(South, {
  Bounce: (_, agent) => timeoutsOnly(Effect.flatMap(Colony.client(North), (north) => north(agent.id).Ping()))
})

describe("agents calling each other", () => {
  it.live("a cycle of calls between two agents ends in a typed AgentCallTimeout instead of hanging both, and both answer afterwards", () =>
    Effect.gen(function*() {
      const north = yield* Colony.client(North)
      const started = Date.now()
      const error = yield* Effect.flip(north("n1").Start())
      expect(error).toBeInstanceOf(AgentError.AgentCallTimeout)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(yield* north("n1").Ping()).toBe("pong")
    }).pipe(
      Effect.provide(
        Layer.mergeAll(NorthLive, SouthLive).pipe(
          Layer.provideMerge(Colony.layerEmbedded({ settings: { callTimeout: Duration.millis(300) } }))
        )
      )
    ))
})
