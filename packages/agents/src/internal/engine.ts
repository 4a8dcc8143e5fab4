/**
 * The machinery that executes a `Collaboration`: the caller's fiber (`Collaboration.run`) and the
 * session entity (`Session`) both call `execute`. It sets up the run (its clock, its events, the
 * participants' events it forwards), runs the pattern and builds the `Result`; the patterns live
 * in their own modules.
 */
import { AgentError, Colony, Events } from "@colony/runtime"
import { Cause, Clock, Duration, Effect, Option, Ref, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import { LoadTracker, make as makeLoadTracker } from "../LoadTracker.js"
import * as LogicalClock from "../LogicalClock.js"
import * as SessionEvents from "../SessionEvents.js"
import { peer } from "./deliberation.js"
import { follow } from "./eventFeed.js"
import { hybrid } from "./hybrid.js"
import { masterSlave } from "./masterSlave.js"
import { type Collaboration, participants } from "./patterns.js"
import { Result, Stamped } from "./result.js"
import type { PatternOutcome, RunContext, RunOptions, RunServices, SessionMeta } from "./runContext.js"

export type { StepRunner } from "./runContext.js"

/** The entity type sessions run under; session events carry it as their `agent`. */
export const SESSION_TYPE = "colony-session"

export type ExecuteOptions = RunOptions

const validate = (collaboration: Collaboration) =>
  Effect.gen(function*() {
    const registered = yield* Colony.agents
    for (const ref of participants(collaboration)) {
      if (!registered.includes(ref.agent)) {
        return yield* new AgentError.UnknownAgent({ agent: ref.agent, registered })
      }
    }
  })

/** The context of a run of `collaboration` as session `session`, for as long as the scope lives. */
const makeRunContext = (
  collaboration: Collaboration,
  session: string,
  options: ExecuteOptions
): Effect.Effect<RunContext, never, Scope.Scope> =>
  Effect.gen(function*() {
    const clock = yield* Ref.make(LogicalClock.make(session))
    const lock = yield* Effect.makeSemaphore(1)
    const onEvent = options.onEvent ?? (() => Effect.void)
    const bus = yield* Effect.serviceOption(Events.Events)
    const who = new Set(participants(collaboration).map(String))
    const inbox = Option.isSome(bus) ? Option.some(yield* follow(bus.value, who)) : Option.none()
    const tracker = Option.getOrElse(yield* Effect.serviceOption(LoadTracker), makeLoadTracker)

    // The clock is ticked and the event handed on under one lock, so `onEvent` sees events in
    // logical-time order even when calls run concurrently.
    const stampAnd = (publish: boolean) => (event: (meta: SessionMeta) => SessionEvents.Event) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const now = yield* Ref.updateAndGet(clock, LogicalClock.tick)
        const at = yield* Clock.currentTimeMillis
        const e = event({ agent: SESSION_TYPE, id: session, at, clock: now.time })
        if (publish && Option.isSome(bus)) yield* bus.value.publish(e)
        yield* onEvent(new Stamped({ stamp: LogicalClock.stamp(now), event: e }, true))
      }))
    const forward = (event: Events.RuntimeEvent) => stampAnd(false)(() => event)
    // Agents publish their model calls and restarts on this process's bus before they reply, so
    // draining after each reply hands on the ones caused by that call (and any other participant
    // activity since). Agents hosted on other runners publish on their own bus and are not seen.
    const drain = Option.match(inbox, {
      onNone: () => Effect.void,
      onSome: (take) =>
        Effect.flatMap(take, (events) =>
          events.length === 0 ? Effect.void : Effect.forEach(events, forward, { discard: true }))
    })
    return {
      session,
      emit: stampAnd(true),
      drain,
      step: options.step ?? ((_key, effect) => effect),
      stableMessageIds: options.stableMessageIds ?? false,
      load: tracker,
      timeout: Duration.millis(("stepTimeoutMs" in collaboration ? collaboration.stepTimeoutMs : undefined) ?? 5 * 60 * 1000)
    }
  })

const runPattern = (ctx: RunContext, collaboration: Collaboration, task: string): Effect.Effect<PatternOutcome, never, RunServices> =>
  Effect.suspend(() => {
    switch (collaboration._tag) {
      case "MasterSlave":
        return masterSlave(ctx, collaboration, task)
      case "Peer":
        return peer(ctx, collaboration, task)
      case "Hybrid":
        return hybrid(ctx, collaboration, task)
    }
  })

const resultOf = (collaboration: Collaboration, outcome: PatternOutcome, session: string): Result => {
  const { abstentions, contributions, missing, votes } = outcome.records
  return new Result({
    pattern: collaboration._tag,
    answer: outcome.answer,
    simulated: contributions.some((c) => c.simulated),
    contributions,
    totalTokens: contributions.reduce((sum, c) => sum + c.totalTokens, 0),
    totalCost: contributions.reduce((sum, c) => sum + c.cost, 0),
    missing,
    complete: missing.length === 0,
    votes,
    abstentions,
    rounds: outcome.rounds,
    session
  }, true)
}

/** Run a collaboration; see `Collaboration.run`. */
export const execute = (collaboration: Collaboration, task: string, options: ExecuteOptions) =>
  Effect.gen(function*() {
    yield* validate(collaboration)
    // unique across processes: two runners' runs never share a session's events or agents
    const session = options.session ?? `direct-${randomUUID()}`
    const ctx = yield* makeRunContext(collaboration, session, options)
    yield* ctx.emit((m) => new SessionEvents.SessionStarted({ ...m, pattern: collaboration._tag, task }, true))
    const outcome = yield* runPattern(ctx, collaboration, task).pipe(
      Effect.onExit((exit) =>
        exit._tag === "Success"
          ? Effect.void
          : ctx.emit((m) =>
            new SessionEvents.SessionFailed({
              ...m,
              reason: Cause.isInterruptedOnly(exit.cause) ? "cancelled" : `the session died: ${Cause.pretty(exit.cause).split("\n")[0]}`
            }, true)
          )
      )
    )
    const result = resultOf(collaboration, outcome, session)
    const missing = result.missing.length
    yield* ctx.emit((m) =>
      new SessionEvents.SessionCompleted({ ...m, missing, totalTokens: result.totalTokens, summary: Events.summarize(result.answer) }, true)
    )
    return result
  }).pipe(Effect.scoped)
