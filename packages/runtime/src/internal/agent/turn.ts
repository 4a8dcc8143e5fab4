/**
 * One turn of an agent: its model (and tools) answer a prompt from the memory as it is now.
 * Through a journal, a durable message's completed steps are read back instead of taken again.
 */
import { Effect, Ref, Schema } from "effect"
import * as Events from "../../Events.js"
import type * as Journal from "../journal.js"
import { withAttribution } from "../model/attribution.js"
import type { ModelError } from "../model/errors.js"
import { ChatMessage, type ChatRequest, type ChatResponse, type Usage } from "../model/messages.js"
import { LanguageModel } from "../model/service.js"
import { runTools, type Tool, type ToolLoopResult } from "../model/tools.js"
import type { Instance } from "./context.js"
import type { InstanceMemory } from "./memory.js"
import { Answer, type AnswerFormat, ToolUse } from "./protocol.js"
import { journaledTool, type Toolbox } from "./tools.js"

/** What a turn adds to the memory, and the answer it gives. */
export interface TurnResult {
  readonly exchange: ReadonlyArray<ChatMessage>
  readonly answer: Answer
}

/** Answers a prompt, taking the steps through `journal`; in `format` when one is given. */
export type Turn = (
  prompt: string,
  journal: Journal.Journal,
  format?: AnswerFormat | undefined
) => Effect.Effect<TurnResult, ModelError>

/** The caller's answer format as the model's response format: any JSON, held to its JSON Schema. */
const responseFormatOf = (format: AnswerFormat | undefined): Pick<ChatRequest, "responseFormat"> =>
  format === undefined ? {} : {
    responseFormat: {
      name: format.name,
      description: format.description,
      schema: Schema.Unknown,
      jsonSchema: format.jsonSchema
    }
  }

const toolOutputLimit = 500

interface Reply {
  readonly response: ChatResponse
  readonly usage: Usage
  readonly cost: number
  readonly used: ReadonlyArray<ToolUse>
}

// The values below are built from values already valid (a model response, the handler's own
// records), so their constructors skip validation: it costs more than the rest of a hop.
const modelCalled = (instance: Instance) => (response: ChatResponse, durationMs: number) =>
  Effect.flatMap(Events.now, (at) =>
    Events.publish(
      new Events.ModelCalled({
        agent: instance.def.name,
        id: instance.id,
        at,
        model: response.model,
        modelId: response.modelId,
        simulated: response.simulated,
        usage: response.usage,
        cost: response.cost,
        retries: response.retries,
        durationMs
      }, true)
    ))

const toolLoop = (
  model: LanguageModel["Type"],
  request: Omit<ChatRequest, "tools">,
  tools: ReadonlyArray<Tool.Any>,
  options: { readonly maxSteps: number; readonly onResponse: (response: ChatResponse, ms: number) => Effect.Effect<void> }
): Effect.Effect<Reply, ModelError> =>
  Effect.map(
    runTools({ ...request, tools, ...options }).pipe(
      Effect.provideService(LanguageModel, model)
    ) as Effect.Effect<ToolLoopResult, ModelError>,
    (loop) => ({
      response: loop.response,
      usage: loop.usage,
      cost: loop.cost,
      used: loop.invocations.map((invocation) =>
        new ToolUse({
          name: invocation.call.name,
          arguments: invocation.call.arguments,
          ok: invocation.ok,
          output: invocation.output.slice(0, toolOutputLimit)
        }, true)
      )
    })
  )

/** The turns of one instance, with its model, memory and tools. */
export const makeTurn = (
  instance: Instance,
  model: LanguageModel["Type"],
  memory: InstanceMemory,
  toolbox: Toolbox
): Turn =>
(prompt, journal, format) =>
  Effect.gen(function*() {
    const { def } = instance
    const history = yield* Ref.get(memory.transcript)
    const question = new ChatMessage({ role: "user", content: prompt })
    const messages = [new ChatMessage({ role: "system", content: def.instructions }), ...history, question]
    const chat = journal.chat(model.chat)
    const onResponse = (response: ChatResponse, durationMs: number) =>
      journal.replayed(response) ? Effect.void : modelCalled(instance)(response, durationMs)
    const available = yield* toolbox.available
    const reply: Reply = available.length === 0
      ? yield* Effect.gen(function*() {
        const started = yield* Events.now
        const response = yield* chat({ model: def.model, messages, ...responseFormatOf(format) })
        yield* onResponse(response, (yield* Events.now) - started)
        return { response, usage: response.usage, cost: response.cost, used: [] }
      })
      : yield* toolLoop({ ...model, chat }, { model: def.model, messages, ...responseFormatOf(format) }, available.map(journaledTool(journal)), {
        maxSteps: def.maxToolSteps,
        onResponse
      })
    const { response } = reply
    const answer = new Answer({
      text: response.text,
      agent: def.name,
      id: instance.id,
      model: response.model,
      modelId: response.modelId,
      simulated: response.simulated,
      usage: reply.usage,
      cost: reply.cost,
      runner: instance.runner,
      tools: reply.used
    }, true)
    return { exchange: [question, new ChatMessage({ role: "assistant", content: response.text })], answer }
  }).pipe(withAttribution({ agent: instance.key }))

