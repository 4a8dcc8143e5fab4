/**
 * The tools an instance answers with: its own, hosted so that whatever goes wrong in them becomes
 * their result; those of its MCP servers as the connections know them now; and, for a durable
 * message, each recorded in the message's journal.
 */
import { Effect, Either, Exit, Option, Schema } from "effect"
import * as Events from "../../Events.js"
import type * as Mcp from "../../Mcp.js"
import * as Journal from "../journal.js"
import { type Tool, ToolFailure } from "../model/tools.js"
import { CurrentAgent, type Instance } from "./context.js"
import { ToolInfo } from "./protocol.js"
import { describeFailure } from "./summaries.js"

/** The tools of one instance: those it may call now, and how `Describe` lists them. */
export interface Toolbox {
  readonly available: Effect.Effect<ReadonlyArray<Tool.Any>>
  readonly details: Effect.Effect<ReadonlyArray<ToolInfo>>
}

// A tool runs in the agent's own context, and whatever goes wrong in it becomes its result:
// the model reads the error and can answer anyway, the caller never sees a tool's failure
// (the answer's `tools` marks it failed).
const host = (instance: Instance) => (tool: Tool.Any): Tool.Any => ({
  ...tool,
  handler: (args: unknown) =>
    Effect.gen(function*() {
      const started = yield* Events.now
      const exit = yield* Effect.exit(Effect.suspend(() => tool.handler(args)).pipe(
        Effect.provide(instance.context),
        Effect.provideService(CurrentAgent, instance.self)
      ))
      const output = Exit.isSuccess(exit) ? exit.value : `error: ${describeFailure(exit.cause)}`
      const rendered = typeof output === "string" ? output : JSON.stringify(output) ?? "null"
      yield* Events.publish(
        new Events.ToolCalled({
          agent: instance.def.name,
          id: instance.id,
          at: yield* Events.now,
          tool: tool.name,
          ok: Exit.isSuccess(exit),
          durationMs: (yield* Events.now) - started,
          summary: Events.summarize(rendered)
        }, true)
      )
      return Exit.isSuccess(exit) ? rendered : new ToolFailure({ output: rendered })
    })
})

/**
 * The instance's toolbox. A server that cannot be reached yet leaves its tools out of an answer
 * (with a warning) rather than failing it, and `Describe` lists it as unavailable.
 */
export const makeToolbox = (
  instance: Instance,
  tools: ReadonlyArray<Tool.Any>,
  mcp: Option.Option<Mcp.Service>
): Toolbox => {
  const { def } = instance
  const hosted = tools.map(host(instance))
  const mcpTools = (server: Mcp.Server): Effect.Effect<ReadonlyArray<Mcp.McpTool>, Mcp.McpServerUnavailable> =>
    Option.match(mcp, {
      // toLayer provides `Mcp.layer` to every agent that names a server
      onNone: () => Effect.dieMessage(`Agent "${def.name}" names MCP server "${server.name}" but has no Mcp service`),
      onSome: (connections) => connections.tools(server)
    })
  const available = def.mcp.length === 0
    ? Effect.succeed(hosted)
    : Effect.map(
      Effect.forEach(def.mcp, (server) =>
        mcpTools(server).pipe(
          Effect.catchAll((error) => Effect.as(Effect.logWarning(error.message), []))
        )),
      (lists) => [...hosted, ...lists.flat().map(host(instance))]
    )
  const info = (source: string) => (tool: { readonly name: string; readonly description: string }) =>
    new ToolInfo({ name: tool.name, description: tool.description, source, available: true })
  const details = Effect.map(
    Effect.forEach(def.mcp, (server) =>
      mcpTools(server).pipe(
        Effect.map((listed) => listed.map(info(server.name))),
        Effect.catchAll((error) =>
          Effect.succeed([
            new ToolInfo({ name: `${server.name}__*`, description: error.message, source: server.name, available: false })
          ])
        )
      )),
    (remote) => [...tools.map(info("local")), ...remote.flat()]
  )
  return { available, details }
}

// A journal records a tool's result as text. The text recorded holds whether the tool failed,
// so a failure read back on a replay is still one; a record without it (written before it held
// one) is read back as the successful output it was.
const JournaledToolResult = Schema.parseJson(Schema.Struct({ ok: Schema.Boolean, output: Schema.String }))
const encodeToolResult = Schema.encodeSync(JournaledToolResult)
const decodeToolResult = Schema.decodeUnknownEither(JournaledToolResult)

/** `tool` with its runs recorded in `journal`, and read back from it on a replay. */
export const journaledTool = (journal: Journal.Journal) => (tool: Tool.Any): Tool.Any => {
  if (journal === Journal.passThrough) return tool
  const recorded = journal.tool({
    ...tool,
    handler: (args: unknown) =>
      Effect.map(tool.handler(args), (result) =>
        encodeToolResult(
          result instanceof ToolFailure ? { ok: false, output: result.output } : { ok: true, output: String(result) }
        ))
  })
  return {
    ...recorded,
    handler: (args: unknown) =>
      Effect.map(recorded.handler(args), (text) =>
        Either.match(decodeToolResult(text), {
          onLeft: () => String(text),
          onRight: ({ ok, output }) => ok ? output : new ToolFailure({ output })
        }))
  }
}
