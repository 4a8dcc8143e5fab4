/**
 * The `colony` command line: the generic commands, with the applications this program ships wired
 * in — the demo team and the task service (served by `colony gateway`, hosted by `colony runner`
 * without `--agents`) and the support desk (`colony demo`, `colony support`, `colony gateway`'s
 * `/support/`, and `colony eval`'s task set `support-kb`).
 *
 * @since 0.1.0
 */
import { FakeOpenAI } from "@colony/runtime/testing"
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Colony } from "@colony/runtime"
import { Console, Effect, Layer, Option } from "effect"
import * as ClientCommands from "./cli/ClientCommands.js"
import * as EvalCommand from "./cli/EvalCommand.js"
import * as GatewayCommand from "./cli/GatewayCommand.js"
import * as InitCommand from "./cli/InitCommand.js"
import * as SupportCommands from "./support/SupportCommands.js"
import * as Demo from "./demo/Demo.js"
import * as ModelOptions from "./cli/ModelOptions.js"
import * as Dev from "./runner/Dev.js"
import * as Runner from "./runner/Runner.js"
import * as SupportScript from "./support/Script.js"
import * as SupportDesk from "./support/SupportDesk.js"
import * as Tasks from "./tasks/Tasks.js"

const { modelId, modelUrl } = ModelOptions

const demo = Command.make(
  "demo",
  {
    modelUrl,
    modelId,
    interactive: Options.boolean("interactive").pipe(
      Options.withDescription("chat with the support desk in the terminal instead of the scripted conversation")
    ),
    team: Options.boolean("team").pipe(
      Options.withDescription("run the earlier demo instead: a coordinator and three workers on one request")
    ),
    customer: Options.text("customer").pipe(
      Options.withDescription(
        `the signed-in customer's e-mail address; the desk acts only on their orders (default: ${SupportScript.customer})`
      ),
      Options.withDefault(SupportScript.customer)
    )
  },
  ({ customer, interactive, modelId, modelUrl, team }) => {
    const models = ModelOptions.layer(modelUrl, modelId)
    if (team) {
      return Demo.run().pipe(
        Effect.provide(Demo.TeamLive.pipe(Layer.provideMerge(Colony.layerEmbedded({ languageModel: models }))))
      )
    }
    const program = interactive
      ? SupportScript.interactive(undefined, customer)
      : Effect.asVoid(SupportScript.run(undefined, customer))
    return program.pipe(Effect.provide(SupportScript.layer({ languageModel: models })))
  }
).pipe(
  Command.withDescription(
    "The support desk on an embedded colony and an embedded Postgres: a scripted customer conversation (or --interactive)"
  )
)

const fakeLlm = Command.make(
  "fake-llm",
  {
    port: Options.integer("port").pipe(Options.withDefault(8080), Options.withDescription("port to listen on")),
    latency: Options.integer("latency-ms").pipe(
      Options.withDefault(0),
      Options.withDescription("delay before every answer, in milliseconds")
    )
  },
  ({ latency, port }) =>
    Effect.acquireRelease(
      Effect.promise(() => FakeOpenAI.start({ port, latencyMs: latency })),
      (server) => Effect.promise(() => server.close())
    ).pipe(
      Effect.tap((server) =>
        Console.log(`fake OpenAI-compatible server listening on ${server.url} (Ctrl-C to stop)`)
      ),
      Effect.zipRight(Effect.never),
      Effect.scoped
    )
).pipe(Command.withDescription("Serve a fake OpenAI-compatible endpoint for tests, demos and benchmarks"))

const agentsModule = Options.text("agents").pipe(
  Options.withDescription(
    "a module whose default export is a Layer of Agent.toLayer(...) (default: the demo team and the task service)"
  ),
  Options.optional
)

const runner = Command.make(
  "runner",
  {
    agents: agentsModule,
    json: Options.boolean("json").pipe(Options.withDescription("report as JSON lines"))
  },
  ({ agents, json }) =>
    Runner.run({ agents: Option.getOrUndefined(agents), json, applications: [Demo.application, Tasks.application] })
).pipe(
  Command.withDescription(
    "Start one runner: hosts agents and joins the colony (DATABASE_URL, COLONY_RUNNER_SECRET, COLONY_LISTEN_PORT, ...)"
  )
)

const dev = Command.make(
  "dev",
  {
    runners: Options.integer("runners").pipe(Options.withDefault(3), Options.withDescription("how many runners")),
    dir: Options.text("dir").pipe(Options.withDefault(".colony"), Options.withDescription("where Postgres keeps its data")),
    agents: agentsModule
  },
  ({ agents, dir, runners }) => Dev.run({ runners, dir, agents: Option.getOrUndefined(agents) })
).pipe(Command.withDescription("Start an embedded Postgres and N runners on this machine"))

const support = SupportDesk.application()

const gateway = GatewayCommand.make([
  {
    application: Demo.application,
    description: "serve the demo team (coordinator, researcher, writer, analyst) and its presets",
    asClient: true
  },
  {
    application: support,
    description: "serve the support desk's chat page, dashboard and API (/support/), hosted here with an embedded " +
      "Postgres for its tables, or, as a client, in front of runners that host the desk",
    asClient: false,
    notes: SupportDesk.gatewayNotes
  },
  {
    // on by default, in front of runners too: it keeps no storage, and `colony runner` hosts it
    application: Tasks.application,
    description: "serve the task service: POST /tasks/process_task and the A2A agent task-service (a coordinator " +
      "splits a task, workers do the parts, the coordinator combines them)",
    asClient: true,
    notes: Tasks.gatewayNotes
  }
])

const colony = Command.make("colony").pipe(
  Command.withDescription("Colony: a runtime for teams of LLM agents"),
  Command.withSubcommands([
    InitCommand.command,
    demo,
    runner,
    dev,
    fakeLlm,
    EvalCommand.make([support]),
    gateway,
    ClientCommands.ask,
    ClientCommands.run,
    ClientCommands.agents,
    ClientCommands.sessions,
    ClientCommands.watch,
    SupportCommands.command
  ])
)

const cli = Command.run(colony, { name: "colony", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
