/**
 * The sessions this gateway started, with their progress so far, so a run can be followed by any
 * number of watchers and outlives the request that started it. The run itself lives in the
 * cluster's `Session` entity; this is the gateway's copy of its stream.
 *
 * @since 0.1.0
 */
import { Broadcast, type Collaboration, Session } from "@colony/agents"
import type { AgentError } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Cause, Clock, Context, Effect, Exit, Layer, Option, type Scope, Stream } from "effect"
import { SessionSummary } from "./GatewayRpcs.js"

// The log reads its run at once, so the run's own bound (FollowerOverflow) is not reached in
// practice; its followers have theirs.
type RunError =
  | Session.SessionBusy
  | Session.SessionCancelled
  | AgentError.UnknownAgent
  | AgentError.AgentUnavailable
  | Broadcast.FollowerOverflow

/**
 * How a followed run can end badly: the run's own failures, or `Broadcast.FollowerOverflow` when
 * the follower read too slowly (its buffer of `Broadcast.capacity` items filled up).
 *
 * @since 0.1.0
 * @category models
 */
export type FollowError = RunError | Broadcast.FollowerOverflow

/**
 * How the gateway runs a collaboration: `Session.run`, the session entity in the cluster.
 *
 * @since 0.1.0
 * @category models
 */
export type Run<R> = (
  session: string,
  collaboration: Collaboration.Collaboration,
  task: string
) => Stream.Stream<Session.Progress, RunError, R>

type Item =
  | { readonly _tag: "Progress"; readonly index: number; readonly value: Session.Progress }
  | { readonly _tag: "End"; readonly exit: Exit.Exit<void, RunError> }

interface Entry {
  readonly session: string
  readonly pattern: string
  readonly task: string
  readonly startedAt: number
  readonly progress: Array<Session.Progress>
  exit: Exit.Exit<void, RunError> | undefined
  readonly hub: Broadcast.Broadcast<Item>
}

/**
 * How many finished sessions a gateway remembers.
 *
 * @since 0.1.0
 */
export const retained = 1000

/**
 * @since 0.1.0
 * @category tags
 */
export class SessionLog extends Context.Tag("@colony/apps/SessionLog")<SessionLog, {
  /** start a run in the cluster and follow it from its first event */
  readonly start: (
    session: string,
    collaboration: Collaboration.Collaboration,
    task: string
  ) => Stream.Stream<Session.Progress, FollowError>
  /** follow a run this gateway started; `None` if it did not start one under that id */
  readonly follow: (session: string) => Option.Option<Stream.Stream<Session.Progress, FollowError>>
  readonly list: Effect.Effect<ReadonlyArray<SessionSummary>>
  /** the live followers of every remembered run, what waits for them, and how many fell behind */
  readonly followers: Effect.Effect<Broadcast.Stats>
}>() {}

// the whole progress is kept for the run's life, so a new follower misses nothing
const resume = "call WatchSession again: it replays the session's progress from its start"

const followEntry = (entry: Entry): Stream.Stream<Session.Progress, FollowError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    // Subscribe before reading the backlog; items already in the backlog are skipped by index.
    const items = yield* entry.hub.follow({ resume })
    const backlog = entry.progress.slice()
    const done = entry.exit
    const replay = Stream.fromIterable(backlog)
    if (done !== undefined) return Stream.concat(replay, Exit.isSuccess(done) ? Stream.empty : Stream.failCause(done.cause))
    const live = items.pipe(
      Stream.takeUntil((item) => item._tag === "End"),
      Stream.flatMap((item): Stream.Stream<Session.Progress, FollowError> =>
        item._tag === "End"
          ? Exit.isSuccess(item.exit) ? Stream.empty : Stream.failCause(item.exit.cause)
          : item.index < backlog.length
          ? Stream.empty
          : Stream.succeed(item.value)
      )
    )
    return Stream.concat(replay, live)
  }))

/**
 * A session log that starts runs with `run`, in the scope it is made in; each follower buffers
 * at most `followerBuffer` items (default `Broadcast.capacity`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R>(
  run: Run<R>,
  options: { readonly followerBuffer?: number | undefined } = {}
): Effect.Effect<Context.Tag.Service<SessionLog>, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = yield* Effect.context<R>()
    const entries = new Map<string, Entry>()
    const forget = () => {
      if (entries.size <= retained) return
      for (const [id, entry] of entries) {
        if (entries.size <= retained) break
        if (entry.exit !== undefined) entries.delete(id)
      }
    }

    const start = (session: string, collaboration: Collaboration.Collaboration, task: string) =>
      Stream.unwrap(Effect.gen(function*() {
        const running = entries.get(session)
        if (running !== undefined && running.exit === undefined) return Stream.fail(new Session.SessionBusy({ session }))
        const entry: Entry = {
          session,
          pattern: collaboration._tag,
          task,
          startedAt: yield* Clock.currentTimeMillis,
          progress: [],
          exit: undefined,
          hub: yield* Broadcast.make<Item>({ capacity: options.followerBuffer, name: "session_log" })
        }
        entries.delete(session)
        entries.set(session, entry)
        forget()
        const follower = followEntry(entry)
        // The run is consumed in the gateway's scope, not the caller's: a caller that goes away
        // leaves it running for watchers, as the session entity itself does.
        yield* run(session, collaboration, task).pipe(
          Stream.runForEach((value) =>
            Effect.suspend(() => {
              entry.progress.push(value)
              return entry.hub.publish({ _tag: "Progress", index: entry.progress.length - 1, value })
            })
          ),
          Effect.exit,
          Effect.flatMap((exit) =>
            Effect.suspend(() => {
              entry.exit = exit
              return entry.hub.publish({ _tag: "End", exit })
            })
          ),
          Effect.provide(context),
          Effect.forkIn(scope)
        )
        return follower
      }))

    const followers = Effect.map(
      Effect.suspend(() => Effect.forEach([...entries.values()], (entry) => entry.hub.stats)),
      (all) =>
        all.reduce((sum, stats) => ({
          followers: sum.followers + stats.followers,
          buffered: sum.buffered + stats.buffered,
          overflowed: sum.overflowed + stats.overflowed
        }), { followers: 0, buffered: 0, overflowed: 0 })
    )

    return SessionLog.of({
      start,
      follow: (session) => Option.map(Option.fromNullable(entries.get(session)), followEntry),
      followers,
      list: Effect.sync(() =>
        [...entries.values()].reverse().map((entry) => {
          const failure = entry.exit !== undefined && Exit.isFailure(entry.exit)
            ? Option.getOrUndefined(Cause.failureOption(entry.exit.cause)) ?? "defect"
            : undefined
          const cancelled = typeof failure === "object" && failure._tag === "SessionCancelled"
          return new SessionSummary({
            session: entry.session,
            pattern: entry.pattern,
            task: entry.task,
            state: entry.exit === undefined ? "running" : failure === undefined ? "completed" : cancelled ? "cancelled" : "failed",
            events: entry.progress.length,
            startedAt: entry.startedAt,
            ...(failure === undefined ? {} : { reason: typeof failure === "object" ? failure.message : failure })
          })
        })
      )
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SessionLog, never, Sharding> = Layer.scoped(SessionLog, make(Session.run))
