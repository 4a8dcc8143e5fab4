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
import * as Demo from "./Demo.js"

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

const colony = Command.make("colony").pipe(
  Command.withDescription("Colony: a runtime for teams of LLM agents"),
  Command.withSubcommands([demo, fakeLlm])
)

const cli = Command.run(colony, { name: "colony", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
