/**
 * Run the evaluation set against the support desk of the current colony and score it: routing
 * accuracy (intents and pattern as expected), tool-call correctness (the expected tools, no more,
 * no fewer, and an order tool refusing exactly where the order is not the signed-in customer's)
 * and escalation correctness, per message and as a table.
 *
 * @since 0.1.0
 */
import type { AgentError, Colony, LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Effect } from "effect"
import * as Desk from "../Desk.js"
import { type Conversation, conversations, type Expected } from "./conversations.js"

/**
 * How one customer message went.
 *
 * @since 0.1.0
 */
export interface Outcome {
  readonly conversation: string
  readonly step: number
  readonly customer: string
  readonly expected: Expected
  readonly intents: ReadonlyArray<Desk.Intent>
  readonly pattern: Desk.Pattern
  readonly tools: ReadonlyArray<string>
  readonly escalated: boolean
  /** an order tool refused: the order was not the signed-in customer's, or no one was signed in */
  readonly refused: boolean
  readonly routed: boolean
  readonly toolsCorrect: boolean
  readonly escalationCorrect: boolean
  readonly simulated: boolean
}

/**
 * @since 0.1.0
 */
export interface Report {
  readonly outcomes: ReadonlyArray<Outcome>
  readonly conversations: number
  readonly messages: number
  readonly routingAccuracy: number
  readonly toolCorrectness: number
  readonly escalationAccuracy: number
  readonly simulated: boolean
}

const sameSet = <A>(a: ReadonlyArray<A>, b: ReadonlyArray<A>) =>
  new Set(a).size === new Set(b).size && a.every((x) => b.includes(x))

const sameMultiset = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && [...a].sort().join("\u0000") === [...b].sort().join("\u0000")

// how the runtime renders a failed tool's typed error to the model (and in `Reply.tools`)
const REFUSAL = /^error: (?:OrderNotYours|CustomerNotVerified):/

/**
 * Score one reply against what was expected.
 *
 * @since 0.1.0
 */
export const score = (
  conversation: string,
  step: number,
  customer: string,
  expected: Expected,
  reply: Desk.Reply
): Outcome => {
  const tools = reply.tools.map((t) => t.name)
  const refused = reply.tools.some((t) => REFUSAL.test(t.output))
  return {
    conversation,
    step,
    customer,
    expected,
    intents: reply.intents,
    pattern: reply.pattern,
    tools,
    escalated: reply.escalation !== null,
    refused,
    routed: sameSet(reply.intents, expected.intents) && reply.pattern === expected.pattern,
    toolsCorrect: sameMultiset(tools, expected.tools) && refused === expected.refused,
    escalationCorrect: (reply.escalation !== null) === expected.escalated,
    simulated: reply.simulated
  }
}

/**
 * Run conversations (all 52 by default) on the desk, one conversation id per run and set, each as
 * its signed-in customer.
 *
 * @since 0.1.0
 */
export const run = (
  options: { readonly prefix?: string | undefined; readonly set?: ReadonlyArray<Conversation> | undefined } = {}
): Effect.Effect<
  Report,
  Desk.SupportError | Desk.ConversationNotYours | AgentError.AgentError | LanguageModel.ModelError,
  Colony.Services | Sharding
> =>
  Effect.gen(function*() {
    const set = options.set ?? conversations
    const prefix = options.prefix ?? `eval-${Date.now().toString(36)}`
    const outcomes = yield* Effect.forEach(set, (conversation) =>
      Effect.forEach(conversation.steps, (step, i) =>
        Effect.map(
          Desk.send(`${prefix}-${conversation.id}`, step.customer, { customer: conversation.signedIn ?? undefined }),
          (reply) => score(conversation.id, i + 1, step.customer, step.expect, reply)
        )), { concurrency: 8 })
    const flat = outcomes.flat()
    const share = (f: (o: Outcome) => boolean) => flat.length === 0 ? 0 : flat.filter(f).length / flat.length
    return {
      outcomes: flat,
      conversations: set.length,
      messages: flat.length,
      routingAccuracy: share((o) => o.routed),
      toolCorrectness: share((o) => o.toolsCorrect),
      escalationAccuracy: share((o) => o.escalationCorrect),
      simulated: flat.some((o) => o.simulated)
    }
  })

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

const toolList = (tools: ReadonlyArray<string>, refused: boolean) =>
  `${tools.join(", ") || "-"}${refused ? " (refused)" : ""}`

/**
 * The report as a table a person can read: one row per message that missed, then the totals.
 *
 * @since 0.1.0
 */
export const format = (report: Report, label: string): string => {
  const rows = report.outcomes.filter((o) => !(o.routed && o.toolsCorrect && o.escalationCorrect))
  const lines = [
    `support evaluation — ${label}${report.simulated ? " (simulated model)" : ""}`,
    "",
    "| metric | score |",
    "|---|---|",
    `| conversations | ${report.conversations} |`,
    `| customer messages | ${report.messages} |`,
    `| routing accuracy (intents and pattern) | ${pct(report.routingAccuracy)} |`,
    `| tool-call correctness | ${pct(report.toolCorrectness)} |`,
    `| escalation accuracy | ${pct(report.escalationAccuracy)} |`
  ]
  if (rows.length > 0) {
    lines.push("", "| conversation | step | expected route | got route | expected tools | got tools | escalation |", "|---|---|---|---|---|---|---|")
    for (const o of rows) {
      lines.push(
        `| ${o.conversation} | ${o.step} | ${o.expected.intents.join("+")} ${o.expected.pattern} | ` +
          `${o.intents.join("+")} ${o.pattern} | ${toolList(o.expected.tools, o.expected.refused)} | ` +
          `${toolList(o.tools, o.refused)} | ` +
          `${o.expected.escalated ? "yes" : "no"} / ${o.escalated ? "yes" : "no"} |`
      )
    }
  }
  return lines.join("\n")
}
