/**
 * The sessions this gateway started, for `ListSessions`: which collaboration, on what task, when,
 * and how each run ended. It holds no events. Following a run needs no copy of its stream here:
 * the session entity's `Run` follows from before the run starts, so a caller misses no early
 * event, and its `Watch` replays the run from its start, each follower bounded. What only the
 * gateway can keep is the list itself: the cluster has no index of sessions, and a session entity
 * knows neither its task nor when it started, and forgets its run once it is passivated.
 *
 * @since 0.1.0
 */
import { Broadcast, type Collaboration, Session } from "@colony/agents"
import type { AgentError } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Cause, Clock, Context, Effect, Layer, Option, Stream } from "effect"
import { SessionSummary } from "./GatewayRpcs.js"

type RunError =
  | Session.SessionBusy
  | Session.SessionCancelled
  | AgentError.UnknownAgent
  | AgentError.AgentUnavailable
  | Broadcast.FollowerOverflow

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

/**
 * How the gateway asks where a session is: `Session.status`.
 *
 * @since 0.1.0
 * @category models
 */
export type Status<R> = (session: string) => Effect.Effect<Session.SessionStatus, AgentError.AgentUnavailable, R>

type Ended = Pick<SessionSummary, "state" | "events" | "reason">

interface Entry {
  readonly session: string
  readonly pattern: string
  readonly task: string
  readonly startedAt: number
  events: number
  ended: Ended | undefined
}

/**
 * How many sessions a gateway remembers.
 *
 * @since 0.1.0
 */
export const retained = 1000

/**
 * @since 0.1.0
 * @category tags
 */
export class SessionLog extends Context.Tag("@colony/apps/SessionLog")<SessionLog, {
  /** run a collaboration in the cluster, remembered as started by this gateway */
  readonly start: (
    session: string,
    collaboration: Collaboration.Collaboration,
    task: string
  ) => Stream.Stream<Session.Progress, RunError>
  /** the sessions this gateway started, most recent first */
  readonly list: Effect.Effect<ReadonlyArray<SessionSummary>>
}>() {}

// What a run's stream tells of its end. A caller that left or fell behind (FollowerOverflow) saw
// no end, since the run goes on without it: `Status` is asked when the session is listed.
const endOf = (cause: Cause.Cause<RunError>, events: number): Ended | undefined => {
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) return Cause.isInterruptedOnly(cause) ? undefined : { state: "failed", events, reason: "defect" }
  if (failure.value._tag === "FollowerOverflow") return undefined
  if (failure.value._tag === "SessionCancelled") return { state: "cancelled", events, reason: failure.value.message }
  return { state: "failed", events, reason: failure.value.message }
}

const fromStatus = (status: Session.SessionStatus): Ended | undefined =>
  status.state === "running" || status.state === "idle"
    ? undefined
    : { state: status.state, events: status.events, ...(status.reason === undefined ? {} : { reason: status.reason }) }

/**
 * A session log that runs collaborations with `run` and asks `status` for the runs whose end it
 * did not see.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R>(run: Run<R>, status: Status<R>): Effect.Effect<Context.Tag.Service<SessionLog>, never, R> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const entries = new Map<string, Entry>()
    // the oldest ended sessions go first; a run whose end was never seen cannot hold the log open
    const forget = () => {
      for (const pass of [true, false]) {
        for (const [id, entry] of entries) {
          if (entries.size <= retained) return
          if (!pass || entry.ended !== undefined) entries.delete(id)
        }
      }
    }

    const start = (session: string, collaboration: Collaboration.Collaboration, task: string) =>
      Stream.unwrap(Effect.gen(function*() {
        const entry: Entry = {
          session,
          pattern: collaboration._tag,
          task,
          startedAt: yield* Clock.currentTimeMillis,
          events: 0,
          ended: undefined
        }
        // listed once the run has started: one refused (SessionBusy) leaves the running one listed
        let listed = false
        const remember = () => {
          if (listed) return
          listed = true
          entries.delete(session)
          entries.set(session, entry)
          forget()
        }
        return run(session, collaboration, task).pipe(
          Stream.tap((progress) =>
            Effect.sync(() => {
              remember()
              if (progress instanceof Session.Finished) entry.ended = { state: "completed", events: entry.events }
              else entry.events += 1
            })
          ),
          Stream.tapErrorCause((cause) =>
            Effect.sync(() => {
              if (Option.exists(Cause.failureOption(cause), (error) => error._tag === "SessionBusy")) return
              remember()
              entry.ended = endOf(cause, entry.events)
            })
          ),
          Stream.provideContext(context)
        )
      }))

    const summary = (entry: Entry, ended: Ended | undefined) =>
      new SessionSummary({
        session: entry.session,
        pattern: entry.pattern,
        task: entry.task,
        startedAt: entry.startedAt,
        ...(ended ?? { state: "running", events: entry.events })
      })

    const resolve = (entry: Entry) =>
      entry.ended !== undefined ? Effect.succeed(summary(entry, entry.ended)) : status(entry.session).pipe(
        Effect.map((now) => {
          entry.ended = fromStatus(now)
          return summary(entry, entry.ended ?? { state: "running", events: Math.max(entry.events, now.events) })
        }),
        Effect.orElseSucceed(() => summary(entry, undefined))
      )

    return SessionLog.of({
      start,
      list: Effect.suspend(() => Effect.forEach([...entries.values()].reverse(), resolve, { concurrency: 16 })).pipe(
        Effect.provide(context)
      )
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SessionLog, never, Sharding> = Layer.effect(SessionLog, make(Session.run, Session.status))
