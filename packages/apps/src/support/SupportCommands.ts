/**
 * `colony support …`: the operator's side of the support desk from a terminal. `escalations` and
 * `reply` join the colony of runners as a client (`DATABASE_URL`, `COLONY_RUNNER_SECRET`, as for
 * runners) and call the desk's agents wherever they run; `eval` runs the evaluation set on its own
 * embedded colony, against the simulated model or a configured endpoint.
 *
 * @since 0.1.0
 */
import { Colony } from "@colony/runtime"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Layer, Option } from "effect"
import * as Desk from "./Desk.js"
import * as Evaluate from "./eval/Evaluate.js"
import { conversations } from "./eval/conversations.js"
import * as Script from "./Script.js"
import * as ModelOptions from "../cli/ModelOptions.js"
import * as Support from "./Support.js"

const json = Options.boolean("json").pipe(Options.withDescription("print JSON, one value per line"))

/** A client of the colony's runners that knows the support agent types. */
const colonyClient = Colony.declare(...Support.agents).pipe(Layer.provideMerge(Colony.clientOnly))

const exitWithFailure = () => {
  process.exitCode = 1
  process.once("beforeExit", () => process.exit(1))
}

const reportFailure = (asJson: boolean) => (error: unknown) => {
  const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Error"
  return Effect.zipRight(
    asJson ? Console.error(JSON.stringify({ error: { _tag: tag, message } })) : Console.error(`error: ${message}`),
    Effect.sync(exitWithFailure)
  )
}

const escalations = Command.make("escalations", { json }, (options) =>
  Effect.gen(function*() {
    const tickets = yield* Desk.escalations
    if (options.json) {
      for (const ticket of tickets) yield* Console.log(JSON.stringify(ticket))
      return
    }
    if (tickets.length === 0) return yield* Console.log("no open escalations")
    for (const t of tickets) {
      yield* Console.log(`${t.id}  ${new Date(t.openedAt).toISOString()}  conversation ${t.conversationId}`)
      yield* Console.log(`  question: ${t.question}`)
      yield* Console.log(`  reason: ${t.reason}`)
    }
  }).pipe(Effect.provide(colonyClient), Effect.catchAll(reportFailure(options.json)))).pipe(
    Command.withDescription("List the open support tickets, oldest first (a client of the colony: DATABASE_URL, COLONY_RUNNER_SECRET)")
  )

const reply = Command.make(
  "reply",
  {
    json,
    ticket: Args.text({ name: "ticket" }).pipe(Args.withDescription("the ticket id, e.g. T-1001")),
    text: Args.text({ name: "text" }).pipe(Args.withDescription("the answer the customer reads"))
  },
  (options) =>
    Effect.gen(function*() {
      const ticket = yield* Desk.answerEscalation(options.ticket, options.text)
      yield* options.json
        ? Console.log(JSON.stringify(ticket))
        : Console.log(`${ticket.id} answered; the reply joined conversation ${ticket.conversationId}`)
    }).pipe(Effect.provide(colonyClient), Effect.catchAll(reportFailure(options.json)))
).pipe(Command.withDescription("Answer a support ticket as the operator: the reply joins the customer's conversation"))

const evaluate = Command.make("eval", { json, modelUrl: ModelOptions.modelUrl, modelId: ModelOptions.modelId }, (options) => {
  const label = Option.match(options.modelUrl, {
    onNone: () => "simulated model",
    onSome: (url) => `${Option.getOrElse(options.modelId, () => "default")} at ${url}`
  })
  return Effect.gen(function*() {
    if (!options.json) yield* Console.error(`evaluating ${conversations.length} conversations on ${label}…`)
    const report = yield* Evaluate.run()
    yield* options.json
      ? Console.log(JSON.stringify({ ...report, outcomes: report.outcomes }))
      : Console.log(Evaluate.format(report, label))
  }).pipe(
    Effect.provide(Script.layer({ languageModel: ModelOptions.layer(options.modelUrl, options.modelId) })),
    Effect.catchAll(reportFailure(options.json))
  )
}).pipe(Command.withDescription("Run the support evaluation set and print routing accuracy and tool-call correctness"))

/**
 * `colony support escalations | reply TICKET TEXT | eval`.
 *
 * @since 0.1.0
 */
export const command = Command.make("support").pipe(
  Command.withDescription("The support desk: open escalations, answer one, run the evaluation"),
  Command.withSubcommands([escalations, reply, evaluate])
)
