/**
 * The sessions this gateway started, with their progress so far, so a run can be followed by any
 * number of watchers and outlives the request that started it. The run itself lives in the
 * cluster's `Session` entity; this is the gateway's copy of its stream.
 *
 * @since 0.1.0
 */
import { type Collaboration, Session } from "@colony/agents"
import type { AgentError } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Cause, Clock, Context, Effect, Exit, Layer, Option, PubSub, Stream } from "effect"
import { SessionSummary } from "./GatewayRpcs.js"

type RunError = Session.SessionBusy | Session.SessionCancelled | AgentError.UnknownAgent | AgentError.AgentUnavailable

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
  readonly hub: PubSub.PubSub<Item>
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
  ) => Stream.Stream<Session.Progress, RunError>
  /** follow a run this gateway started; `None` if it did not start one under that id */
  readonly follow: (session: string) => Option.Option<Stream.Stream<Session.Progress, RunError>>
  readonly list: Effect.Effect<ReadonlyArray<SessionSummary>>
}>() {}

const followEntry = (entry: Entry): Stream.Stream<Session.Progress, RunError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    // Subscribe before reading the backlog; items already in the backlog are skipped by index.
    const queue = yield* PubSub.subscribe(entry.hub)
    const backlog = entry.progress.slice()
    const done = entry.exit
    const replay = Stream.fromIterable(backlog)
    if (done !== undefined) return Stream.concat(replay, Exit.isSuccess(done) ? Stream.empty : Stream.failCause(done.cause))
    const live = Stream.fromQueue(queue).pipe(
      Stream.takeUntil((item) => item._tag === "End"),
      Stream.flatMap((item) =>
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
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SessionLog, never, Sharding> = Layer.scoped(
  SessionLog,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const entries = new Map<string, Entry>()
    const forget = () => {
      if (entries.size <= retained) return
      for (const [id, entry] of entries) {
        if (entries.size <= retained) break
        if (entry.exit !== undefined) entries.delete(id)
      }
    }
    const sharding = yield* Effect.context<Sharding>()

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
          hub: yield* PubSub.unbounded<Item>()
        }
        entries.delete(session)
        entries.set(session, entry)
        forget()
        const follower = followEntry(entry)
        // The run is consumed in the gateway's scope, not the caller's: a caller that goes away
        // leaves it running for watchers, as the session entity itself does.
        yield* Session.run(session, collaboration, task).pipe(
          Stream.runForEach((value) =>
            Effect.suspend(() => {
              entry.progress.push(value)
              return PubSub.publish(entry.hub, { _tag: "Progress", index: entry.progress.length - 1, value })
            })
          ),
          Effect.exit,
          Effect.flatMap((exit) =>
            Effect.suspend(() => {
              entry.exit = exit
              return PubSub.publish(entry.hub, { _tag: "End", exit })
            })
          ),
          Effect.provide(sharding),
          Effect.forkIn(scope)
        )
        return follower
      }))

    return SessionLog.of({
      start,
      follow: (session) => Option.map(Option.fromNullable(entries.get(session)), followEntry),
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
)
