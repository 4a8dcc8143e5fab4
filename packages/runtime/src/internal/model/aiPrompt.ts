/**
 * Colony's transcript and `@effect/ai`'s `Prompt` and response parts, each into the other: the
 * two meet where an `@effect/ai` provider answers behind the door, and where the door answers as
 * an `@effect/ai` service.
 */
import * as AiTool from "@effect/ai/Tool"
import type * as Prompt from "@effect/ai/Prompt"
import type * as Response from "@effect/ai/Response"
import { Schema } from "effect"
import { toolParametersOf } from "../provider.js"
import { ChatMessage, type ResponseFormat, type ToolDefinition, ToolCall, Usage } from "./messages.js"

const json = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value) ?? "null"

const parseArguments = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    // the model wrote something that is not JSON; the tool loop reports it back to the model
    return text
  }
}

/** The transcript as an `@effect/ai` prompt. A tool result is named after the call it answers. */
export const promptOf = (messages: ReadonlyArray<ChatMessage>): ReadonlyArray<Prompt.MessageEncoded> => {
  const toolNames = new Map<string, string>()
  return messages.map((message): Prompt.MessageEncoded => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content }
      case "user":
        return { role: "user", content: message.content }
      case "assistant": {
        const calls = message.toolCalls ?? []
        for (const call of calls) toolNames.set(call.id, call.name)
        return {
          role: "assistant",
          content: [
            ...(message.content.length > 0 ? [{ type: "text" as const, text: message.content }] : []),
            ...calls.map((call) => ({
              type: "tool-call" as const,
              id: call.id,
              name: call.name,
              params: parseArguments(call.arguments),
              providerExecuted: false
            }))
          ]
        }
      }
      case "tool":
        return {
          role: "tool",
          content: [{
            type: "tool-result",
            id: message.toolCallId ?? "",
            name: toolNames.get(message.toolCallId ?? "") ?? "tool",
            isFailure: false,
            result: message.content,
            providerExecuted: false
          }]
        }
    }
  })
}

const textOf = (parts: ReadonlyArray<Prompt.Part>): string =>
  parts.flatMap((part) => part.type === "text" || part.type === "reasoning" ? [part.text] : []).join("")

/** An `@effect/ai` prompt as a transcript; files and reasoning have no place in it and are left out. */
export const messagesOf = (prompt: Prompt.Prompt): ReadonlyArray<ChatMessage> =>
  prompt.content.flatMap((message): ReadonlyArray<ChatMessage> => {
    switch (message.role) {
      case "system":
        return [ChatMessage.system(message.content)]
      case "user":
        return [ChatMessage.user(textOf(message.content))]
      case "assistant": {
        const calls = message.content.flatMap((part) =>
          part.type === "tool-call" && !part.providerExecuted
            ? [new ToolCall({ id: part.id, name: part.name, arguments: json(part.params) })]
            : []
        )
        return [ChatMessage.assistant(textOf(message.content), calls)]
      }
      case "tool":
        return message.content.map((part) => ChatMessage.toolResult(part.id, json(part.result)))
    }
  })

// What the model may put in a call's arguments is checked by the tool loop, which tells the model
// what was wrong; here any object passes, and the provider sends the tool's own JSON Schema.
const AnyArguments = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** A tool definition as an `@effect/ai` tool that the provider can describe but nobody runs. */
export const aiToolOf = (tool: ToolDefinition): AiTool.Any =>
  AiTool.make(tool.name, { description: tool.description }).setParameters(
    Schema.Struct({}, AnyArguments).annotations({ jsonSchema: toolParametersOf(tool) })
  ) as unknown as AiTool.Any

/** A response format as the schema `@effect/ai` sends: the JSON Schema we would have sent. */
export const aiFormatSchema = (format: ResponseFormat, jsonSchema: Record<string, unknown>) =>
  Schema.Unknown.annotations({ jsonSchema, ...(format.description === undefined ? {} : { description: format.description }) })

/** Our finish reasons are the OpenAI wire's. */
export const finishReasonOf = (reason: Response.FinishReason): string =>
  reason === "tool-calls" ? "tool_calls" : reason === "content-filter" ? "content_filter" : reason

/** `@effect/ai`'s reasons from ours. */
export const aiFinishReason = (reason: string): Response.FinishReason => {
  switch (reason) {
    case "stop":
    case "length":
    case "error":
    case "pause":
    case "other":
      return reason
    case "tool_calls":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    default:
      return "unknown"
  }
}

/** Usage as we count it; a provider that reports no tokens spent none we can count. */
export const usageOf = (usage: Response.Usage): Usage => {
  const promptTokens = usage.inputTokens ?? 0
  const completionTokens = usage.outputTokens ?? 0
  return new Usage({ promptTokens, completionTokens, totalTokens: usage.totalTokens ?? promptTokens + completionTokens })
}
