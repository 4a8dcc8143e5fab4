/**
 * A session runs one collaboration inside an `@effect/cluster` entity, so the caller can be in
 * another process: `Run` streams the session's Lamport-stamped events as they happen and ends with
 * the `Result`; `Status` and `Cancel` reach the same session while it runs. A session id runs one
 * collaboration at a time; the run belongs to the session, not to the caller's stream, so a caller
 * that goes away does not stop it (`Cancel` does). A session is not passivated while it runs,
 * however long its agents take, and stays readable for its idle time after the run ends.
 *
 * <!-- snippet: declare const pattern: Collaboration.Collaboration, task: string -->
 * ```ts
 * const result = yield* Session.result("launch-42", pattern, "Plan the launch: …")
 * // or, live:
 * yield* Session.run("launch-42", pattern, task).pipe(Stream.runForEach((p) => Console.log(p)))
 * ```
 *
 * Every agent call inside a run is a step with a stable key (`subtask-2/attempt-1`,
 * `team-a/round-2/red/p1`): on durable storage each step can become a workflow activity, so a
 * session resumed after a crash does not ask an agent twice.
 *
 * @since 0.1.0
 */
import * as ClusterError from "@effect/cluster/ClusterError"
import * as Entity from "@effect/cluster/Entity"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { AgentError, type Colony } from "@colony/runtime"
import { Cause, Duration, Effect, Exit, Fiber, Layer, Option, Ref, Schema, Stream } from "effect"
import * as Broadcast from "./Broadcast.js"
import { Collaboration, Result, Stamped } from "./Collaboration.js"
import * as engine from "./internal/engine.js"

/**
 * The entity type sessions run as.
 *
 * @since 0.1.0
 */
export const entityType = engine.SESSION_TYPE

/**
 * The last element of a run's stream: the result.
 *
 * @since 0.1.0
 * @category models
 */
export class Finished extends Schema.TaggedClass<Finished>()("Finished", { result: Result }) {}

/**
 * What a run streams: stamped events, then `Finished`.
 *
 * @since 0.1.0
 * @category models
 */
export const Progress = Schema.Union(Stamped, Finished)

/**
 * @since 0.1.0
 * @category models
 */
export type Progress = typeof Progress.Type

/**
 * The session is already running a collaboration.
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionBusy extends Schema.TaggedError<SessionBusy>()("SessionBusy", { session: Schema.String }) {
  override get message() {
    return `session "${this.session}" is already running a collaboration. Wait for it (Status), cancel it ` +
      `(Cancel), or run this one under another session id.`
  }
}

/**
 * The run was cancelled before it finished.
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionCancelled extends Schema.TaggedError<SessionCancelled>()("SessionCancelled", {
  session: Schema.String
}) {
  override get message() {
    return `session "${this.session}" was cancelled before it finished; its events so far were streamed. ` +
      `Run it again to get a result.`
  }
}

/**
 * Run a collaboration on a task; streams its events, then `Finished`. The caller follows the run
 * as a watcher does: one that leaves `Broadcast.capacity` items unread is ended with
 * `Broadcast.FollowerOverflow`, while the run goes on (`Watch` replays it from its start).
 *
 * @since 0.1.0
 * @category protocol
 */
export const Run = Rpc.make("Run", {
  payload: { collaboration: Collaboration, task: Schema.String },
  success: Progress,
  error: Schema.Union(SessionBusy, SessionCancelled, AgentError.UnknownAgent, Broadcast.FollowerOverflow),
  stream: true
})

/**
 * Where a session is. `clock` is its logical time and `events` how many it recorded in its
 * current or last run; `result` is there once it completed. A session that was passivated after
 * being idle reports `idle` (it keeps no state across activations until sessions are durable).
 *
 * @since 0.1.0
 * @category models
 */
