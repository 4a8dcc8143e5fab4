/**
 * The `colony` command line.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as Demo from "./Demo.js"

const demo = Command.make("demo", {}, () => Demo.run().pipe(Effect.provide(Demo.layer))).pipe(
  Command.withDescription("Run a coordinator and three workers on one request, master-slave style")
)

const colony = Command.make("colony").pipe(
  Command.withDescription("Colony: a runtime for teams of LLM agents"),
  Command.withSubcommands([demo])
)

const cli = Command.run(colony, { name: "colony", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.provide(Layer.mergeAll(NodeContext.layer)),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
