/**
 * What the support pages watch, gathered from this process's `Events` bus: each conversation's
 * recent events (so a dashboard opened late still draws what happened) followed live, and the
 * load of each agent type (messages in flight and handled).
 *
 * A conversation's events are those whose id is the conversation id or starts with it and a "."
 * (its agents use the conversation id as their entity id, its collaboration sessions
 * `<conversation>.<...>`), which is the support desk's observability convention.
 *
 * The bus is per process: an embedded gateway sees every event of the agents it hosts; a
 * gateway in front of runners sees only what happens in its own process.
 *
 * @since 0.1.0
 */
import { Broadcast } from "@colony/agents"
import { Events } from "@colony/runtime"
import { Effect, Queue, Schema, type Scope, Stream } from "effect"

/**
 * An event with its place in this process's feed: a client that reconnects says the last number
 * it saw and misses nothing still remembered.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly seq: number
  readonly conversation: string
  readonly event: Events.Event
}

/**
 * Messages in flight and handled by one agent type, in this process.
 *
 * @since 0.1.0
 * @category models
 */
export interface Load {
  readonly agent: string
  readonly inFlight: number
  readonly handled: number
  readonly failed: number
}

/**
 * A conversation seen on the bus.
 *
 * @since 0.1.0
 * @category models
 */
export interface Seen {
  readonly id: string
  readonly lastAt: number
  readonly events: number
  /** the agent types (and session types) that worked on it */
  readonly agents: ReadonlyArray<string>
}

/**
 * A follower of a conversation read too slowly and was ended: `capacity` events waited unread.
 * It had received every event up to `lastSeq`; following again after `lastSeq` (an EventSource
 * reconnecting sends it as `Last-Event-ID` by itself) resumes with what is still remembered.
 *
 * @since 0.1.0
 * @category errors
 */
export class FellBehind extends Schema.TaggedError<FellBehind>()("FellBehind", {
  conversation: Schema.String,
  lastSeq: Schema.Int,
  capacity: Schema.Int
}) {
  override get message() {
    return `this reader of conversation "${this.conversation}" fell ${this.capacity} events behind, so its feed was ` +
      `ended after event ${this.lastSeq}; reconnect with Last-Event-ID: ${this.lastSeq} (or ?after=${this.lastSeq}) to resume`
  }
}

/**
 * The last frame of an event-stream feed that fell behind: `event: overflow` with `id:` the last
 * event sent, so the page can tell why the feed ended and the EventSource's reconnection resumes
 * after that event. Its data is `{ conversation, lastSeq, message }`.
 *
 * @since 0.1.0
 */
export const overflowFrame = (behind: FellBehind): string =>
  `event: overflow\nid: ${behind.lastSeq}\ndata: ${
    JSON.stringify({ conversation: behind.conversation, lastSeq: behind.lastSeq, message: behind.message })
  }\n\n`

/**
 * @since 0.1.0
 * @category models
 */
export interface Activity {
  /**
   * the conversation's remembered events after `after`, then its new ones as they happen; a
   * reader that leaves `Limits.followerBuffer` of them unread is ended with `FellBehind`
   */
  readonly follow: (conversation: string, after?: number) => Stream.Stream<Entry, FellBehind>
  /** the conversation's remembered events */
  readonly history: (conversation: string) => ReadonlyArray<Entry>
  readonly load: () => ReadonlyArray<Load>
  /** the conversations with events, most recent first */
  readonly conversations: () => ReadonlyArray<Seen>
  /** the live followers, the events waiting for them, and how many were ended for falling behind */
  readonly followers: Effect.Effect<Broadcast.Stats>
}

/**
 * The conversation an entity or session id belongs to.
 *
 * @since 0.1.0
 */
export const conversationOf = (id: string): string => {
  const dot = id.indexOf(".")
  return dot < 0 ? id : id.slice(0, dot)
}

/**
 * Whether `event` belongs to `conversation`, by the support desk's id convention.
 *
 * @since 0.1.0
 */
