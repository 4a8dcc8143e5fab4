/**
 * `colony demo`: the support desk on the embedded default. An embedded Postgres holds the shop's
 * orders and tickets, the colony runs in this process, and a scripted customer, signed in as Ana
 * Ribeiro, talks to the desk (an order lookup, an address change, a multi-part question about an
 * order that is not hers, a FAQ, a case a human answers), with a progress line per step and the
 * desk's replies. `interactive` chats in the terminal.
 *
 * @since 0.1.0
 */
import { Colony, Events, type LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { Console, Effect, Fiber, Layer, Queue } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as readline from "node:readline/promises"
import * as DevPostgres from "../runner/DevPostgres.js"
import * as Desk from "./Desk.js"
import * as Support from "./Support.js"

/**
 * Who the scripted customer is signed in as: Ana Ribeiro, whose orders are A-10023 (shipped) and
 * A-10031 (processing).
 *
 * @since 0.1.0
 */
export const customer = "ana.ribeiro@example.com"

/**
 * The scripted customer's messages. The third names an order of another customer's: the desk
 * answers the part it may, and says the order is not on her account.
 *
 * @since 0.1.0
 */
export const script: ReadonlyArray<string> = [
  "Hi! Where is my order A-10023?",
  "Please change the delivery address of A-10031 to 9 Rua Nova, 4000-123 Porto",
  "Where is my order A-10028 and how do I return an item?",
  "When do you charge my card for an item that is not in stock yet?",
  "I'd like to speak to a person about a custom engraving for a wedding gift"
]

/**
 * What the scripted operator answers to the escalated case.
 *
 * @since 0.1.0
 */
export const operatorReply =
  "Hello, this is Sara from the Northwind team. We can engrave the oak serving board with up to 30 characters; " +
  "I've added a note to your account, just reply with the text you'd like."

const progressLine = (event: Events.Event, start: number, conversation: string): string | undefined => {
  if (event.id !== conversation && !event.id.startsWith(`${conversation}.`)) return undefined
  switch (event._tag) {
    case "MessageReceived":
    case "ModelCalled":
    case "ToolCalled":
    case "AgentRestarted":
    case "AgentGaveUp":
    case "SessionStarted":
    case "TaskDecomposed":
    case "SubtaskAssigned":
    case "SessionCompleted":
    case "SessionFailed":
    case "TicketOpened":
      return `  [${String(event.at - start).padStart(5)} ms] ${Events.format(event)}`
    default:
      return undefined
  }
}

const printReply = (reply: Desk.Reply) =>
  Effect.gen(function*() {
    const route = `${reply.pattern}; intents ${reply.intents.join(", ")}`
    const tools = reply.tools.map((t) => `${t.name}${t.ok ? "" : " (failed)"}`).join(", ")
    yield* Console.log(`  route: ${route}${tools === "" ? "" : `; tools: ${tools}`}`)
    yield* Console.log(`  by: ${reply.handledBy.join(", ")}`)
    if (reply.escalation !== null) yield* Console.log(`  escalated: ticket ${reply.escalation.id} (${reply.escalation.reason})`)
    yield* Console.log(`desk${reply.simulated ? " (simulated)" : ""}: ${reply.text}\n`)
  })

/**
 * Follow the events of one conversation while `effect` runs, printing a progress line for each.
 *
 * @since 0.1.0
 */
export const withProgress = <A, E, R>(conversation: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const events = yield* Events.Events
    const queue = yield* events.subscribe
    const start = yield* Events.now
    const print = (event: Events.Event) => {
      const line = progressLine(event, start, conversation)
      return line === undefined ? Effect.void : Console.log(line)
    }
    const printer = yield* Queue.take(queue).pipe(Effect.flatMap(print), Effect.forever, Effect.fork)
    const result = yield* effect
    yield* Fiber.interrupt(printer)
    for (const event of yield* Queue.takeAll(queue)) yield* print(event)
    return result
  }).pipe(Effect.scoped)

/**
 * Run the scripted conversation on the current colony and print it; returns the replies. The
 * customer signed in is `customer` (Ana Ribeiro) unless `signedIn` names another.
 *
 * @since 0.1.0
 */
export const run = (
  conversation = "demo-1",
  signedIn: string = customer
): Effect.Effect<
  ReadonlyArray<Desk.Reply>,
  Desk.SupportError | Desk.ConversationNotYours | import("@colony/runtime").AgentError.AgentError | LanguageModel.ModelError,
  Colony.Services | Sharding
