/**
 * The task service on a gateway: `POST /tasks/process_task` (JSON in, JSON out) and the A2A agent
 * `task-service`, both running `ProcessTask.process`.
 *
 * | route | access | what |
 * |---|---|---|
 * | `POST /tasks/process_task` `{task, workers?}` | client | the processed task (`ProcessTask.Result`) |
 *
 * Failures use the gateway's error shape (`{error: {message, type, code}}`): 400 for a body that
 * is not a task, 503 when this colony does not host the service's agents, and the colony's own
 * statuses otherwise (504 past the gateway's request timeout).
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Duration, Effect, Either, Schema } from "effect"
import type * as Application from "../Application.js"
import type * as A2A from "../gateway/A2A.js"
import * as Auth from "../gateway/Auth.js"
import { error } from "../gateway/ErrorResponse.js"
import { GatewayConfig } from "../gateway/GatewayConfig.js"
import * as GatewayMetrics from "../gateway/GatewayMetrics.js"
import * as JsonBody from "../gateway/JsonBody.js"
import { fromColonyError } from "../gateway/OpenAICompat.js"
import * as Agents from "./Agents.js"
import * as ProcessTask from "./ProcessTask.js"

/**
 * Where the task service posts tasks.
 *
 * @since 0.1.0
 */
export const path = "/tasks/process_task"

const example = `{"task": "Plan a team offsite: pick a city, draft the agenda, and estimate the budget", "workers": 3}`

type Failure = { readonly _tag: string; readonly message: string }

// A colony without the service's agents is a misconfigured server, not a bad request.
const unavailable = (failure: Failure) =>
  error(
    503,
    `the task service is not hosted by this colony (${failure.message}). Host it on the runners, ` +
      `or run the gateway embedded`,
    "server_error",
    "task_service_unavailable"
  )

const failed = (failure: Failure) => {
  if (failure._tag === "UnknownAgent") return unavailable(failure)
  const { body, status } = fromColonyError(failure)
  return HttpServerResponse.unsafeJson(body, { status })
}

const timeout = (after: Duration.Duration): Failure => ({
  _tag: "TimeoutException",
  message: `the task was not done within ${Duration.format(after)}; post a smaller task or fewer workers, ` +
    `or raise COLONY_GATEWAY_REQUEST_TIMEOUT`
})

const processTask = Effect.gen(function*() {
  const body = yield* JsonBody.decode(ProcessTask.Request, example)
  if (Either.isLeft(body)) return body.left
  const { requestTimeout } = yield* GatewayConfig
  const result = yield* ProcessTask.process(body.right).pipe(
    GatewayMetrics.trackInFlight(Agents.Coordinator.type),
    Effect.timeoutFail({ duration: requestTimeout, onTimeout: () => timeout(requestTimeout) }),
    Effect.either
  )
  return Either.isLeft(result)
    ? failed(result.left)
    : HttpServerResponse.unsafeJson(Schema.encodeSync(ProcessTask.Result)(result.right))
})

/**
 * The task service's route, for its `Application.routes`.
 *
 * @since 0.1.0
 */
export const routes: Application.Routes = Effect.succeed(
  HttpRouter.empty.pipe(HttpRouter.post(path, Auth.route("client", processTask)))
)

/**
 * A processed task as an A2A reply: the answer, then the parts it was made of and any that are
 * missing, and a label when the model is simulated.
 *
 * @since 0.1.0
 */
export const replyText = (result: ProcessTask.Result): string => {
  const lines = [result.answer, "", `parts (${result.plan.strategy}):`]
  for (const part of result.parts) lines.push(`- ${part.subtask} (${part.worker})`)
  for (const part of result.missing) lines.push(`- missing: ${part.subtask} (${part.reason})`)
  if (result.simulated) lines.push("", "(simulated model: no model endpoint configured)")
  return lines.join("\n")
}

/**
 * The task service as an A2A agent (`/a2a/task-service`): each message is a task, processed on
 * its own (a context does not carry memory from one task to the next).
 *
 * @since 0.1.0
 */
export const card: A2A.Application = {
  name: "task-service",
  description: "Processes a task with a team: a coordinator splits it into independent parts, workers do the " +
    "parts in parallel, and the coordinator combines their results into one answer, listing the parts.",
  tags: ["tasks", "master-slave", "decomposition"],
  examples: ["Plan a team offsite: pick a city, draft the agenda, and estimate the budget"],
  answer: (_conversation, text, _caller) =>
    Effect.flatMap(ProcessTask.fromText(text), ProcessTask.process).pipe(
      Effect.map(replyText),
      Effect.mapError((failure) => ({ _tag: failure._tag, message: failure.message }))
    )
}
