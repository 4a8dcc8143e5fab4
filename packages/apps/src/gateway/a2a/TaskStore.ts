/**
 * The tasks an A2A endpoint remembers, bounded and kept per caller.
 */
import { type ListTasksRequest, type ListTasksResponse, type Task, TaskState } from "@a2a-js/sdk"
import type { ServerCallContext, TaskStore } from "@a2a-js/sdk/server"
import * as Auth from "../Auth.js"
import { callerOf } from "./Cards.js"

/**
 * The tasks an endpoint remembers for `GetTask`, `ListTasks` and follow-up messages: the most
 * recently updated `capacity` of them. The SDK's in-memory store keeps every task forever, which a
 * long-running gateway cannot afford; a task evicted here is `TaskNotFound` to a late `GetTask`.
 * A task belongs to the caller that created it: to anyone else it does not exist, and staff see
 * all of them.
 *
 * @since 0.1.0
 */
export class BoundedTaskStore implements TaskStore {
  // insertion order is update order: a save moves the task to the end, eviction takes the front
  private readonly tasks = new Map<string, { readonly owner: string; readonly task: Task }>()
  constructor(readonly capacity: number) {}

  private visible(entry: { readonly owner: string } | undefined, context: ServerCallContext | undefined) {
    if (entry === undefined) return false
    const caller = callerOf(context)
    return Auth.isStaff(caller) || entry.owner === caller.subject
  }

  async load(taskId: string, context?: ServerCallContext): Promise<Task | undefined> {
    const entry = this.tasks.get(taskId)
    return entry === undefined || !this.visible(entry, context) ? undefined : structuredClone(entry.task)
  }

  async save(task: Task, context?: ServerCallContext): Promise<void> {
    const existing = this.tasks.get(task.id)
    // a task keeps its first owner; another caller's save under the same id is refused
    if (existing !== undefined && !this.visible(existing, context)) throw new Error(`no task ${task.id}`)
    const owner = existing?.owner ?? callerOf(context).subject
    this.tasks.delete(task.id)
    this.tasks.set(task.id, { owner, task: structuredClone(task) })
    for (const oldest of this.tasks.keys()) {
      if (this.tasks.size <= this.capacity) break
      this.tasks.delete(oldest)
    }
  }

  async list(params: ListTasksRequest, context?: ServerCallContext): Promise<ListTasksResponse> {
    const after = params.statusTimestampAfter === undefined ? undefined : Date.parse(params.statusTimestampAfter)
    const stamp = (task: Task) => task.status?.timestamp ?? ""
    const matching = [...this.tasks.values()]
      .filter((entry) => this.visible(entry, context))
      .map((entry) => entry.task)
      .filter((task) =>
        (params.contextId === "" || task.contextId === params.contextId) &&
        (params.status === TaskState.TASK_STATE_UNSPECIFIED || task.status?.state === params.status) &&
        (after === undefined || (task.status?.timestamp !== undefined && Date.parse(task.status.timestamp) > after))
      )
      .sort((a, b) => stamp(b).localeCompare(stamp(a)) || b.id.localeCompare(a.id))
    // the page token is the id of the last task of the previous page
    const start = params.pageToken === "" ? 0 : matching.findIndex((task) => task.id === params.pageToken) + 1
    const pageSize = Math.min(Math.max(params.pageSize ?? 50, 1), 100)
    const page = start === 0 && params.pageToken !== "" ? [] : matching.slice(start, start + pageSize)
    const more = page.length > 0 && start + page.length < matching.length
    return {
      tasks: page.map((task) => ({ ...structuredClone(task), artifacts: params.includeArtifacts === true ? structuredClone(task.artifacts) : [] })),
      nextPageToken: more ? page[page.length - 1]!.id : "",
      pageSize,
      totalSize: matching.length
    }
  }
}
