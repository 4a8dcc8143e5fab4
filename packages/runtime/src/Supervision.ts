/**
 * What happens when an agent's handler dies. The restart itself is the cluster's: a defect makes
 * `@effect/cluster` tear the entity down, rebuild it and replay the message that was in flight.
 * This module adds the policy on top of that mechanism: how long to wait before the rebuild
 * (exponential backoff) and how many restarts a window allows before the caller gets
 * `AgentFailed` instead of another replay.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Context, Duration, Effect, Layer, Option, Schedule } from "effect"
import { AgentFailed, describeDefect } from "./AgentError.js"
import * as Events from "./Events.js"

/**
 * A restart policy: at most `maxRestarts` restarts within `window`; before restart *n* (counted
 * within the window, from 1) wait `initialBackoff × factor^(n-1)`, capped at `maxBackoff`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy {
  readonly maxRestarts: number
  readonly window: Duration.Duration
  readonly initialBackoff: Duration.Duration
  readonly maxBackoff: Duration.Duration
  readonly factor: number
}

/**
 * The options a user gives in `Agent.make({ supervision })`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PolicyOptions {
  readonly maxRestarts?: number | undefined
  readonly window?: Duration.DurationInput | undefined
  readonly initialBackoff?: Duration.DurationInput | undefined
  readonly maxBackoff?: Duration.DurationInput | undefined
  readonly factor?: number | undefined
}

/**
 * Three restarts a minute, starting at 100 ms and doubling up to 10 s.
 *
 * @since 0.1.0
 */
