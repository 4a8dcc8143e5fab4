/**
 * Durable agents for the exactly-once tests (`colony runner --agents` loads this module's default
 * export): one that only asks its model, and one that files a note with a tool while answering.
 */
import { Agent } from "@colony/runtime"
import { Tool, Toolkit } from "@effect/ai"
import { Effect, Layer, Schema } from "effect"

/** A durable agent without tools: one model call per message. */
export const Recorder = Agent.make({ name: "recorder", instructions: "You keep a record.", durable: true })

/** A tool whose output names the process that ran it, so a test can tell whether it ran again. */
export const FileNote = Tool.make("file_note", {
  description: "File a note in the archive",
  parameters: { note: Schema.String },
  success: Schema.String
})

/** A durable agent that calls a tool while answering: a model call, a tool call, a model call. */
export const Archivist = Agent.make({
  name: "archivist",
  instructions: "You file notes.",
  toolkit: Toolkit.make(FileNote),
  durable: true
})

export default Layer.mergeAll(Agent.toLayer(Recorder), Agent.toLayer(Archivist, {}, {
    toolHandlers: { file_note: ({ note }) => Effect.succeed(`filed "${note}" in process ${process.pid}`) }
  }))
