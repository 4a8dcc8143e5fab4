/**
 * The `colony` command line.
 *
 * @since 0.1.0
 */
import { LanguageModel } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Colony } from "@colony/runtime"
import { Console, Effect, Layer, Option } from "effect"
import * as ClientCommands from "./cli/ClientCommands.js"
import * as GatewayCommand from "./cli/GatewayCommand.js"
import * as Demo from "./Demo.js"
import * as Dev from "./Dev.js"
import * as Runner from "./Runner.js"

const modelUrl = Options.text("model-url").pipe(
  Options.withDescription("an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 (default: simulated model)"),
  Options.optional
)
const modelId = Options.text("model-id").pipe(
  Options.withDescription("the model id to request from --model-url (default: the agent's model name)"),
  Options.optional
)

const demo = Command.make("demo", { modelUrl, modelId }, ({ modelId, modelUrl }) => {
  const models = Option.match(modelUrl, {
    onNone: () => undefined,
    onSome: (baseUrl) =>
      LanguageModel.layerOpenAI({
        baseUrl,
        ...Option.match(modelId, { onNone: () => ({}), onSome: (id) => ({ modelId: id }) }),
        apiKey: process.env.COLONY_MODEL_KEY ?? "not-needed"
      })
  })
  return Demo.run().pipe(
    Effect.provide(Demo.TeamLive.pipe(Layer.provideMerge(Colony.layerEmbedded({ languageModel: models }))))
  )
}).pipe(Command.withDescription("Run a coordinator and three workers on one request, master-slave style"))

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
  Options.withDescription("a module whose default export is a Layer of Agent.toLayer(...) (default: the demo team)"),
  Options.optional
)

const runner = Command.make(
  "runner",
  {
    agents: agentsModule,
    json: Options.boolean("json").pipe(Options.withDescription("report as JSON lines"))
  },
  ({ agents, json }) => Runner.run({ agents: Option.getOrUndefined(agents), json })
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

const colony = Command.make("colony").pipe(
  Command.withDescription("Colony: a runtime for teams of LLM agents"),
  Command.withSubcommands([
    demo,
    runner,
    dev,
    fakeLlm,
    GatewayCommand.command,
    ClientCommands.ask,
    ClientCommands.run,
    ClientCommands.agents,
    ClientCommands.sessions,
    ClientCommands.watch
  ])
)

const cli = Command.run(colony, { name: "colony", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
