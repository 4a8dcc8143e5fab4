/**
 * A collaboration run as an `@effect/workflow` workflow: every agent call is an activity whose
 * outcome is stored in the colony's message storage (Postgres on runners). When the runner
 * executing a session dies, the cluster moves the workflow to another runner and replays it: the
 * steps that had completed return their stored outcomes without asking their agents again, and
 * the run goes on from the first step that had not.
 *
 * <!-- snippet: declare const pattern: Collaboration.Collaboration -->
 * ```ts
 * const executionId = yield* DurableSession.start("launch-42", pattern, "Plan the launch: …")
 * const result = yield* DurableSession.result("launch-42", pattern, "Plan the launch: …")
 * ```
 *
 * A session id names one durable run: starting the same session again with the same collaboration
 * and task joins the run already under way (or returns its result), it does not start a second
 * one. Another collaboration or task under a session id already used is a `SessionConflict`, not
 * the earlier run's result.
 *
 * Steps that were in flight when the runner died are asked again; with durable agents
 * (`Agent.make({ durable: true })`) the repeated question carries the same message id, so the agent
 * answers it from its stored reply and the model is not called twice.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster/Sharding"
import * as Activity from "@effect/workflow/Activity"
import * as Workflow from "@effect/workflow/Workflow"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import { AgentError, type Colony } from "@colony/runtime"
import { Effect, Exit, Layer, Schema } from "effect"
import { createHash } from "node:crypto"
import { Collaboration, Result, run } from "./Collaboration.js"

/**
 * The session id was already used for another collaboration or task. A session id names one run,
 * so the earlier run's result is not the answer to this one: start it under a new session id.
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionConflict extends Schema.TaggedError<SessionConflict>()("SessionConflict", {
  session: Schema.String
}) {
  override get message() {
    return `durable session "${this.session}" already ran (or is running) another collaboration or task; ` +
      `a session id names one run: use a new session id for this one`
  }
}

const encodeCollaboration = Schema.encodeSync(Collaboration)

/**
 * What a run was asked to do, as a digest: the same collaboration and task give the same digest
 * in every process (the encoded form lists fields in schema order).
 */
const inputDigest = (collaboration: Collaboration, task: string): string =>
  createHash("sha256").update(JSON.stringify([encodeCollaboration(collaboration), task])).digest("hex")

/**
 * A finished run: its result and the digest of the collaboration and task it ran, so that a later
 * caller under the same session id can tell whether the result answers its own input.
 *
 * @since 0.1.0
 */
export class SessionRun extends Schema.Class<SessionRun>("@colony/agents/SessionRun")({
  input: Schema.String,
  result: Result
}) {}

/**
 * A step's failure as stored: its tag and message, enough for the run to report it the same way
 * after a replay as before.
 */
const StepFailure = Schema.transform(
  Schema.Struct({ _tag: Schema.String, message: Schema.String }),
  Schema.Unknown,
  {
    strict: false,
    decode: (stored) => stored,
    encode: (error: unknown) => {
      if (typeof error === "object" && error !== null) {
        const tag = "_tag" in error ? String((error as { _tag: unknown })._tag) : "Error"
        const message = "message" in error ? String((error as { message: unknown }).message) : String(error)
        return { _tag: tag, message }
      }
      return { _tag: "Error", message: String(error) }
    }
  }
)

/**
 * The workflow every durable session runs.
 *
 * @since 0.1.0
 */
export const SessionWorkflow = Workflow.make({
  name: "colony-durable-session",
  payload: {
    session: Schema.String,
    collaboration: Collaboration,
    task: Schema.String
  },
  success: SessionRun,
  error: AgentError.UnknownAgent,
  idempotencyKey: ({ session }) => session
})

/**
 * Each agent call becomes an activity named by its step key (unique within a run). Its result is
 * stored as plain data: the run reads answers and failures structurally, so a replayed step looks
 * to it exactly like a live one.
 */
const activityStep = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Activity.make({
    name: key,
    success: Schema.Unknown,
    error: StepFailure,
    execute: effect
  }) as unknown as Effect.Effect<A, E, R>

/**
 * Host durable sessions in this process (a runner, or an embedded colony).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, WorkflowEngine | Colony.Services | Sharding> = SessionWorkflow.toLayer(
  ({ collaboration, session, task }) =>
    Effect.map(
      run(collaboration, task, { session, step: activityStep, stableMessageIds: true }),
      (result) => new SessionRun({ input: inputDigest(collaboration, task), result })
    )
)

const answering = (session: string, collaboration: Collaboration, task: string) => (done: SessionRun) =>
  done.input === inputDigest(collaboration, task)
    ? Effect.succeed(done.result)
    : Effect.fail(new SessionConflict({ session }))

/**
 * Start a durable session without waiting for it; returns its execution id. A session that has
 * finished another collaboration or task is a `SessionConflict`; one still running another is
 * reported by `result`, when it finishes.
 *
 * @since 0.1.0
 */
export const start = (
  session: string,
  collaboration: Collaboration,
  task: string
): Effect.Effect<string, SessionConflict, WorkflowEngine> =>
  Effect.gen(function*() {
    const finished = yield* SessionWorkflow.poll(yield* executionId(session, collaboration, task))
    if (finished?._tag === "Complete" && Exit.isSuccess(finished.exit)) {
      yield* answering(session, collaboration, task)(finished.exit.value)
    }
    return yield* SessionWorkflow.execute({ session, collaboration, task }, { discard: true })
  })

/**
 * Run a durable session (or join the run of that session already under way) and wait for its
 * result; a session id already used for another collaboration or task is a `SessionConflict`.
 *
 * @since 0.1.0
 */
export const result = (
  session: string,
  collaboration: Collaboration,
  task: string
): Effect.Effect<Result, AgentError.UnknownAgent | SessionConflict, WorkflowEngine> =>
  Effect.flatMap(SessionWorkflow.execute({ session, collaboration, task }), answering(session, collaboration, task))

/**
 * The execution id of a durable session (the workflow entity's id).
 *
 * @since 0.1.0
 */
export const executionId = (
  session: string,
  collaboration: Collaboration,
  task: string
): Effect.Effect<string> => SessionWorkflow.executionId({ session, collaboration, task })
