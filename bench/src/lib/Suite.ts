/**
 * What a benchmark suite is and what it hands back. A suite runs in its own process (see
 * `main.ts`), so one suite's heap, sockets and timers never skew another's figures.
 */

/** A cell: text as printed, or a number printed as is. `null` prints as "–". */
export type Cell = string | number | null

/** A table a person reads: a title, column headers, rows, and notes printed under it. */
export interface Table {
  readonly title: string
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<Cell>>
  readonly notes?: ReadonlyArray<string> | undefined
}

/** What one suite measured: the tables to print and the raw figures for the JSON. */
export interface SuiteResult {
  readonly suite: string
  readonly title: string
  /** "ok", or "skipped" with the reason in `skipped` (a suite whose subject does not exist yet) */
  readonly status: "ok" | "skipped" | "failed"
  readonly skipped?: string | undefined
  readonly error?: string | undefined
  readonly quick: boolean
  readonly startedAt: string
  readonly durationMs: number
  readonly tables: ReadonlyArray<Table>
  /** raw figures, one object per measured row, for the JSON */
  readonly data: unknown
}

export interface SuiteOptions {
  /** a short run that keeps the suites from rotting (the test runs this) */
  readonly quick: boolean
  /** progress lines go here (stderr), never into the tables */
  readonly log: (line: string) => void
}

/** A suite: an id (used on the command line and in file names), a title, and its body. */
export interface Suite {
  readonly id: string
  readonly title: string
  readonly run: (options: SuiteOptions) => Promise<Omit<SuiteResult, "suite" | "title" | "quick" | "startedAt" | "durationMs" | "status"> & { readonly status?: SuiteResult["status"] }>
}