export class SessionStatus extends Schema.Class<SessionStatus>("@colony/agents/SessionStatus")({
  session: Schema.String,
  state: Schema.Literal("idle", "running", "completed", "failed", "cancelled"),
  pattern: Schema.optional(Schema.String),
  clock: Schema.Number,
  events: Schema.Number,
  result: Schema.optional(Result),
  reason: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category protocol
 */
export const Status = Rpc.make("Status", { success: SessionStatus })

/**
 * Cancel the running collaboration; `true` if one was running.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Cancel = Rpc.make("Cancel", { success: Schema.Boolean })

/**
 * Follow the session's current (or last) run from anywhere in the colony: the events recorded so
 * far, then the rest as they happen, ending with `Finished`. A run that fails or is cancelled ends
 * the stream early (ask `Status` why); a session that has not run streams nothing. A watcher that
 * leaves `Broadcast.capacity` items unread is ended with `Broadcast.FollowerOverflow`; watching
 * again replays the run from its start.
 *
 * @since 0.1.0
 * @category protocol
 */
export const Watch = Rpc.make("Watch", { success: Progress, error: Broadcast.FollowerOverflow, stream: true })

/**
 * The session entity.
 *
 * @since 0.1.0
 * @category entities
 */
export const Session = Entity.make(engine.SESSION_TYPE, [Run, Status, Cancel, Watch])

type RunError = SessionBusy | SessionCancelled | AgentError.UnknownAgent

/** how long a session without a run or a request stays active */
const maxIdleTime = Duration.minutes(10)

type State =
  | { readonly _tag: "idle" }
  | { readonly _tag: "running"; readonly pattern: string; readonly fiber: Fiber.Fiber<unknown, unknown> | undefined }
  | { readonly _tag: "completed"; readonly pattern: string; readonly result: Result }
  | { readonly _tag: "failed" | "cancelled"; readonly pattern: string; readonly reason: string }

// the log is kept for the run's life, so a watcher that was ended misses nothing by watching again
const resume = "watch the session again: it replays the run from its start"
const resumeRun = "the run goes on: watch the session to follow it, replayed from its start"

// What the broadcast of a run carries: each item with its position in the log, then the end of
// the run (no item), with the failure a run that did not complete ended with.
interface Logged {
  readonly index: number
  readonly item: Progress | undefined
  readonly failure?: Cause.Cause<RunError> | undefined
}

/**
 * Host sessions in this process. Sessions call agents through the colony, so the process needs
 * the colony's services; a `LoadTracker` in the context is shared with least-loaded assignment.
 * Each watcher of a run buffers at most `followerBuffer` items (default `Broadcast.capacity`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: { readonly followerBuffer?: number | undefined } = {}
): Layer.Layer<never, never, Colony.Services | Sharding> => Session.toLayer(
  Effect.gen(function*() {
    const id = (yield* Entity.CurrentAddress).entityId as string
    const context = yield* Effect.context<Colony.Services | Sharding>()
    const scope = yield* Effect.scope
    const state = yield* Ref.make<State>({ _tag: "idle" })
    const progress = yield* Ref.make({ clock: 0, events: 0 })
    const lock = yield* Effect.makeSemaphore(1)
    // What watchers replay and follow: the run's progress so far, and each new item (or the end of
    // the run) with its position, so a watcher joining mid-run neither misses nor repeats one. Each
    // watcher buffers at most `options.followerBuffer` items, whatever the length of the run.
    let log: Array<Progress> = []
    const hub = yield* Broadcast.make<Logged>({ capacity: options.followerBuffer, name: "session" })
    const record = (item: Progress) =>
      Effect.suspend(() => {
        log.push(item)
        return hub.publish({ index: log.length - 1, item })
      })
    const endOfRun = (failure: Cause.Cause<RunError>) => Effect.suspend(() => hub.publish({ index: log.length, item: undefined, failure }))

    // A detached run has no request in flight to keep its session active, and the cluster
    // passivates an entity that has handled no request for `maxIdleTime`, stopping the run. So
    // while a run is under way the session asks itself its `Status` every half idle time, and once
    // more when the run ends, so its result stays readable for the idle time after. (The cluster's
    // `Entity.keepAlive` holds a persisted message open instead, which a runner waits on when it
    // shuts down and which is replayed into a new activation after a crash.)
    const touch = Effect.flatMap(Session.client, (client) => client(id).Status()).pipe(
      Effect.provide(context),
      Effect.ignore
    )
    const keepActive = touch.pipe(Effect.delay(Duration.times(maxIdleTime, 0.5)), Effect.forever)

    const start = (collaboration: Collaboration, task: string) =>
      Effect.gen(function*() {
        const current = yield* Ref.get(state)
        if (current._tag === "running") return yield* new SessionBusy({ session: id })
        yield* Ref.set(progress, { clock: 0, events: 0 })
        log = []
        yield* Ref.set(state, { _tag: "running", pattern: collaboration._tag, fiber: undefined })
        const finish = (exit: Exit.Exit<Result, AgentError.UnknownAgent>) =>
          Exit.match(exit, {
            onSuccess: (result) =>
              // recorded before the state says completed: a watcher that sees "completed" has it
              Effect.zipRight(
                record(new Finished({ result })),
                Ref.set(state, { _tag: "completed", pattern: collaboration._tag, result })
              ),
            onFailure: (cause) => {
              const cancelled = Cause.isInterruptedOnly(cause)
              const failure = Cause.failureOption(cause)
              const reason = cancelled ? "cancelled" : failure._tag === "Some" ? failure.value.message : Cause.pretty(cause)
              return Effect.zipRight(
                Ref.set(state, { _tag: cancelled ? "cancelled" : "failed", pattern: collaboration._tag, reason }),
                endOfRun(
                  cancelled
                    ? Cause.fail(new SessionCancelled({ session: id }))
                    : failure._tag === "Some"
                    ? Cause.fail(failure.value)
                    : Cause.die(Cause.squash(cause))
                )
              )
            }
          })
        const fiber = yield* engine.execute(collaboration, task, {
          session: id,
          onEvent: (event) =>
            Effect.zipRight(Ref.update(progress, (p) => ({ clock: event.stamp.time, events: p.events + 1 })), record(event))
        }).pipe(
          Effect.raceFirst(keepActive),
          Effect.onExit((exit) => Effect.zipRight(finish(exit), Effect.forkIn(touch, scope))),
          Effect.provide(context),
          Effect.forkIn(scope)
        )
        yield* Ref.set(state, { _tag: "running", pattern: collaboration._tag, fiber })
      })

    return Session.of({
      // The caller follows from before the run starts, so it misses no item; its buffer is bounded
      // like a watcher's, and what the run keeps is the log, whatever the caller reads.
      Run: ({ payload }) =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const live = yield* hub.follow({ resume: resumeRun })
          yield* lock.withPermits(1)(start(payload.collaboration, payload.task))
          return live.pipe(
            Stream.takeUntil(({ item }) => item === undefined || item instanceof Finished),
            Stream.flatMap(({ failure, item }): Stream.Stream<Progress, RunError> =>
              item !== undefined ? Stream.succeed(item) : failure !== undefined ? Stream.failCause(failure) : Stream.empty
            )
          )
        })),
      Status: () =>
        Effect.gen(function*() {
          const s = yield* Ref.get(state)
          const { clock, events } = yield* Ref.get(progress)
          return new SessionStatus({
            session: id,
            state: s._tag,
            clock,
            events,
            ...(s._tag === "idle" ? {} : { pattern: s.pattern }),
            ...(s._tag === "completed" ? { result: s.result } : {}),
            ...(s._tag === "failed" || s._tag === "cancelled" ? { reason: s.reason } : {})
          })
        }),
      Watch: () =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const live = yield* hub.follow({ resume })
          const seen = log.slice()
          const running = (yield* Ref.get(state))._tag === "running"
          const rest = live.pipe(
            Stream.filter(({ index }) => index >= seen.length),
            Stream.takeUntil(({ item }) => item === undefined || item instanceof Finished),
            Stream.filterMap(({ item }) => Option.fromNullable(item))
          )
          return Stream.concat(Stream.fromIterable(seen), running ? rest : Stream.empty)
        })),
      Cancel: () =>
        lock.withPermits(1)(Effect.gen(function*() {
          const s = yield* Ref.get(state)
          if (s._tag !== "running" || s.fiber === undefined) return false
          yield* Fiber.interrupt(s.fiber)
          return true
        }))
    })
  }),
  // Status and Cancel must be answered while Run streams; one run at a time is enforced above.
  { concurrency: "unbounded", maxIdleTime }
)

/**
 * `layerWith` with its defaults.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Colony.Services | Sharding> = layerWith()

// --- clients ---

const unavailable = (session: string) => (error: ClusterError.MailboxFull | ClusterError.AlreadyProcessingMessage | ClusterError.PersistenceError) =>
  new AgentError.AgentUnavailable({ agent: engine.SESSION_TYPE, id: session, reason: error._tag })

/**
 * Run a collaboration in session `session` wherever the cluster hosts it, streaming its progress.
 *
 * @since 0.1.0
 */
export const run = (
  session: string,
  collaboration: Collaboration,
  task: string
): Stream.Stream<Progress, RunError | AgentError.AgentUnavailable | Broadcast.FollowerOverflow, Sharding> =>
  Stream.unwrap(
    Effect.map(Session.client, (client) =>
      client(session).Run({ collaboration, task }).pipe(
        Stream.mapError((error) =>
          error instanceof ClusterError.MailboxFull || error instanceof ClusterError.AlreadyProcessingMessage ||
            error instanceof ClusterError.PersistenceError
            ? unavailable(session)(error)
            : error
        )
      ))
  )

/**
 * Run a collaboration in a session and wait for its result.
 *
 * @since 0.1.0
 */
export const result = (
  session: string,
  collaboration: Collaboration,
  task: string
): Effect.Effect<Result, RunError | AgentError.AgentUnavailable | Broadcast.FollowerOverflow, Sharding> =>
  run(session, collaboration, task).pipe(
    Stream.filter((p): p is Finished => p instanceof Finished),
    Stream.runLast,
    Effect.flatMap((last) =>
      last._tag === "Some" ? Effect.succeed(last.value.result) : Effect.fail(new SessionCancelled({ session }))
    )
  )

/**
 * Where session `session` is.
 *
 * @since 0.1.0
 */
export const status = (session: string): Effect.Effect<SessionStatus, AgentError.AgentUnavailable, Sharding> =>
  Effect.flatMap(Session.client, (client) => Effect.mapError(client(session).Status(), unavailable(session)))

/**
 * Cancel the run of session `session`; `true` if one was running.
 *
 * @since 0.1.0
 */
export const cancel = (session: string): Effect.Effect<boolean, AgentError.AgentUnavailable, Sharding> =>
  Effect.flatMap(Session.client, (client) => Effect.mapError(client(session).Cancel(), unavailable(session)))

/**
 * Follow session `session` from anywhere in the colony: its progress so far, then live, ending
 * with `Finished` (or early, if the run fails or is cancelled). A watcher that reads too slowly
 * is ended with `Broadcast.FollowerOverflow`; watching again replays the run from its start.
 *
 * @since 0.1.0
 */
export const watch = (
  session: string
): Stream.Stream<Progress, AgentError.AgentUnavailable | Broadcast.FollowerOverflow, Sharding> =>
  Stream.unwrap(
    Effect.map(Session.client, (client) =>
      client(session).Watch().pipe(
        Stream.mapError((error) => error instanceof Broadcast.FollowerOverflow ? error : unavailable(session)(error))
      ))
  )
