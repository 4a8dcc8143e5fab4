/**
 * The events a run forwards from its participants: their model calls and restarts, which agents
 * publish on the process's event bus before they reply.
 *
 * Runs in progress share one subscription to the bus (per bus), opened by the first and closed by
 * the last: with a subscription per run, every event of the process was queued once per run in
 * progress and looked at by each of them. Whichever run drains takes what the bus queued and hands
 * each forwarded event to the runs whose participant published it, so a run still sees, after each
 * reply, the events its call caused.
 */
import { Events } from "@colony/runtime"
import { Effect, Exit, Queue, Schema, Scope } from "effect"

const forwarded = new Set(["ModelCalled", "AgentRestarted", "AgentGaveUp"])
const isRuntimeEvent = Schema.is(Events.RuntimeEvent)

interface Inbox {
  readonly pending: Array<Events.RuntimeEvent>
}

interface Feed {
  readonly bus: Events.Events["Type"]
  queue: Queue.Dequeue<Events.Event>
  readonly scope: Scope.CloseableScope
  /** the runs in progress, by the address (`type/id`) of each of their participants */
  readonly byAddress: Map<string, Set<Inbox>>
  runs: number
}

const feeds = new WeakMap<Events.Events["Type"], Feed>()

const pump = (feed: Feed): Effect.Effect<void> =>
  Effect.flatMap(Queue.takeAll(feed.queue), (events) => {
    let behind = false
    for (const e of events) {
      if (e._tag === "SubscriberFellBehind") behind = true
      if (!forwarded.has(e._tag) || !isRuntimeEvent(e)) continue
      const inboxes = feed.byAddress.get(`${e.agent}/${e.id}`)
      if (inboxes !== undefined) for (const inbox of inboxes) inbox.pending.push(e)
    }
    // The bus ended the subscription of a feed that fell behind (a busy process, a long agent
    // call): the events it dropped are lost to the runs in progress, later ones must not be.
    return behind
      ? Effect.map(Scope.extend(feed.bus.subscribe, feed.scope), (queue) => {
        feed.queue = queue
      })
      : Effect.void
  })

/** The bus's feed, opened if no run holds it; counts the caller as one more run holding it. */
const joinFeed = (bus: Events.Events["Type"]): Effect.Effect<Feed> =>
  Effect.suspend(() => {
    const open = feeds.get(bus)
    if (open !== undefined) {
      open.runs++
      return Effect.succeed(open)
    }
    return Effect.gen(function*() {
      const scope = yield* Scope.make()
      const queue = yield* Scope.extend(bus.subscribe, scope)
      // another run may have opened one while this one subscribed
      const raced = feeds.get(bus)
      if (raced !== undefined) {
        raced.runs++
        yield* Scope.close(scope, Exit.void)
        return raced
      }
      const feed: Feed = { bus, queue, scope, byAddress: new Map(), runs: 1 }
      feeds.set(bus, feed)
      return feed
    })
  })

/** Joins the run to its bus's feed for as long as the scope lives; the result drains its inbox. */
export const follow = (
  bus: Events.Events["Type"],
  who: ReadonlySet<string>
): Effect.Effect<Effect.Effect<ReadonlyArray<Events.RuntimeEvent>>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const feed = yield* joinFeed(bus)
      // what was published before the run joined is not the run's
      yield* pump(feed)
      const inbox: Inbox = { pending: [] }
      for (const address of who) {
        const inboxes = feed.byAddress.get(address)
        if (inboxes === undefined) feed.byAddress.set(address, new Set([inbox]))
        else inboxes.add(inbox)
      }
      return { feed, inbox }
    }),
    ({ feed, inbox }) =>
      Effect.suspend(() => {
        for (const address of who) {
          const inboxes = feed.byAddress.get(address)
          inboxes?.delete(inbox)
          if (inboxes?.size === 0) feed.byAddress.delete(address)
        }
        if (--feed.runs > 0) return Effect.void
        feeds.delete(bus)
        return Scope.close(feed.scope, Exit.void)
      })
  ).pipe(Effect.map(({ feed, inbox }) =>
    Effect.map(pump(feed), () => inbox.pending.splice(0, inbox.pending.length))
  ))
