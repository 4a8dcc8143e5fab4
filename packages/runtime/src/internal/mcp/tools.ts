/**
 * An MCP server's tools as an agent uses them: their names in the model's tool list, and their
 * output as text.
 */
import { Schema } from "effect"
import { createHash } from "node:crypto"
import type { Tool } from "../../LanguageModel.js"
import type { McpError } from "./errors.js"

/**
 * An MCP tool as an agent uses it: a `LanguageModel` tool whose wire name is prefixed with the
 * server's name and whose JSON Schema is the server's own.
 *
 * @since 0.1.0
 * @category models
 */
export interface McpTool extends Tool<Arguments, Arguments, string, McpError> {
  readonly server: string
  /** the tool's name on its server */
  readonly remoteName: string
}

// Locally the arguments only need to be a JSON object: the server holds the real contract.
export const Arguments = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type Arguments = typeof Arguments.Type

const shortHash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 8)

/**
 * The name a server's tool goes by in the model's tool list: `<server>__<tool>`, in the
 * characters and length OpenAI-compatible endpoints accept (`[a-zA-Z0-9_-]{1,64}`); a name that
 * had to be changed or cut gets a hash of the original so that it stays unique.
 *
 * @since 0.1.0
 */
export const toolName = (server: string, tool: string): string => {
  const plain = `${server}__${tool}`
  const safe = plain.replace(/[^a-zA-Z0-9_-]/g, "_")
  if (safe === plain && safe.length <= 64) return safe
  return `${safe.slice(0, 55)}_${shortHash(plain)}`
}

export interface Listed {
  readonly name: string
  readonly description?: string | undefined
  readonly title?: string | undefined
  readonly inputSchema: Record<string, unknown>
}

export interface Content {
  readonly type: string
  readonly text?: string | undefined
  readonly mimeType?: string | undefined
  readonly uri?: string | undefined
  readonly resource?: { readonly uri: string; readonly text?: string | undefined } | undefined
}

// Text goes to the model as is; other content is named, since the model reads text only.
export const renderContent = (content: ReadonlyArray<Content>, structured: unknown): string => {
  const parts = content.map((part) => {
    switch (part.type) {
      case "text":
        return part.text ?? ""
      case "resource":
        return part.resource?.text ?? `[resource ${part.resource?.uri ?? ""}]`
      case "resource_link":
        return `[resource ${part.uri ?? ""}]`
      default:
        return `[${part.type}${part.mimeType === undefined ? "" : ` ${part.mimeType}`}]`
    }
  })
  if (parts.length === 0 && structured !== undefined) return JSON.stringify(structured)
  return parts.length === 0 ? "(no output)" : parts.join("\n")
}
