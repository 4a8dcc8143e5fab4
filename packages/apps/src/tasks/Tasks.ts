/**
 * The task service as an application: a coordinator and its workers process a posted task over
 * HTTP (`POST /tasks/process_task`) and A2A (`task-service`). It keeps no storage of its own, so
 * it costs a gateway nothing to serve until a task is posted.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as Application from "../Application.js"
import * as Agents from "./Agents.js"
import * as TasksWeb from "./TasksWeb.js"

/**
 * The task service. Its agents work behind its route and card, so none is served by name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const application: Application.Application = Application.make({
  name: "tasks",
  hosted: Agents.layer,
  agents: [Agents.Coordinator, Agents.Worker],
  routes: [TasksWeb.routes],
  a2aCards: [TasksWeb.card]
})

/**
 * Where the task service is on a gateway that just started at `address`.
 *
 * @since 0.1.0
 */
export const gatewayNotes = (started: { readonly address: string }) =>
  Effect.succeed([
    `task service: POST ${started.address}${TasksWeb.path} {"task": "..."}   A2A ${started.address}/a2a/${TasksWeb.card.name}`
  ])
