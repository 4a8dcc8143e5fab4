/**
 * An agent instance as its handlers and tools see it, and as the machinery hosting it shares it.
 */
import { Context, type Effect } from "effect"
import type { Transcript } from "../../AgentMemory.js"
import type { ModelError } from "../model/errors.js"
import type { Definition } from "./definition.js"
import type { Answer } from "./protocol.js"

/**
 * What a handler of a user RPC can do with the agent instance it runs in.
 *
 * @since 0.1.0
 * @category models
 */
export interface AgentContext {
  readonly agent: string
  readonly id: string
  readonly definition: Definition
  /** ask the agent's model, exactly as the `Ask` RPC does (memory included) */
  readonly ask: (prompt: string) => Effect.Effect<Answer, ModelError>
  /** the instance's conversation memory */
  readonly history: Effect.Effect<Transcript>
  /** replace the instance's conversation memory (trimmed to the history limit, then stored) */
  readonly remember: (transcript: Transcript) => Effect.Effect<void>
}

/**
 * The agent instance a tool or handler runs for: its type and id. Tools are shared by every
 * instance of a type, so a tool that keeps per-conversation state (or logs what it did) reads
 * whose call it is from here.
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentAgent extends Context.Tag("@colony/runtime/Agent/CurrentAgent")<CurrentAgent, {
  readonly agent: string
  readonly id: string
}>() {}

/**
 * One hosted instance: its definition, id, the runner it lives on, and the context its handlers
 * and tools run in (the services the layer was given).
 */
export interface Instance {
  readonly def: Definition
  readonly id: string
  /** `type/id`, the key of its memory and supervision */
  readonly key: string
  /** the runner hosting it now ("host:port") */
  readonly runner: string
  readonly self: CurrentAgent["Type"]
  readonly context: Context.Context<any>
}
