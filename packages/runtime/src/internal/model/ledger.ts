/**
 * Running totals, updated in place: a colony makes a model call per agent message, and rebuilding
 * an immutable report keyed by every agent on each call would cost time in the number of agents.
 * The report is built only when someone asks for it.
 *
 * Agent instances and collaborations come and go without end (one per conversation, say), so at
 * most a set number of each keep a row, the most recent; a row pushed out has its totals added to
 * an aggregate row: its type's `otherInstances` row for an agent, `otherCollaborations` for a
 * collaboration. The number of types is bounded by the code, so those rows are too.
 */
import { type ModelCall, otherCollaborations, otherInstances, UsageReport, UsageTotals } from "./usage.js"

/** The limits of a ledger: how many agent instances and collaborations keep a row of their own. */
export interface LedgerRows {
  readonly agentRows: number
  readonly collaborationRows: number
}

/**
 * A usage ledger. `add` counts a call; `report` builds the report of everything counted so far.
 */
export interface Ledger {
  readonly add: (call: ModelCall) => void
  readonly report: () => UsageReport
}

/**
 * Rows kept in the order of their last call, oldest first, at most `limit` of them: the oldest
 * row is handed to `fold` when one more would not fit.
 */
const makeRecentRows = (limit: number, fold: (key: string, totals: UsageTotals) => void) => {
  const rows = new Map<string, UsageTotals>()
  const add = (key: string | undefined, call: ModelCall) => {
    if (key === undefined) return
    const row = rows.get(key) ?? UsageTotals.zero
    rows.delete(key)
    rows.set(key, UsageTotals.add(row, call))
    if (rows.size <= limit) return
    const [oldest, totals] = rows.entries().next().value!
    rows.delete(oldest)
    fold(oldest, totals)
  }
  return { rows, add }
}

const typeOf = (agent: string) => {
  const slash = agent.indexOf("/")
  return slash === -1 ? agent : agent.slice(0, slash)
}

const addTo = (group: Map<string, UsageTotals>, key: string, totals: UsageTotals) =>
  group.set(key, UsageTotals.sum(group.get(key) ?? UsageTotals.zero, totals))

/** The listed rows with the aggregate rows summed in (an aggregate key may also be a listed one). */
const withAggregates = (rows: ReadonlyMap<string, UsageTotals>, aggregates: ReadonlyMap<string, UsageTotals>) => {
  const merged = Object.fromEntries(rows)
  for (const [key, totals] of aggregates) {
    merged[key] = Object.hasOwn(merged, key) ? UsageTotals.sum(merged[key]!, totals) : totals
  }
  return merged
}

/**
 * A ledger keeping at most `agentRows` agent instances and `collaborationRows` collaborations
 * one by one (both at least 1).
 */
export const makeLedger = (limits: LedgerRows): Ledger => {
  let total = UsageTotals.zero
  const byModel = new Map<string, UsageTotals>()
  const otherAgents = new Map<string, UsageTotals>()
  const byAgent = makeRecentRows(limits.agentRows, (agent, totals) => addTo(otherAgents, otherInstances(typeOf(agent)), totals))
  const foldedCollaborations = new Map<string, UsageTotals>()
  let folded = 0
  const byCollaboration = makeRecentRows(limits.collaborationRows, (_, totals) => {
    folded++
    addTo(foldedCollaborations, otherCollaborations, totals)
  })
  return {
    add: (call) => {
      total = UsageTotals.add(total, call)
      byModel.set(call.model, UsageTotals.add(byModel.get(call.model) ?? UsageTotals.zero, call))
      byAgent.add(call.agent, call)
      byCollaboration.add(call.collaboration, call)
    },
    report: () =>
      new UsageReport({
        total,
        byModel: Object.fromEntries(byModel),
        byAgent: withAggregates(byAgent.rows, otherAgents),
        byCollaboration: withAggregates(byCollaboration.rows, foldedCollaborations),
        foldedCollaborations: folded
      }, true)
  }
}
