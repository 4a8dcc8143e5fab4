/**
 * Decomposition strategies: turn one task into subtasks. Pure functions over plain data.
 *
 * @since 0.1.0
 */

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
