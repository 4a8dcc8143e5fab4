/**
 * A2A messages as colony agents read and write them: text parts only.
 */
import { type Message, type Part, Role } from "@a2a-js/sdk"
import { randomUUID } from "node:crypto"

export const textPart = (text: string): Part => ({
  content: { $case: "text", value: text },
  metadata: undefined,
  filename: "",
  mediaType: "text/plain"
})

/**
 * The text of an A2A message: its text parts, one per line. Other parts (files, data) are not
 * read by colony agents.
 *
 * @since 0.1.0
 */
export const textOf = (message: Message | undefined): string =>
  (message?.parts ?? []).flatMap((part) => part.content?.$case === "text" ? [part.content.value] : []).join("\n")

export const agentMessage = (taskId: string, contextId: string, text: string): Message => ({
  messageId: randomUUID(),
  contextId,
  taskId,
  role: Role.ROLE_AGENT,
  parts: [textPart(text)],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: []
})