export const belongsTo = (event: Events.Event, conversation: string): boolean =>
  event.id === conversation || event.id.startsWith(`${conversation}.`)

/**
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /** events remembered per conversation (the oldest go first) */
  readonly eventsPerConversation: number
  /** conversations remembered (the least recently active go first) */
  readonly conversations: number
  /** events a follower may leave unread before its feed is ended (default `Broadcast.capacity`) */
  readonly followerBuffer?: number | undefined
}

// about 300 bytes an event: at most some 20 MB for the busiest process, and 300 KB per follower
const defaults: Limits = { eventsPerConversation: 300, conversations: 200, followerBuffer: Broadcast.capacity }

/**
 * Start watching the bus for as long as the scope lives.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (limits: Limits = defaults): Effect.Effect<Activity, never, Events.Events | Scope.Scope> =>
  Effect.gen(function*() {
    const bus = yield* Events.Events
    const hub = yield* Broadcast.make<Entry>({ capacity: limits.followerBuffer, name: "support_activity" })
    // Map iteration order is insertion order: re-inserting a conversation on each event keeps the
    // least recently active first, which is the one to forget.
    const histories = new Map<
      string,
      { lastAt: number; entries: Array<Entry>; total: number; agents: Set<string> }
    >()
    const loads = new Map<string, { inFlight: number; handled: number; failed: number }>()
    let seq = 0

    const count = (event: Events.Event) => {
      if (!(event instanceof Events.MessageReceived) && !(event instanceof Events.MessageHandled)) return
      const load = loads.get(event.agent) ?? { inFlight: 0, handled: 0, failed: 0 }
      if (event instanceof Events.MessageReceived) load.inFlight += 1
      else {
        // an event published before this feed started has no matching receipt: never go below 0
        load.inFlight = Math.max(0, load.inFlight - 1)
        load.handled += 1
        if (event.outcome !== "success") load.failed += 1
      }
      loads.set(event.agent, load)
    }

    const remember = (event: Events.Event): Entry => {
      const conversation = conversationOf(event.id)
      const entry: Entry = { seq: ++seq, conversation, event }
      const history = histories.get(conversation) ?? { lastAt: 0, entries: [], total: 0, agents: new Set<string>() }
      histories.delete(conversation)
      history.entries.push(entry)
      history.total += 1
      history.lastAt = event.at
      history.agents.add(event.agent)
      if (history.entries.length > limits.eventsPerConversation) history.entries.shift()
      histories.set(conversation, history)
      if (histories.size > limits.conversations) histories.delete(histories.keys().next().value!)
      return entry
    }

    const queue = yield* bus.subscribe
    yield* Queue.take(queue).pipe(
      Effect.flatMap((event) => {
        count(event)
        return hub.publish(remember(event))
      }),
      Effect.forever,
      Effect.forkScoped
    )

    const history = (conversation: string) => histories.get(conversation)?.entries ?? []

    return {
      history,
      // Subscribe before reading the history, then drop live entries the history already had:
      // nothing falls between the two, and nothing is sent twice.
      follow: (conversation, after = 0) =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const live = yield* hub.follow({ accept: (entry) => entry.conversation === conversation })
          const past = history(conversation).filter((entry) => entry.seq > after)
          const last = past.length === 0 ? after : past[past.length - 1]!.seq
          let sent = after
          return Stream.fromIterable(past).pipe(
            Stream.concat(Stream.filter(live, (entry) => entry.seq > last)),
            Stream.tap((entry) => Effect.sync(() => (sent = entry.seq))),
            Stream.mapError((overflow) => new FellBehind({ conversation, lastSeq: sent, capacity: overflow.capacity }))
          )
        })),
      followers: hub.stats,
      load: () =>
        [...loads].map(([agent, load]) => ({ agent, ...load })).sort((a, b) => a.agent.localeCompare(b.agent)),
      conversations: () =>
        [...histories].reverse().map(([id, history]) => ({
          id,
          lastAt: history.lastAt,
          events: history.total,
          agents: [...history.agents]
        }))
    }
  })
