/**
 * A remote Agent2Agent (A2A) agent as a tool: an agent of any framework that publishes an A2A
 * agent card, called by a colony agent while it answers.
 *
 * <!-- snippet: import * as A2ATool from "@colony/apps/A2ATool" -->
 * ```ts
 * const Scout = Agent.make({ name: "scout" })
 * const ScoutLive = Layer.unwrapEffect(Effect.map(
 *   A2ATool.make({ card: "https://gateway.example/a2a/writer/.well-known/agent-card.json" }),
 *   (writer) => Agent.toLayer(Scout, {}, { tools: [writer] })
 * ))
 * ```
 *
 * The card is read once, when the tool is made: it names the tool (unless `name` is given) and
 * describes it to the model. Every call sends the model's `message` as a new A2A task and returns
 * the remote agent's answer; a remote failure fails the call with `A2ACallFailed`, which the
 * model sees as the tool's result. Both A2A 1.0 and v0.3 agents are understood.
 *
 * @since 0.1.0
 */
import { type AgentCard, type Message, type Part, Role, type Task, TaskState } from "@a2a-js/sdk"
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory
} from "@a2a-js/sdk/client"
import { LanguageModel } from "@colony/runtime"
import { Duration, Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"

/**
 * The remote agent's card could not be read, or names no transport this client speaks.
 *
 * @since 0.1.0
 * @category errors
 */
export class RemoteAgentUnavailable extends Schema.TaggedError<RemoteAgentUnavailable>()("RemoteAgentUnavailable", {
  card: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot use the A2A agent at ${this.card}: ${this.reason}. ` +
      `Check the agent card URL (it ends in /.well-known/agent-card.json) and the credentials.`
  }
}

/**
 * A call to the remote agent did not produce an answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class A2ACallFailed extends Schema.TaggedError<A2ACallFailed>()("A2ACallFailed", {
  agent: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `the A2A agent "${this.agent}" did not answer: ${this.reason}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the URL of the remote agent's card, e.g. `https://host/a2a/writer/.well-known/agent-card.json` */
  readonly card: string
  /** the tool's name, as listed in `Agent.make({ tools })`; default: the card's name */
  readonly name?: string | undefined
  /** headers sent with every request, the card's included (e.g. `authorization: Bearer <key>`) */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** how long one call may take; default 2 minutes */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The tool's arguments: what the model asks the remote agent.
 *
 * @since 0.1.0
 * @category models
 */
export const Parameters = Schema.Struct({
  message: Schema.String.annotations({ description: "the message to send to the agent: a complete, self-contained request" })
})

/**
 * A tool name from an agent card's name: OpenAI-compatible models accept letters, digits, `_`
 * and `-`, up to 64 characters.
 *
 * @since 0.1.0
 */
export const toolName = (cardName: string): string => {
  const name = cardName.trim().replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 64)
  return name.length > 0 ? name : "remote_agent"
}

/**
 * What the model reads about the tool: the card's description and its skills.
 *
 * @since 0.1.0
 */
export const describe = (card: AgentCard): string => {
  const skills = card.skills.map((skill) => `- ${skill.name}: ${skill.description}`)
  return [`Ask the remote agent "${card.name}". ${card.description}`.trim(), ...(skills.length > 0 ? ["Skills:", ...skills] : [])]
    .join("\n")
}

const textOf = (parts: ReadonlyArray<Part> | undefined): string =>
  (parts ?? []).flatMap((part) => part.content?.$case === "text" ? [part.content.value] : []).join("\n")

// A blocking send returns once the task is final or needs the caller: every outcome but
// `completed` leaves the model without an answer.
const outcomes: Partial<Record<TaskState, string>> = {
  [TaskState.TASK_STATE_FAILED]: "failed",
  [TaskState.TASK_STATE_CANCELED]: "was canceled",
  [TaskState.TASK_STATE_REJECTED]: "was rejected",
  [TaskState.TASK_STATE_INPUT_REQUIRED]: "asks for more input, which this tool cannot give",
  [TaskState.TASK_STATE_AUTH_REQUIRED]: "asks for authentication, which this tool cannot give"
}

const isTask = (result: Message | Task): result is Task => "status" in result

/**
 * The answer in a send result: a message's text, or a completed task's artifacts (its final
 * status message when it has none). A task that ends any other way is a failure.
 *
 * @since 0.1.0
 */
export const replyOf = (agent: string, result: Message | Task): Effect.Effect<string, A2ACallFailed> => {
  if (!isTask(result)) return Effect.succeed(textOf(result.parts))
  const state = result.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED
  const said = textOf(result.status?.message?.parts)
  if (state === TaskState.TASK_STATE_COMPLETED) {
    const artifacts = result.artifacts.map((artifact) => textOf(artifact.parts)).filter((text) => text.length > 0)
    return Effect.succeed(artifacts.length > 0 ? artifacts.join("\n\n") : said)
  }
  const how = outcomes[state] ?? `is in the unexpected state ${TaskState[state] ?? state}`
  return Effect.fail(new A2ACallFailed({ agent, reason: `its task ${result.id} ${how}${said.length > 0 ? `: ${said}` : ""}` }))
}

const reason = (error: unknown) => error instanceof Error ? error.message : String(error)

/**
 * A connected client for the agent at `card`, and its card.
 *
 * @since 0.1.0
 */
export const connect = (
  options: Pick<Options, "card" | "headers">
): Effect.Effect<{ readonly client: Client; readonly card: AgentCard }, RemoteAgentUnavailable> =>
  Effect.tryPromise({
    try: async () => {
      const fetchImpl: typeof fetch = (input, init) => {
        const headers = new Headers(init?.headers)
        for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value)
        return fetch(input, { ...init, headers })
      }
      const legacyCompat = { enabled: true }
      const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
        transports: [new JsonRpcTransportFactory({ fetchImpl, legacyCompat }), new RestTransportFactory({ fetchImpl, legacyCompat })],
        cardResolver: new DefaultAgentCardResolver({ fetchImpl, legacyCompat })
      }))
      // An empty path: the URL is the card's own, not a base to append the well-known path to.
      const client = await factory.createFromUrl(options.card, "")
      return { client, card: await client.getAgentCard() }
    },
    catch: (error) => new RemoteAgentUnavailable({ card: options.card, reason: reason(error) })
  })