export const defaultPolicy: Policy = {
  maxRestarts: 3,
  window: Duration.minutes(1),
  initialBackoff: Duration.millis(100),
  maxBackoff: Duration.seconds(10),
  factor: 2
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const policy = (options: PolicyOptions = {}): Policy => ({
  maxRestarts: options.maxRestarts ?? defaultPolicy.maxRestarts,
  window: options.window === undefined ? defaultPolicy.window : Duration.decode(options.window),
  initialBackoff: options.initialBackoff === undefined
    ? defaultPolicy.initialBackoff
    : Duration.decode(options.initialBackoff),
  maxBackoff: options.maxBackoff === undefined ? defaultPolicy.maxBackoff : Duration.decode(options.maxBackoff),
  factor: options.factor ?? defaultPolicy.factor
})

/**
 * The wait before restart number `restart` (1-based, within the window).
 *
 * @since 0.1.0
 */
export const backoff = (policy: Policy, restart: number): Duration.Duration => {
  const millis = Duration.toMillis(policy.initialBackoff) * Math.pow(policy.factor, Math.max(0, restart - 1))
  return Duration.min(Duration.millis(millis), policy.maxBackoff)
}

/**
 * The schedule handed to the cluster as the entity's `defectRetryPolicy`. It never delays and
 * never stops: the delay is applied per agent instance when the entity is rebuilt (the cluster's
 * own schedule is shared by every instance of a type), and the limit is applied by answering the
 * caller with `AgentFailed` rather than by starving the cluster's retry loop.
 *
 * @since 0.1.0
 */
export const clusterRetryPolicy: Schedule.Schedule<unknown, unknown> = Schedule.forever

interface Record {
  /** restart times (epoch ms) still inside the window */
  restarts: Array<number>
  /** set when a defect asked for a restart that has not happened yet */
  pending: { readonly defect: string } | undefined
  /** the window of the policy that recorded it, in ms */
  window: number
}

/**
 * How often, at most, the supervisor looks through its records for instances that have had no
 * defect for longer than their policy's window. Between sweeps a record outlives its window by at
 * most this much; sweeping on every defect would cost time proportional to the records on each.
 *
 * @since 0.1.0
 */
export const sweepInterval: Duration.Duration = Duration.seconds(10)

/**
 * The decision taken for a defect.
 *
 * @since 0.1.0
 */
export type Decision =
  | { readonly _tag: "Restart"; readonly restart: number }
  | { readonly _tag: "GiveUp"; readonly restarts: number }

/**
 * Restart bookkeeping for the agents of one process, keyed by agent address.
 *
 * @since 0.1.0
 * @category tags
 */
export class Supervisor extends Context.Tag("@colony/runtime/Supervisor")<Supervisor, {
  /** Decide what a defect in a handler leads to, and record it. */
  readonly onDefect: (key: string, policy: Policy, defect: unknown) => Effect.Effect<Decision>
  /** Called when an agent instance is (re)built: waits out the backoff if this is a restart. */
  readonly onStart: (key: string, policy: Policy) => Effect.Effect<
    { readonly restart: number; readonly delay: Duration.Duration; readonly defect: string } | undefined
  >
  /** How many agent instances have restart records: those with a defect inside their window. */
  readonly tracked: Effect.Effect<number>
}>() {}

/**
 * Records are kept per agent instance while it has a defect inside its policy's window; an instance that has had none for longer than the window is forgotten,
 * which is what its next defect would find anyway. So the records stay as many as the instances
 * that failed recently, however many have failed over the life of the process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Supervisor> = Layer.sync(Supervisor, () => {
  const records = new Map<string, Record>()
  let swept = 0

  const prune = (record: Record, now: number) => {
    const horizon = now - record.window
    record.restarts = record.restarts.filter((at) => at > horizon)
  }

  const sweep = (now: number) => {
    if (now - swept < Duration.toMillis(sweepInterval)) return
    swept = now
    // a restart still pending after the window will not be waited for: the defect is too old
    for (const [key, record] of records) {
      prune(record, now)
      if (record.restarts.length === 0) records.delete(key)
    }
  }

  return {
    onDefect: (key, policy, defect) =>
      Effect.map(Clock.currentTimeMillis, (now): Decision => {
        sweep(now)
        const record = records.get(key) ?? { restarts: [], pending: undefined, window: 0 }
        record.window = Duration.toMillis(policy.window)
        records.set(key, record)
        prune(record, now)
        if (record.restarts.length >= policy.maxRestarts) {
          return { _tag: "GiveUp", restarts: record.restarts.length }
        }
        record.restarts.push(now)
        record.pending = { defect: describeDefect(defect) }
        return { _tag: "Restart", restart: record.restarts.length }
      }),
    onStart: (key, policy) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        sweep(now)
        const record = records.get(key)
        if (record === undefined) return Effect.succeed(undefined)
        const pending = record.pending
        if (pending === undefined) {
          if (record.restarts.length === 0) records.delete(key)
          return Effect.succeed(undefined)
        }
        record.pending = undefined
        const restart = record.restarts.length
        const delay = backoff(policy, restart)
        return Effect.as(Effect.sleep(delay), { restart, delay, defect: pending.defect })
      }),
    tracked: Effect.sync(() => records.size)
  }
})

/**
 * The supervisor's answer to `defect` in the instance `agent/id`: die again, so the cluster
 * rebuilds the entity (after the policy's backoff), or, past the policy's limit, announce that it
 * gave up and fail with `AgentFailed`.
 */
const decide = (
  options: { readonly agent: string; readonly id: string; readonly rpc: string; readonly policy: Policy },
  defect: unknown
): Effect.Effect<never, AgentFailed, Supervisor> =>
  Effect.gen(function*() {
    const supervisor = yield* Supervisor
    const decision = yield* supervisor.onDefect(`${options.agent}/${options.id}`, options.policy, defect)
    if (decision._tag === "Restart") return yield* Effect.die(defect)
    yield* Events.publish(
      new Events.AgentGaveUp({
        agent: options.agent,
        id: options.id,
        at: yield* Events.now,
        rpc: options.rpc,
        restarts: decision.restarts,
        defect: describeDefect(defect)
      })
    )
    return yield* new AgentFailed({
      agent: options.agent,
      id: options.id,
      rpc: options.rpc,
      restarts: decision.restarts,
      defect
    })
  })

/**
 * Run a handler under supervision: a defect either restarts the agent (the defect is passed on
 * to the cluster, which rebuilds the entity and replays the message) or, past the policy's limit,
 * becomes an `AgentFailed` reply.
 *
 * @since 0.1.0
 */
export const supervise = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: {
    readonly agent: string
    readonly id: string
    readonly rpc: string
    readonly policy: Policy
  }
): Effect.Effect<A, E | AgentFailed, R | Supervisor> => Effect.catchAllDefect(effect, (defect) => decide(options, defect))

/**
 * Build an agent instance under supervision. A defect while building (its memory could not be
 * loaded, a bug) counts as a restart of the instance: it waits out the policy's backoff before the
 * next build, and past the policy's limit the instance is built as `refuse` gives it, answering
 * every message with `AgentFailed` instead of being rebuilt again. A typed failure of the build
 * (such as memory that no longer decodes) is not something a rebuild fixes: it goes to `refuse`
 * at once. Either way the cluster's own build retry, which has no delay, never spins.
 *
 * @since 0.1.0
 */
export const superviseBuild = <H, E, R>(
  build: Effect.Effect<H, E, R>,
  options: {
    readonly agent: string
    readonly id: string
    readonly policy: Policy
    readonly refuse: (error: E | AgentFailed) => H
  }
): Effect.Effect<H, never, R | Supervisor> =>
  Effect.catchAllCause(build, (cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) return Effect.succeed(options.refuse(failure.value))
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    return decide({ ...options, rpc: "(start)" }, Cause.squash(cause)).pipe(
      Effect.catchAll((failed) => Effect.succeed(options.refuse(failed)))
    )
  })
