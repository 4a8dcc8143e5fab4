/**
 * Assignment strategies: which worker takes which subtask. Pure functions over plain data; the
 * session gathers the inputs (live load, capabilities, bids) and records the outcome.
 *
 * Every strategy returns assignments in dispatch order. Loads are the number of requests a worker
 * already has in flight; a strategy that balances load counts its own assignments on top.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export interface Assignment<S, W> {
  readonly subtask: S
  readonly worker: W
}

const requireWorkers = (name: string, workers: ReadonlyArray<unknown>) => {
  if (workers.length === 0) throw new Error(`Assign.${name}: no workers`)
}

/** Index of the smallest value among `candidates` (indices into `load`); ties to the lowest index. */
const argmin = (load: ReadonlyArray<number>, candidates: ReadonlyArray<number>): number => {
  let best = candidates[0]!
  for (const i of candidates) if (load[i]! < load[best]!) best = i
  return best
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/**
 * Round-robin: subtask *i* goes to worker *i mod n*.
 *
 * @since 0.1.0
 */
export const roundRobin = <S, W>(subtasks: ReadonlyArray<S>, workers: ReadonlyArray<W>): ReadonlyArray<Assignment<S, W>> => {
  requireWorkers("roundRobin", workers)
  return subtasks.map((subtask, i) => ({ subtask, worker: workers[i % workers.length]! }))
}

/**
 * Least-loaded: each subtask, in order, goes to the worker with the fewest requests in flight
 * (`load[i]` for worker *i*, plus what this call already gave it); ties go to the earlier worker.
 *
 * @since 0.1.0
 */
export const leastLoaded = <S, W>(
  subtasks: ReadonlyArray<S>,
  workers: ReadonlyArray<W>,
  load: ReadonlyArray<number> = []
): ReadonlyArray<Assignment<S, W>> => {
  requireWorkers("leastLoaded", workers)
  const current = workers.map((_, i) => load[i] ?? 0)
  const all = range(workers.length)
  return subtasks.map((subtask) => {
    const i = argmin(current, all)
    current[i]!++
    return { subtask, worker: workers[i]! }
  })
}

/**
 * Capability match: a subtask that names a capability goes to the least-loaded worker that has
 * it; a subtask no worker is capable of (or that names none) goes to the least-loaded worker of
 * all, with `matched: false`, so nothing is dropped and the record says so.
 *
 * @since 0.1.0
 */
export const byCapability = <S extends { readonly capability?: string | undefined }, W>(
  subtasks: ReadonlyArray<S>,
  workers: ReadonlyArray<{ readonly worker: W; readonly capabilities: ReadonlyArray<string> }>,
  load: ReadonlyArray<number> = []
): ReadonlyArray<Assignment<S, W> & { readonly matched: boolean }> => {
  requireWorkers("byCapability", workers)
  const current = workers.map((_, i) => load[i] ?? 0)
  const all = range(workers.length)
  return subtasks.map((subtask) => {
    const capable = subtask.capability === undefined
      ? []
      : all.filter((i) => workers[i]!.capabilities.includes(subtask.capability!))
    const i = argmin(current, capable.length > 0 ? capable : all)
    current[i]!++
    return { subtask, worker: workers[i]!.worker, matched: capable.length > 0 }
  })
}

/**
 * Priority: subtasks are dispatched highest priority first (equal priorities keep their order),
 * each to the least-loaded worker, so the most important work starts first and on the idlest
 * worker.
 *
 * @since 0.1.0
 */
export const byPriority = <S extends { readonly priority: number }, W>(
  subtasks: ReadonlyArray<S>,
  workers: ReadonlyArray<W>,
  load: ReadonlyArray<number> = []
): ReadonlyArray<Assignment<S, W>> => {
  const ordered = subtasks.map((s, i) => [s, i] as const).sort((a, b) => b[0].priority - a[0].priority || a[1] - b[1])
  return leastLoaded(ordered.map(([s]) => s), workers, load)
}

/**
 * Contract-net award (Smith, "The Contract Net Protocol", IEEE Trans. Computers C-29(12), 1980):
 * the manager announced every subtask, each worker bid a cost (`bids[s][w]`, `undefined` for no
 * bid); subtask by subtask, the lowest bid wins, plus `loadPenalty` per subtask the bidder has
 * already won so one cheap worker does not take everything. Subtasks nobody bid on are returned in
 * `unawarded`.
 *
 * @since 0.1.0
 */
export const contractNet = <S, W>(
  subtasks: ReadonlyArray<S>,
  workers: ReadonlyArray<W>,
  bids: ReadonlyArray<ReadonlyArray<number | undefined>>,
  loadPenalty = 1
): {
  readonly awarded: ReadonlyArray<Assignment<S, W> & { readonly cost: number }>
  readonly unawarded: ReadonlyArray<S>
} => {
  requireWorkers("contractNet", workers)
  const won = workers.map(() => 0)
  const awarded: Array<Assignment<S, W> & { readonly cost: number }> = []
  const unawarded: Array<S> = []
  subtasks.forEach((subtask, s) => {
    let best: number | undefined
    let bestCost = Number.POSITIVE_INFINITY
    workers.forEach((_, w) => {
      const bid = bids[s]?.[w]
      if (bid === undefined || !Number.isFinite(bid)) return
      const cost = bid + loadPenalty * won[w]!
      if (cost < bestCost) {
        best = w
        bestCost = cost
      }
    })
    if (best === undefined) {
      unawarded.push(subtask)
      return
    }
    won[best]!++
    awarded.push({ subtask, worker: workers[best]!, cost: bids[s]![best]! })
  })
  return { awarded, unawarded }
}

/**
 * The prompt announcing a subtask to a bidder.
 *
 * @since 0.1.0
 */
export const bidPrompt = (subtask: string): string =>
  `Bid for this subtask: state how costly it is for you, from 0 (trivial for you) to 100 (outside ` +
  `your skills), on a line "BID: <number>".\n\nSubtask: ${subtask}`

/**
 * Read a bid from a worker's answer (`BID: 12`). When the answer carries none — a model that
 * ignored the format, or the simulated one — the bid is derived from what the worker declares it
 * can do: 10 with a matching capability, 50 without, plus 10 per request in flight.
 *
 * @since 0.1.0
 */
export const readBid = (
  answer: string,
  fallback: { readonly capabilities: ReadonlyArray<string>; readonly capability?: string | undefined; readonly load: number }
): { readonly cost: number; readonly how: "explicit" | "capabilities" } => {
  const match = /\bBID\s*:\s*(\d+(?:\.\d+)?)/i.exec(answer)
  if (match) return { cost: Number(match[1]), how: "explicit" }
  const capable = fallback.capability !== undefined && fallback.capabilities.includes(fallback.capability)
  return { cost: (capable ? 10 : 50) + 10 * fallback.load, how: "capabilities" }
}

/**
 * Reassignment on failure: the least-loaded worker that has not failed, or `undefined` when every
 * worker has.
 *
 * @since 0.1.0
 */
export const reassign = <W>(
  workers: ReadonlyArray<W>,
  failed: ReadonlyArray<W>,
  load: ReadonlyArray<number> = [],
  equals: (a: W, b: W) => boolean = (a, b) => a === b
): W | undefined => {
  const healthy = range(workers.length).filter((i) => !failed.some((f) => equals(f, workers[i]!)))
  if (healthy.length === 0) return undefined
  return workers[argmin(workers.map((_, i) => load[i] ?? 0), healthy)]
}
