/**
 * An agent's `@effect/ai` toolkit and the handlers its layer gives it, as the tools the tool-call
 * loop runs: a tool is named once, in the toolkit, and `toLayer` cannot be written without a
 * handler for each.
 */
import * as AiTool from "@effect/ai/Tool"
import type * as Toolkit from "@effect/ai/Toolkit"
import { Effect, Schema } from "effect"
import type { Tool } from "../model/tools.js"

/**
 * One handler per tool of the toolkit that needs one: from the decoded parameters to the tool's
 * success (sent to the model as JSON, or as is when a string), failing with the tool's failure
 * (sent to the model as the tool's failed result). A handler may use any service; the layer that
 * hosts the agent requires them.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolHandlers<Tools extends Record<string, AiTool.Any>> = {
  readonly [Name in keyof Tools as AiTool.RequiresHandler<Tools[Name]> extends true ? Name : never]: (
    params: AiTool.Parameters<Tools[Name]>
  ) => Effect.Effect<AiTool.Success<Tools[Name]>, AiTool.Failure<Tools[Name]>, any>
}

/**
 * The services the tool handlers need.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolHandlersContext<H> = {
  [K in keyof H]: H[K] extends (...args: any) => Effect.Effect<any, any, infer R> ? R : never
}[keyof H]

/** Why a toolkit cannot be an agent's, if it cannot. */
export const invalidToolkit = (agent: string, toolkit: Toolkit.Any): string | undefined => {
  for (const [key, tool] of Object.entries(toolkit.tools)) {
    if (AiTool.isProviderDefined(tool)) {
      return `agent "${agent}": the tool "${key}" is defined by a provider; an agent's tools run in the agent, ` +
        `so give it a handler with Tool.make`
    }
  }
  return undefined
}

const render = (encoded: unknown): string => typeof encoded === "string" ? encoded : JSON.stringify(encoded) ?? "null"

// The failure stays a failure: the agent hosting the tool reports it to the model as
// "error: <tag>: <message>" and marks the call failed, like any tool's.
const fromAiTool = (tool: AiTool.Any, handler: (params: unknown) => Effect.Effect<unknown, unknown, unknown>): Tool.Any => {
  const encodeSuccess = Schema.encodeUnknown(tool.successSchema as Schema.Schema<unknown, unknown, never>)
  return {
    name: tool.name,
    description: tool.description ?? "",
    parameters: tool.parametersSchema as Schema.Schema<unknown, unknown, never>,
    jsonSchema: AiTool.getJsonSchema(tool as any) as unknown as Record<string, unknown>,
    // a result the tool's own schema refuses is a bug in the handler: a defect, reported the same way
    handler: (params) =>
      handler(params).pipe(
        Effect.flatMap((success) => Effect.orDie(encodeSuccess(success))),
        Effect.map(render)
      )
  }
}

/**
 * The toolkit's tools with their handlers. A name without a handler is a type error where the
 * handlers are written; this check is for callers that bypass the types.
 */
export const toolsOf = (
  agent: string,
  toolkit: Toolkit.Any,
  handlers: Readonly<Record<string, (params: any) => Effect.Effect<unknown, unknown, unknown>>>
): ReadonlyArray<Tool.Any> | string => {
  const tools = Object.values(toolkit.tools)
  const missing = tools.filter((tool) => typeof handlers[tool.name] !== "function").map((tool) => tool.name)
  if (missing.length > 0) {
    return `Agent.toLayer: agent "${agent}" has no handler for the tool(s) ${missing.join(", ")}; ` +
      `give them in the options: Agent.toLayer(agent, handlers, { toolHandlers: { ${missing[0]}: (params) => ... } })`
  }
  return tools.map((tool) => fromAiTool(tool, handlers[tool.name]!))
}
