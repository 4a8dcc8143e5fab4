/**
 * What `Agent.make` resolves a definition to: the settings every instance of the type runs with.
 */
import type { Duration } from "effect"
import type * as Mcp from "../../Mcp.js"
import type * as Supervision from "../../Supervision.js"

/**
 * The resolved definition of an agent type.
 *
 * @since 0.1.0
 * @category models
 */
export interface Definition {
  readonly name: string
  readonly instructions: string
  readonly model: string
  readonly capabilities: ReadonlyArray<string>
  readonly tools: ReadonlyArray<string>
  readonly mcp: ReadonlyArray<Mcp.Server>
  readonly maxToolSteps: number
  readonly rpcs: ReadonlyArray<string>
  readonly mailboxCapacity: number | "unbounded"
  readonly maxIdleTime: Duration.Duration | undefined
  readonly supervision: Supervision.Policy
  readonly historyLimit: number
  readonly durable: boolean
}