> =>
  Effect.gen(function*() {
    yield* Console.log(
      `colony demo: the Northwind Goods support desk, in one process (conversation ${conversation}, signed in as ${signedIn})\n`
    )
    const replies: Array<Desk.Reply> = []
    for (const message of script) {
      yield* Console.log(`customer: ${message}`)
      const reply = yield* withProgress(conversation, Desk.send(conversation, message, { customer: signedIn }))
      yield* printReply(reply)
      replies.push(reply)
      if (reply.escalation !== null) {
        yield* Console.log(`operator (scripted) answers ticket ${reply.escalation.id}: ${operatorReply}`)
        yield* withProgress(conversation, Desk.answerEscalation(reply.escalation.id, operatorReply))
        yield* Console.log("")
      }
    }
    const turns = yield* Desk.transcript(conversation)
    yield* Console.log(`transcript: ${turns.length} turns (${turns.filter((t) => t.role === "human").length} from a human)`)
    const tokens = replies.reduce((n, r) => n + r.totalTokens, 0)
    const simulated = replies.some((r) => r.simulated)
    yield* Console.log(`total: ${tokens} tokens${simulated ? ", simulated (no model endpoint configured)" : ""}`)
    return replies
  })

/**
 * Chat with the desk in the terminal until `/quit` or end of input, signed in as `signedIn`
 * (default: the scripted customer, Ana Ribeiro).
 *
 * @since 0.1.0
 */
export const interactive = (conversation = `chat-${Date.now().toString(36)}`, signedIn: string = customer) =>
  Effect.gen(function*() {
    yield* Console.log(`Northwind Goods support (conversation ${conversation}, signed in as ${signedIn}). /quit to ` +
      `leave, /tickets to list escalations, /answer <ticket> <text> to answer one as the operator.\n`)
    const rl = yield* Effect.acquireRelease(
      Effect.sync(() => readline.createInterface({ input: process.stdin, output: process.stdout, terminal: false })),
      (rl) => Effect.sync(() => rl.close())
    )
    const lines = rl[Symbol.asyncIterator]()
    while (true) {
      process.stdout.write("you> ")
      const next = yield* Effect.promise(() => lines.next())
      if (next.done === true) return
      const line = next.value.trim()
      if (line === "") continue
      if (line === "/quit") return
      if (line === "/tickets") {
        for (const t of yield* Desk.escalations) yield* Console.log(`  ${t.id} (${t.conversationId}): ${t.question}`)
        continue
      }
      const answer = /^\/answer\s+(\S+)\s+(.+)$/.exec(line)
      const step = answer !== null
        ? Effect.map(Desk.answerEscalation(answer[1]!, answer[2]!), (t) => Console.log(`  ticket ${t.id} answered`))
        : Effect.map(withProgress(conversation, Desk.send(conversation, line, { customer: signedIn })), printReply)
      yield* Effect.flatten(step).pipe(
        Effect.catchAll((error) => Console.log(`  error: ${"message" in error ? error.message : String(error)}`))
      )
    }
  }).pipe(Effect.scoped)

/**
 * The demo's colony: the support agents on an embedded colony, their tables in an embedded
 * Postgres in a throw-away directory.
 *
 * @since 0.1.0
 */
export const layer = (
  options: {
    readonly languageModel?: Layer.Layer<LanguageModel.LanguageModel> | undefined
    /** force one pattern for every message (default: `COLONY_SUPPORT_PATTERN`, else the router's choice) */
    readonly pattern?: Desk.Pattern | undefined
  } = {}
): Layer.Layer<Colony.Services | Sharding, unknown> => {
  const store = Layer.unwrapScoped(
    Effect.gen(function*() {
      const server = yield* DevPostgres.scoped({
        dataDir: join(mkdtempSync(join(tmpdir(), "colony-support-")), "pg"),
        persistent: false
      })
      yield* Effect.promise(() => server.createDatabase("support"))
      return Support.layerStore(server.url("support"))
    })
  )
  const agents = options.pattern === undefined ? Support.layer : Support.layerWith({ pattern: options.pattern })
  return agents.pipe(
    Layer.provide(store),
    Layer.provideMerge(Colony.layerEmbedded({ languageModel: options.languageModel }))
  )
}