/**
 * A tool that calls the A2A agent whose card is at `options.card`. Each call is a new A2A task,
 * in a new context: the remote agent gets each request on its own.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options
): Effect.Effect<LanguageModel.Tool<typeof Parameters.Type, typeof Parameters.Encoded, string, A2ACallFailed>, RemoteAgentUnavailable> =>
  Effect.map(connect(options), ({ card, client }) => {
    const timeout = Duration.decode(options.timeout ?? Duration.minutes(2))
    return LanguageModel.tool({
      name: options.name ?? toolName(card.name),
      description: describe(card),
      parameters: Parameters,
      handler: ({ message }) =>
        Effect.tryPromise({
          try: (signal) =>
            client.sendMessage({
              tenant: "",
              message: {
                messageId: randomUUID(),
                contextId: "",
                taskId: "",
                role: Role.ROLE_USER,
                parts: [{ content: { $case: "text", value: message }, metadata: undefined, filename: "", mediaType: "text/plain" }],
                metadata: undefined,
                extensions: [],
                referenceTaskIds: []
              },
              configuration: undefined,
              metadata: undefined
            }, { signal }),
          catch: (error) => new A2ACallFailed({ agent: card.name, reason: reason(error) })
        }).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () =>
              new A2ACallFailed({ agent: card.name, reason: `no answer within ${Duration.format(timeout)}; ask something smaller` })
          }),
          Effect.flatMap((result) => replyOf(card.name, result))
        )
    })
  })
