/**
 * Durable agents for the exactly-once tests (`colony runner --agents` loads this module's default
 * export): one that only asks its model, and one that files a note with a tool while answering.
 */
import { Agent, LanguageModel } from "@colony/runtime"
import { Effect, Layer, Schema } from "effect"

/** A durable agent without tools: one model call per message. */
export const Recorder = Agent.make({ name: "recorder", instructions: "You keep a record.", durable: true })

/** A tool whose output names the process that ran it, so a test can tell whether it ran again. */
export const fileNote = LanguageModel.tool({
  name: "file_note",
  description: "File a note in the archive",
  parameters: Schema.Struct({ note: Schema.String }),
  handler: ({ note }) => Effect.succeed(`filed "${note}" in process ${process.pid}`)
})

/** A durable agent that calls a tool while answering: a model call, a tool call, a model call. */
export const Archivist = Agent.make({
  name: "archivist",
  instructions: "You file notes.",
  tools: ["file_note"],
  durable: true
})

export default Layer.mergeAll(Agent.toLayer(Recorder), Agent.toLayer(Archivist, {}, { tools: [fileNote] }))
