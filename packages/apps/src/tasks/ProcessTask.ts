/**
 * The task service's one flow, `process_task`: the coordinator plans the posted task as
 * independent parts, the parts are assigned to the task's workers, and the coordinator
 * synthesises their results — the master-slave pattern of `@colony/agents` with a planned
 * decomposition. A plan the coordinator's model does not write as a list falls back to the task's
 * own clauses, so a task is never left undivided for want of a plan.
 *
 * @since 0.1.0
 */
import { Collaboration, SessionEvents } from "@colony/agents"
import type { AgentError, Colony } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Effect, Either, ParseResult, Ref, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as Agents from "./Agents.js"

/**
 * How many workers one task may ask for: each is a model call, plus the plan and the synthesis.
 *
 * @since 0.1.0
 */
export const maxWorkers = 5

/**
 * How long a task may be, in characters.
 *
 * @since 0.1.0
 */
export const maxTaskLength = 8000

/**
 * What a caller posts: the task, and how many workers share it (default 3).
 *
 * @since 0.1.0
 * @category models
 */
export const Request = Schema.Struct({
  task: Schema.String.pipe(
    Schema.filter((task) => task.trim().length > 0 || `the task is empty: describe the work in "task"`),
    Schema.filter((task) => task.length <= maxTaskLength || `the task has ${task.length} characters; the limit is ${maxTaskLength}`)
  ),
  workers: Schema.optionalWith(
    Schema.Int.pipe(Schema.between(1, maxWorkers, { message: () => `"workers" is a whole number from 1 to ${maxWorkers}` })),
    { default: () => 3 }
  )
})

/**
 * @since 0.1.0
 * @category models
 */
export type Request = typeof Request.Type

/**
 * A task that cannot be processed as given (empty, or too long).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidTask extends Schema.TaggedError<InvalidTask>()("InvalidTask", {
  reason: Schema.String
}) {
  override get message() {
    return `not a task: ${this.reason}. Send the work to do as text, at most ${maxTaskLength} characters`
  }
}

const decodeRequest = Schema.decodeUnknownEither(Request)

/**
 * The request for a task given as plain text (an A2A message), with the default workers.
 *
 * @since 0.1.0
 */
export const fromText = (task: string): Either.Either<Request, InvalidTask> =>
  Either.mapLeft(
    decodeRequest({ task }),
    (error) => new InvalidTask({ reason: ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => i.message).join("; ") })
  )

/**
 * How the coordinator divided the task.
 *
 * @since 0.1.0
 * @category models
 */
export class Plan extends Schema.Class<Plan>("@colony/apps/tasks/Plan")({
  /** `planned` when the coordinator's list was used, else why the task's clauses were */
  strategy: Schema.String,
  subtasks: Schema.Array(Schema.String)
}) {}

/**
 * One part done by a worker.
 *
 * @since 0.1.0
 * @category models
 */
export class Part extends Schema.Class<Part>("@colony/apps/tasks/Part")({
  subtask: Schema.String,
  /** the worker instance that did it, `task-worker/<id>` */
  worker: Schema.String,
  text: Schema.String
}) {}

/**
 * A part no worker could do, and why; the answer is synthesised without it.
 *
 * @since 0.1.0
 * @category models
 */
export class MissingPart extends Schema.Class<MissingPart>("@colony/apps/tasks/MissingPart")({
  subtask: Schema.String,
  reason: Schema.String
}) {}

/**
 * A processed task: the answer with its plan, the parts it was made of and those that are
 * missing. `simulated` is true when no model endpoint is configured and the answers are the
 * simulated model's.
 *
 * @since 0.1.0
 * @category models
 */
export class Result extends Schema.Class<Result>("@colony/apps/tasks/Result")({
  id: Schema.String,
  task: Schema.String,
  answer: Schema.String,
  simulated: Schema.Boolean,
  complete: Schema.Boolean,
  plan: Plan,
  parts: Schema.Array(Part),
  missing: Schema.Array(MissingPart),
  totalTokens: Schema.Number,
  totalCost: Schema.Number
}) {}

/**
 * The collaboration of one task: its coordinator and `workers` workers, instances of their own
 * under the task's id.
 *
 * @since 0.1.0
 */
export const team = (id: string, workers: number): Collaboration.MasterSlave => {
  const worker = (n: number) => new Collaboration.AgentRef({ agent: Agents.Worker.type, id: `${id}-w${n}` })
  const rest = Array.from({ length: Math.max(0, workers - 1) }, (_, i) => worker(i + 2))
  return Collaboration.MasterSlave.make({
    coordinator: new Collaboration.AgentRef({ agent: Agents.Coordinator.type, id }),
    workers: [worker(1), ...rest],
    decompose: "planned",
    aggregate: "synthesis"
  })
}

/**
 * Process a task. Parts a worker fails are given to another worker of the task and, with none
 * left, reported in `missing`; the run fails only when the task service's agents are not hosted
 * by this colony.
 *
 * @since 0.1.0
 */
export const process = (
  request: Request
): Effect.Effect<Result, AgentError.UnknownAgent, Colony.Services | Sharding> =>
  Effect.gen(function*() {
    const id = `task-${yield* Effect.sync(randomUUID)}`
    const decomposed = yield* Ref.make(new Plan({ strategy: "none", subtasks: [] }))
    const result = yield* Collaboration.run(team(id, request.workers), request.task, {
      session: id,
      onEvent: ({ event }) =>
        event instanceof SessionEvents.TaskDecomposed
          ? Ref.set(decomposed, new Plan({ strategy: event.strategy, subtasks: event.subtasks }))
          : Effect.void
    })
    return new Result({
      id,
      task: request.task,
      answer: result.answer,
      simulated: result.simulated,
      complete: result.complete,
      plan: yield* Ref.get(decomposed),
      parts: result.contributions
        .filter((c) => c.role === "worker")
        .map((c) => new Part({ subtask: c.task, worker: c.by.toString(), text: c.text })),
      missing: result.missing.map((m) => new MissingPart({ subtask: m.task, reason: m.reason })),
      totalTokens: result.totalTokens,
      totalCost: result.totalCost
    })
  })
