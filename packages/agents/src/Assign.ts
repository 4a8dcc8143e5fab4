/**
 * Assignment strategies: which worker takes which subtask. Pure functions over plain data.
 *
 * @since 0.1.0
 */

/**
 * Round-robin: subtask *i* goes to worker *i mod n*.
 *
 * @since 0.1.0
 */
export const roundRobin = <W>(subtasks: ReadonlyArray<string>, workers: ReadonlyArray<W>): ReadonlyArray<
  { readonly subtask: string; readonly worker: W }
> => {
  if (workers.length === 0) throw new Error("Assign.roundRobin: no workers")
  return subtasks.map((subtask, i) => ({ subtask, worker: workers[i % workers.length]! }))
}
