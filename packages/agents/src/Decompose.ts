/**
 * Decomposition strategies: turn one task into subtasks. Pure functions over plain data.
 *
 * - *vertical* (by function): one subtask per function (research, writing, analysis …), each
 *   carrying the capability an agent needs for it;
 * - *horizontal* (by data): the same instruction over disjoint blocks of the data (`blocks`,
 *   `horizontal`), or over the clauses a task lists (`byClauses`);
 * - *hybrid*: horizontal first, then each part vertically;
 * - *planned*: the coordinator's model writes the plan (`planPrompt`), `planned` reads it.
 *
 * @since 0.1.0
 */

/**
 * One piece of work. `capability` names what an agent must be good at to take it (vertical
 * decomposition sets it); `priority` orders dispatch, higher first.
 *
 * @since 0.1.0
 * @category models
 */
export interface Subtask {
  readonly task: string
  readonly capability?: string | undefined
  readonly priority: number
}

/**
 * A subtask with no capability requirement and the default priority.
 *
 * @since 0.1.0
 * @category constructors
 */
export const subtask = (task: string, options: Partial<Omit<Subtask, "task">> = {}): Subtask => ({
  task,
  capability: options.capability,
  priority: options.priority ?? 0
})

/**
 * Horizontal decomposition by clauses: "Plan the launch: research the market, draft the
 * announcement, and estimate the budget" becomes one subtask per listed clause, each carrying the
 * task's heading for context. A task with no list stays whole.
 *
 * @since 0.1.0
 */
export const byClauses = (task: string): ReadonlyArray<string> => {
  const text = task.replace(/\s+/g, " ").trim()
  const colon = text.indexOf(":")
  const heading = colon >= 0 ? text.slice(0, colon).trim() : ""
  const body = colon >= 0 ? text.slice(colon + 1) : text
  const clauses = body
    .split(/;|,\s*(?:and\s+)?|\s+and\s+(?=[a-z]+\s)/i)
    .map((clause) => clause.trim().replace(/^and\s+/i, "").replace(/[.?!]+$/, ""))
    .filter((clause) => clause.length > 0)
  if (clauses.length <= 1) return [text]
  return clauses.map((clause) => (heading === "" ? clause : `${heading}: ${clause}`))
}

/**
 * Split data into at most `count` contiguous blocks whose sizes differ by at most one, larger
 * blocks first. Concatenating the blocks gives the data back; no block is empty.
 *
 * @since 0.1.0
 */
export const blocks = <A>(items: ReadonlyArray<A>, count: number): ReadonlyArray<ReadonlyArray<A>> => {
  if (!Number.isInteger(count) || count < 1) throw new Error(`Decompose.blocks: count must be a positive integer, got ${count}`)
  const n = Math.min(count, items.length)
  const base = Math.floor(items.length / Math.max(n, 1))
  const extra = items.length - base * n
  const out: Array<ReadonlyArray<A>> = []
  let start = 0
  for (let i = 0; i < n; i++) {
    const size = base + (i < extra ? 1 : 0)
    out.push(items.slice(start, start + size))
    start += size
  }
  return out
}

/**
 * Horizontal decomposition by data: the same task over each block of the items.
 *
 * @since 0.1.0
 */
export const horizontal = (task: string, items: ReadonlyArray<string>, count: number): ReadonlyArray<Subtask> => {
  const parts = blocks(items, count)
  return parts.map((block, i) =>
    subtask(`${task}\n\nWork only on this data (block ${i + 1} of ${parts.length}):\n${block.map((item) => `- ${item}`).join("\n")}`)
  )
}

/**
 * Vertical decomposition by function: one subtask per function, each requiring that capability.
 * Earlier functions get higher priority.
 *
 * @since 0.1.0
 */
export const vertical = (task: string, functions: ReadonlyArray<string>): ReadonlyArray<Subtask> =>
  functions.map((fn, i) =>
    subtask(`${task}\n\nYour part: the ${fn} side of this task only.`, {
      capability: fn,
      priority: functions.length - i
    })
  )

/**
 * Hybrid decomposition: the task's clauses (horizontal), each split by function (vertical).
 *
 * @since 0.1.0
 */
export const hybrid = (task: string, functions: ReadonlyArray<string>): ReadonlyArray<Subtask> =>
  byClauses(task).flatMap((clause) => vertical(clause, functions))

/**
 * The prompt that asks a coordinator to plan the work.
 *
 * @since 0.1.0
 */
export const planPrompt = (task: string, workers: number): string =>
  `Split this task into at most ${workers} independent subtasks. Reply with one subtask per line, ` +
  `numbered "1.", "2.", and nothing else.\n\nTask: ${task}`

const PLAN_LINE = /^\s*(?:\d+[.)]|[-*•])\s+(.+?)\s*$/

/**
 * Read a coordinator's plan: its numbered or bulleted lines. A plan with fewer than two such
 * lines is not a plan (a model that ignored the format, or the simulated model, which answers one
 * line): the task's clauses are used instead, so decomposition never yields nothing.
 *
 * @since 0.1.0
 */
export const planned = (task: string, plan: string): { readonly subtasks: ReadonlyArray<Subtask>; readonly fromPlan: boolean } => {
  const lines = plan.split("\n").map((line) => PLAN_LINE.exec(line)?.[1]).filter((line): line is string => !!line)
  return lines.length >= 2
    ? { subtasks: lines.map((line) => subtask(line)), fromPlan: true }
    : { subtasks: byClauses(task).map((clause) => subtask(clause)), fromPlan: false }
}
