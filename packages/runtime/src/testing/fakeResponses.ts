/**
 * OpenAI's Responses API on the fake server (`POST /v1/responses`), which `@effect/ai-openai`
 * speaks: a request is read as the chat request it amounts to (so scripts, faults and `respond`
 * work the same), and the answer is written as a `response` object. Streaming is not served here.
 */
// the parts of a chat request the server reads (`FakeOpenAI.ChatBody`, which this matches)
interface ChatBody {
  readonly model?: string
  readonly messages?: ReadonlyArray<{
    readonly role?: string
    readonly content?: unknown
    readonly tool_calls?: ReadonlyArray<unknown>
    readonly tool_call_id?: string
  }>
  readonly tools?: ReadonlyArray<{ readonly function?: { readonly name?: string; readonly parameters?: unknown } }>
  readonly tool_choice?: unknown
  readonly response_format?: { readonly type?: string; readonly json_schema?: { readonly schema?: unknown } }
}

interface ResponsesBody {
  readonly model?: string
  readonly stream?: boolean
  readonly instructions?: string | null
  readonly input?: string | ReadonlyArray<Record<string, unknown>>
  readonly tools?: ReadonlyArray<{ readonly type?: string; readonly name?: string; readonly parameters?: unknown }>
  readonly tool_choice?: unknown
  readonly text?: { readonly format?: { readonly type?: string; readonly schema?: unknown } }
}

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
    ? content.map((part) => typeof part?.text === "string" ? part.text : "").join("")
    : ""

/** The chat request a Responses request amounts to. */
export const toChatBody = (body: ResponsesBody): ChatBody => {
  const input = typeof body.input === "string" ? [{ role: "user", content: body.input }] : body.input ?? []
  const messages: Array<NonNullable<ChatBody["messages"]>[number]> = []
  if (typeof body.instructions === "string") messages.push({ role: "system", content: body.instructions })
  for (const item of input) {
    if (item["type"] === "function_call") {
      messages.push({
        role: "assistant",
        content: null,
        tool_calls: [{ id: item["call_id"], type: "function", function: { name: item["name"], arguments: item["arguments"] } }]
      })
    } else if (item["type"] === "function_call_output") {
      messages.push({ role: "tool", content: String(item["output"] ?? ""), tool_call_id: String(item["call_id"] ?? "") })
    } else if (typeof item["role"] === "string") {
      messages.push({ role: item["role"] === "developer" ? "system" : item["role"], content: textOf(item["content"]) })
    }
  }
  const format = body.text?.format
  return {
    ...(body.model === undefined ? {} : { model: body.model }),
    messages,
    tools: (body.tools ?? []).filter((tool) => tool.type === "function").map((tool) => ({
      function: {
        ...(tool.name === undefined ? {} : { name: tool.name }),
        parameters: tool.parameters
      }
    })),
    tool_choice: body.tool_choice,
    ...(format?.type === "json_schema" ? { response_format: { type: "json_schema", json_schema: { schema: format.schema } } } : {})
  }
}

export const isStreaming = (body: ResponsesBody): boolean => body.stream === true

/** The `response` object of an answer. */
export const responseOf = (
  answer: {
    readonly text: string
    readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: string }>
    readonly promptTokens: number
    readonly completionTokens: number
  },
  model: string,
  id: number
) => ({
  id: `resp_fake_${id}`,
  object: "response",
  created_at: Math.floor(Date.now() / 1000),
  status: "completed",
  error: null,
  incomplete_details: null,
  instructions: null,
  metadata: null,
  temperature: null,
  top_p: null,
  model,
  output: [
    ...(answer.text === "" ? [] : [{
      type: "message",
      id: `msg_fake_${id}`,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: answer.text, annotations: [], logprobs: [] }]
    }]),
    ...answer.toolCalls.map((call, i) => ({
      type: "function_call",
      id: `fc_fake_${id}_${i}`,
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
      status: "completed"
    }))
  ],
  parallel_tool_calls: true,
  tool_choice: "auto",
  tools: [],
  usage: {
    input_tokens: answer.promptTokens,
    output_tokens: answer.completionTokens,
    total_tokens: answer.promptTokens + answer.completionTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens_details: { reasoning_tokens: 0 }
  }
})
