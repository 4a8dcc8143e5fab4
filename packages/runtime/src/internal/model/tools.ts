/**
 * Tools a model may call, and the loop that runs them: call the model, run the tools it asks
 * for, feed the results back, until it answers.
 */
import { Clock, Effect, Either, Schema } from "effect"
import type { ModelError } from "./errors.js"
import { ToolStepLimitExceeded } from "./errors.js"
import { type ChatRequest, ChatMessage, type ChatResponse, type ToolCall, type ToolDefinition, Usage } from "./messages.js"
import { LanguageModel } from "./service.js"
import { formatError } from "./structuredOutput.js"

/**
 * What a tool handler returns to report that it failed while letting the model go on: `output` is
 * sent to the model as the tool's result, and the invocation is recorded with `ok: false`. Any
 * other value a handler returns is a success, whatever its text says.
 *
 * @since 0.1.0
 */
export class ToolFailure extends Schema.TaggedClass<ToolFailure>("@colony/runtime/ToolFailure")("ToolFailure", {
  output: Schema.String
}) {}

/**
 * A tool the model may call: its parameters are a `Schema`, and `handler` runs with the decoded
 * arguments. What the handler returns is sent back to the model (as is if a string, else as
 * JSON). A handler's failure ends the loop with that failure; to let the model recover instead,
 * catch it in the handler and return a `ToolFailure` describing what went wrong.
 *
 * @since 0.1.0
 */
export interface Tool<A = any, I = any, Out = unknown, E = never, R = never> extends ToolDefinition {
  readonly parameters: Schema.Schema<A, I, never>
  readonly handler: (args: A) => Effect.Effect<Out, E, R>
}

/**
 * Define a tool.
 *
 * @since 0.1.0
 */
export const tool = <A, I, Out, E = never, R = never>(options: {
  readonly name: string
  readonly description: string
  readonly parameters: Schema.Schema<A, I, never>
  readonly jsonSchema?: Readonly<Record<string, unknown>> | undefined
  readonly handler: (args: A) => Effect.Effect<Out, E, R>
}): Tool<A, I, Out, E, R> => options

/**
 * @since 0.1.0
 */
export declare namespace Tool {
  /**
   * @since 0.1.0
   */
  export type Any = Tool<any, any, any, any, any>
  /**
   * @since 0.1.0
   */
  export type Error<T> = T extends Tool<any, any, any, infer E, any> ? E : never
  /**
   * @since 0.1.0
   */
  export type Context<T> = T extends Tool<any, any, any, any, infer R> ? R : never
}

/**
 * A tool-call loop: the model may call `tools` for up to `maxSteps` model calls (default 8).
 *
 * @since 0.1.0
 */
export interface ToolLoopRequest<Tools extends ReadonlyArray<Tool.Any>> extends Omit<ChatRequest, "tools"> {
  readonly tools: Tools
  readonly maxSteps?: number | undefined
  /** called after every model call of the loop, with how long it took */
  readonly onResponse?: ((response: ChatResponse, durationMs: number) => Effect.Effect<void>) | undefined
}

/**
 * One tool run during a loop. `ok` is false when the call could not run (unknown tool, arguments
 * that do not match the schema) or its handler returned a `ToolFailure`; the model was told why.
 *
 * @since 0.1.0
 */
export interface ToolInvocation {
  readonly call: ToolCall
  readonly output: string
  readonly ok: boolean
}

/**
 * The model's final answer, the whole transcript (tool calls and results included), and what
 * the loop cost.
 *
 * @since 0.1.0
 */
export interface ToolLoopResult {
  readonly response: ChatResponse
  readonly messages: ReadonlyArray<ChatMessage>
  readonly steps: number
  readonly invocations: ReadonlyArray<ToolInvocation>
  readonly usage: Usage
  readonly cost: number
}

const render = (output: unknown): string => typeof output === "string" ? output : JSON.stringify(output) ?? "null"

/**
 * Run the tool-call loop: call the model; while it asks for tools, run them (in order) and feed
 * the results back; return its first answer without tool calls. A call to an unknown tool or
 * with arguments its `Schema` rejects is reported back to the model, which can try again.
 *
 * @since 0.1.0
 */
export const runTools = <const Tools extends ReadonlyArray<Tool.Any>>(
  request: ToolLoopRequest<Tools>
): Effect.Effect<
  ToolLoopResult,
  ModelError | ToolStepLimitExceeded | Tool.Error<Tools[number]>,
  LanguageModel | Tool.Context<Tools[number]>
> =>
  Effect.gen(function*() {
    const model = yield* LanguageModel
    const { maxSteps = 8, onResponse, tools, ...rest } = request
    const byName = new Map<string, Tool.Any>(tools.map((t) => [t.name, t]))
    const messages = [...rest.messages]
    const invocations: Array<ToolInvocation> = []
    let usage = Usage.zero
    let cost = 0
    let lastTools: ReadonlyArray<string> = []
    for (let step = 1; step <= maxSteps; step++) {
      const started = yield* Clock.currentTimeMillis
      const response = yield* model.chat({ ...rest, messages, tools })
      if (onResponse !== undefined) yield* onResponse(response, (yield* Clock.currentTimeMillis) - started)
      usage = Usage.add(usage, response.usage)
      cost += response.cost
      if (response.toolCalls.length === 0) {
        messages.push(ChatMessage.assistant(response.text))
        return { response, messages, steps: step, invocations, usage, cost }
      }
      messages.push(ChatMessage.assistant(response.text, response.toolCalls))
      lastTools = response.toolCalls.map((c) => c.name)
      for (const call of response.toolCalls) {
        const invocation = yield* invoke(byName, call)
        invocations.push(invocation)
        messages.push(ChatMessage.toolResult(call.id, invocation.output))
      }
    }
    return yield* new ToolStepLimitExceeded({ model: request.model, maxSteps, lastTools })
  }) as Effect.Effect<
    ToolLoopResult,
    ModelError | ToolStepLimitExceeded | Tool.Error<Tools[number]>,
    LanguageModel | Tool.Context<Tools[number]>
  >

const invoke = (byName: ReadonlyMap<string, Tool.Any>, call: ToolCall): Effect.Effect<ToolInvocation, unknown, unknown> => {
  const found = byName.get(call.name)
  if (found === undefined) {
    const known = [...byName.keys()].join(", ")
    return Effect.succeed({ call, ok: false, output: `error: there is no tool "${call.name}"; available tools: ${known}` })
  }
  const args = Schema.decodeUnknownEither(Schema.parseJson(found.parameters))(call.arguments)
  if (Either.isLeft(args)) {
    return Effect.succeed({
      call,
      ok: false,
      output: `error: the arguments do not match the parameters of "${call.name}": ${formatError(args.left)}. ` +
        `Call it again with corrected arguments.`
    })
  }
  return Effect.map(
    found.handler(args.right),
    (output) => output instanceof ToolFailure ? { call, ok: false, output: output.output } : { call, ok: true, output: render(output) }
  )
}
