/**
 * The Agent2Agent (A2A) surface: every agent type the gateway serves, and every collaboration
 * preset, is an A2A agent with its own card and JSON-RPC endpoint, so agents built with other
 * frameworks can call a colony.
 *
 * - `GET /a2a` lists the cards' URLs;
 * - `GET /a2a/<name>/.well-known/agent-card.json` is the card of an agent (`writer`) or preset
 *   (`master-slave`, or `team:master-slave` when an agent has the same name): the A2A 1.0 card
 *   when the request says `A2A-Version: 1.0`, else the v0.3 one;
 * - `POST /a2a/<name>` speaks A2A JSON-RPC: `SendMessage`, `SendStreamingMessage` (SSE),
 *   `GetTask`, `CancelTask`, ... of A2A 1.0, and for clients that send no `A2A-Version` header
 *   (or `0.3`) the v0.3 methods `message/send`, `message/stream`, `tasks/get`, `tasks/cancel`;
 * - `GET /.well-known/agent-card.json` is the first served agent's card.
 *
 * The protocol is `@a2a-js/sdk`'s transport-agnostic request handler; this module adapts it to
 * the gateway's router and runs each task on the colony: an agent's task is an `Ask` whose
 * instance id is the A2A context id (a conversation keeps the agent's memory), a preset's task
 * is a collaboration run whose progress streams as `working` status updates.
 *
 * @since 0.1.0
 */
import { Collaboration, Session } from "@colony/agents"
import { Agent, Colony, Events } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  A2A_PROTOCOL_VERSION,
  A2A_VERSION_HEADER,
  AgentCard,
  type AgentSkill,
  type ListTasksRequest,
  type ListTasksResponse,
  formatSSEErrorEvent,
  formatSSEEvent,
  type Message,
  type Part,
  Role,
  type Task,
  TaskState
} from "@a2a-js/sdk"
import { LegacyJsonRpcTransportHandler } from "@a2a-js/sdk/compat/v0_3/server"
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  defaultServerCallContextBuilder,
  type ExecutionEventBus,
  JsonRpcTransportHandler,
  type RequestContext,
  type ServerCallContext,
  type TaskStore,
  validateVersion
} from "@a2a-js/sdk/server"
import { Cause, DateTime, Duration, Effect, Either, Exit, Fiber, FiberMap, Option, Runtime, Stream } from "effect"
import { randomUUID } from "node:crypto"
import * as Auth from "./Auth.js"
import { error } from "./ErrorResponse.js"
import { GatewayConfig, type Settings } from "./GatewayConfig.js"
import * as JsonBody from "./JsonBody.js"
import { ServedAgents } from "./GatewayHandlers.js"
import * as GatewayMetrics from "./GatewayMetrics.js"
import * as Presets from "./Presets.js"

/**
 * Where the gateway serves A2A agents: `/a2a/<name>`.
 *
 * @since 0.1.0
 */
export const basePath = "/a2a"

const cardPath = "/.well-known/agent-card.json"
const legacyVersion = "0.3"

/** How many tasks each endpoint remembers (see `BoundedTaskStore`). */
const taskCapacity = 10_000

// --- messages ---

const textPart = (text: string): Part => ({
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

const agentMessage = (taskId: string, contextId: string, text: string): Message => ({
  messageId: randomUUID(),
  contextId,
  taskId,
  role: Role.ROLE_AGENT,
  parts: [textPart(text)],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: []
})

// --- targets and cards ---

/**
 * An application served over A2A next to the agents and presets: its
 * own answer to a message, with the A2A context id as its conversation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Application {
  /** the path segment and card name */
  readonly name: string
  readonly description: string
  readonly tags: ReadonlyArray<string>
  readonly examples?: ReadonlyArray<string> | undefined
  readonly answer: (
    conversation: string,
    text: string,
    caller: Auth.Caller
  ) => Effect.Effect<string, { readonly _tag: string; readonly message: string }, Colony.Services | Sharding>
}

/**
 * The gateway's caller as the A2A SDK's user: tasks are kept per user (`BoundedTaskStore`).
 *
 * @since 0.1.0
 * @category models
 */
export class GatewayUser {
  constructor(readonly caller: Auth.Caller) {}
  get isAuthenticated() {
    return true
  }
  get userName() {
    return this.caller.subject
  }
}

const callerOf = (context: ServerCallContext | undefined): Auth.Caller => {
  const user = context?.user
  // every request reaches the SDK through `rpc`, which sets the user: anything else is a bug
  if (!(user instanceof GatewayUser)) throw new Error("an A2A request without the gateway's caller")
  return user.caller
}

type Target = Presets.Target | { readonly _tag: "Application"; readonly application: Application }

interface Served {
  /** the path segment the target is served under */
  readonly name: string
  readonly target: Target
}

const describeAgent = (definition: Agent.Definition) => {
  const instructions = definition.instructions.trim()
  return instructions.length > 0 ? instructions : `The colony agent "${definition.name}".`
}

const skillOf = (served: Served, agents: ReadonlyArray<Agent.Any>): AgentSkill => {
  const base = { examples: [], inputModes: [], outputModes: [], securityRequirements: [] }
  if (served.target._tag === "Application") {
    const { application } = served.target
    return {
      ...base,
      examples: [...(application.examples ?? [])],
      id: application.name,
      name: application.name,
      description: application.description,
      tags: ["colony", "application", ...application.tags]
    }
  }
  if (served.target._tag === "Agent") {
    const name = served.target.agent
    const agent = agents.find((a) => a.type === name)
    const definition = agent === undefined ? undefined : Agent.definition(agent)
    return {
      ...base,
      id: name,
      name,
      description: definition === undefined ? `The colony agent "${name}".` : describeAgent(definition),
      tags: ["colony", "agent", ...(definition?.capabilities ?? [])]
    }
  }
  const collaboration = served.target.collaboration
  const members = [...new Set(Collaboration.participants(collaboration).map((ref) => ref.agent))]
  return {
    ...base,
    id: served.name,
    name: served.target.name,
    description: `A ${collaboration._tag} collaboration of the colony agents ${members.join(", ")}: ` +
      `the task is worked on together and answered with one synthesis.`,
    tags: ["colony", "collaboration", collaboration._tag]
  }
}

/**
 * The agent card of a served agent or preset, at `url` (its JSON-RPC endpoint). With API keys
 * configured the card declares bearer authentication.
 *
 * @since 0.1.0
 */
export const card = (
  served: Served,
  agents: ReadonlyArray<Agent.Any>,
  settings: Settings,
  url: string
): AgentCard => {
  const skill = skillOf(served, agents)
  const secured = settings.keys.length > 0
  return {
    name: served.target._tag === "Agent"
      ? served.target.agent
      : served.target._tag === "Application"
      ? served.target.application.name
      : `team:${served.target.name}`,
    description: skill.description,
    // One endpoint answers both protocol versions; clients pick 1.0 when they can.
    supportedInterfaces: [A2A_PROTOCOL_VERSION, legacyVersion].map((protocolVersion) => ({
      url,
      protocolBinding: "JSONRPC",
      tenant: "",
      protocolVersion
    })),
    provider: undefined,
    version: "0.1.0",
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: secured
      ? {
        bearer: {
          scheme: {
            $case: "httpAuthSecurityScheme",
            value: { description: "a gateway API key (COLONY_GATEWAY_KEYS)", scheme: "Bearer", bearerFormat: "" }
          }
        }
      }
      : {},
    securityRequirements: secured ? [{ schemes: { bearer: { list: [] } } }] : [],
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [skill],
    signatures: []
  }
}

/**
 * The same card in the v0.3 shape, for clients that ask for the card without naming a protocol
 * version (as v0.3 clients do); the SDK's own client asks for 1.0.
 *
 * @since 0.1.0
 */
export const legacyCard = (card: AgentCard, url: string, secured: boolean) => ({
  protocolVersion: "0.3.0",
  name: card.name,
  description: card.description,
  url,
  preferredTransport: "JSONRPC",
  additionalInterfaces: [{ url, transport: "JSONRPC" }],
  version: card.version,
  capabilities: { streaming: true, pushNotifications: false, stateTransitionHistory: false },
  securitySchemes: secured
    ? { bearer: { type: "http", scheme: "bearer", description: "a gateway API key (COLONY_GATEWAY_KEYS)" } }
    : {},
  security: secured ? [{ bearer: [] }] : [],
  defaultInputModes: card.defaultInputModes,
  defaultOutputModes: card.defaultOutputModes,
  skills: card.skills.map(({ description, id, name, tags }) => ({ id, name, description, tags }))
})

// --- the executor ---

type Failure = { readonly _tag: string; readonly message: string }

const failureText = (cause: Cause.Cause<Failure>): string =>
  Option.match(Cause.failureOption(cause), {
    onSome: (failure) => `${failure._tag}: ${failure.message}`,
    onNone: () => `the colony failed unexpectedly: ${Cause.pretty(cause).split("\n")[0]}`
  })

const executor = (
  target: Target,
  settings: Settings,
  offered: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>,
  running: FiberMap.FiberMap<string>,
  runtime: Runtime.Runtime<Colony.Services | Sharding>
): AgentExecutor => {
  const execute = (request: RequestContext, bus: ExecutionEventBus) =>
    Effect.gen(function*() {
      const { contextId, taskId } = request
      const caller = callerOf(request.context)
      // a client's A2A contexts are conversations in its own namespace
      const conversation = Auth.namespaced(caller, contextId)
      const status = (state: TaskState, text?: string) =>
        Effect.map(DateTime.now, (now) =>
          bus.publish(AgentEvent.statusUpdate({
            taskId,
            contextId,
            status: {
              state,
              message: text === undefined ? undefined : agentMessage(taskId, contextId, text),
              timestamp: DateTime.formatIso(now)
            },
            metadata: undefined
          })))
      if (request.task === undefined) {
        bus.publish(AgentEvent.task({
          id: taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: undefined },
          artifacts: [],
          history: [request.userMessage],
          metadata: undefined
        }))
      }
      yield* status(TaskState.TASK_STATE_WORKING)

      const prompt = textOf(request.userMessage)
      const work: Effect.Effect<string, Failure, Colony.Services | Sharding> = prompt.trim().length === 0
        ? Effect.fail({ _tag: "InvalidMessage", message: "the message has no text; send at least one text part" })
        : target._tag === "Application"
        ? target.application.answer(conversation, prompt, caller).pipe(
          GatewayMetrics.trackInFlight(target.application.name),
          Effect.withSpan("Gateway.a2a", { attributes: { "colony.application": target.application.name, "colony.id": conversation } })
        )
        : target._tag === "Agent"
        ? Colony.ask(target.agent, conversation, prompt, { from: "a2a" }).pipe(
          Effect.tap((answer) => GatewayMetrics.countTokens(target.agent, answer.usage)),
          Effect.map((answer) => answer.text),
          GatewayMetrics.trackInFlight(target.agent),
          Effect.withSpan("Gateway.a2a", { attributes: { "colony.agent": target.agent, "colony.id": conversation } })
        )
        : runPreset(target, offered, settings, prompt, (line) => status(TaskState.TASK_STATE_WORKING, line))
      const timed = work.pipe(
        Effect.timeoutFail({
          duration: settings.requestTimeout,
          onTimeout: (): Failure => ({
            _tag: "TimeoutException",
            message: `no answer within ${Duration.format(settings.requestTimeout)}; ` +
              `ask something smaller or raise COLONY_GATEWAY_REQUEST_TIMEOUT`
          })
        })
      )
      // The work runs in the gateway's fiber map, under the task id: `CancelTask` interrupts it,
      // and so does the gateway shutting down.
      const fiber = yield* FiberMap.run(running, taskId, timed)
      const exit = yield* Fiber.await(fiber)
      if (Exit.isSuccess(exit)) {
        bus.publish(AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: {
            artifactId: `${taskId}-answer`,
            name: "answer",
            description: "the colony's answer",
            parts: [textPart(exit.value)],
            metadata: undefined,
            extensions: []
          },
          append: false,
          lastChunk: true,
          metadata: undefined
        }))
        yield* status(TaskState.TASK_STATE_COMPLETED, exit.value)
      } else if (Cause.isInterruptedOnly(exit.cause)) {
        yield* status(TaskState.TASK_STATE_CANCELED, "the task was canceled")
      } else {
        yield* status(TaskState.TASK_STATE_FAILED, failureText(exit.cause))
      }
    }).pipe(Effect.ensuring(Effect.sync(() => bus.finished())))

  return {
    execute: (request, bus) => Runtime.runPromise(runtime)(execute(request, bus)),
    cancelTask: (taskId) => Runtime.runPromise(runtime)(FiberMap.remove(running, taskId))
  }
}

const runPreset = (
  target: Extract<Presets.Target, { _tag: "Preset" }>,
  offered: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>,
  settings: Settings,
  prompt: string,
  progress: (line: string) => Effect.Effect<void>
): Effect.Effect<string, Failure, Sharding> => {
  // Every task is its own run, under its own session: concurrent tasks never share memory.
  const session = `a2a-${randomUUID()}`
  const collaboration = Presets.lookup(Presets.presets(offered, settings.presets, session), target.name) ?? target.collaboration
  return Session.run(session, collaboration, prompt).pipe(
    Stream.runFoldEffect(
      Option.none<string>(),
      (answer, p) =>
        p instanceof Session.Finished
          ? Effect.succeed(Option.some(p.result.answer))
          : Effect.as(progress(Events.format(p.event)), answer)
    ),
    Effect.flatMap(Option.match({
      onSome: Effect.succeed,
      onNone: () => Effect.fail<Failure>({ _tag: "SessionCancelled", message: `the collaboration run ${session} ended without an answer` })
    })),
    Effect.withSpan("Gateway.a2a", { attributes: { "colony.preset": target.name, "colony.session": session } })
  )
}

// --- task store ---

/**
 * The tasks an endpoint remembers for `GetTask`, `ListTasks` and follow-up messages: the most
 * recently updated `capacity` of them. The SDK's in-memory store keeps every task forever, which a
 * long-running gateway cannot afford; a task evicted here is `TaskNotFound` to a late `GetTask`.
 * A task belongs to the caller that created it: to anyone else it does not exist, and staff see
 * all of them.
 *
 * @since 0.1.0
 */
export class BoundedTaskStore implements TaskStore {
  // insertion order is update order: a save moves the task to the end, eviction takes the front
  private readonly tasks = new Map<string, { readonly owner: string; readonly task: Task }>()
  constructor(readonly capacity: number) {}

  private visible(entry: { readonly owner: string } | undefined, context: ServerCallContext | undefined) {
    if (entry === undefined) return false
    const caller = callerOf(context)
    return Auth.isStaff(caller) || entry.owner === caller.subject
  }

  async load(taskId: string, context?: ServerCallContext): Promise<Task | undefined> {
    const entry = this.tasks.get(taskId)
    return entry === undefined || !this.visible(entry, context) ? undefined : structuredClone(entry.task)
  }

  async save(task: Task, context?: ServerCallContext): Promise<void> {
    const existing = this.tasks.get(task.id)
    // a task keeps its first owner; another caller's save under the same id is refused
    if (existing !== undefined && !this.visible(existing, context)) throw new Error(`no task ${task.id}`)
    const owner = existing?.owner ?? callerOf(context).subject
    this.tasks.delete(task.id)
    this.tasks.set(task.id, { owner, task: structuredClone(task) })
    for (const oldest of this.tasks.keys()) {
      if (this.tasks.size <= this.capacity) break
      this.tasks.delete(oldest)
    }
  }

  async list(params: ListTasksRequest, context?: ServerCallContext): Promise<ListTasksResponse> {
    const after = params.statusTimestampAfter === undefined ? undefined : Date.parse(params.statusTimestampAfter)
    const stamp = (task: Task) => task.status?.timestamp ?? ""
    const matching = [...this.tasks.values()]
      .filter((entry) => this.visible(entry, context))
      .map((entry) => entry.task)
      .filter((task) =>
        (params.contextId === "" || task.contextId === params.contextId) &&
        (params.status === TaskState.TASK_STATE_UNSPECIFIED || task.status?.state === params.status) &&
        (after === undefined || (task.status?.timestamp !== undefined && Date.parse(task.status.timestamp) > after))
      )
      .sort((a, b) => stamp(b).localeCompare(stamp(a)) || b.id.localeCompare(a.id))
    // the page token is the id of the last task of the previous page
    const start = params.pageToken === "" ? 0 : matching.findIndex((task) => task.id === params.pageToken) + 1
    const pageSize = Math.min(Math.max(params.pageSize ?? 50, 1), 100)
    const page = start === 0 && params.pageToken !== "" ? [] : matching.slice(start, start + pageSize)
    const more = page.length > 0 && start + page.length < matching.length
    return {
      tasks: page.map((task) => ({ ...structuredClone(task), artifacts: params.includeArtifacts === true ? structuredClone(task.artifacts) : [] })),
      nextPageToken: more ? page[page.length - 1]!.id : "",
      pageSize,
      totalSize: matching.length
    }
  }
}

// --- HTTP ---

const jsonRpcError = (id: unknown, code: number, message: string, status = 200) =>
  HttpServerResponse.unsafeJson({ jsonrpc: "2.0", id: id ?? null, error: { code, message } }, { status })

const sseHeaders = { "cache-control": "no-cache", "x-accel-buffering": "no" }

interface Endpoint {
  readonly handler: DefaultRequestHandler
  readonly jsonRpc: JsonRpcTransportHandler
  readonly legacy: LegacyJsonRpcTransportHandler
}

const baseUrl = (request: HttpServerRequest.HttpServerRequest, settings: Settings) => {
  const scheme = Option.isSome(settings.tlsCert) ? "https" : "http"
  return `${scheme}://${request.headers["host"] ?? `${settings.host}:${settings.port}`}`
}

/**
 * The A2A routes, to concatenate to the gateway's router. Task state lives in this gateway
 * (`BoundedTaskStore`): `GetTask` and `CancelTask` reach the tasks this gateway runs.
 *
 * @since 0.1.0
 */
export const router = (applications: ReadonlyArray<Application> = []) => Effect.gen(function*() {
  const { agents, presets: offered } = yield* ServedAgents
  const settings = yield* GatewayConfig
  const runtime = yield* Effect.runtime<Colony.Services | Sharding>()
  const running = yield* FiberMap.make<string>()
  const endpoints = new Map<string, Endpoint>()

  const servedNames = Effect.map(Colony.agents, (known) => agents.map((a) => a.type as string).filter((n) => known.includes(n)))

  const resolve = (name: string) =>
    Effect.map(servedNames, (served): Served | undefined => {
      const application = applications.find((a) => a.name === name)
      if (application !== undefined) return { name, target: { _tag: "Application", application } }
      const target = Presets.resolve(name, served, (session) => Presets.presets(offered, settings.presets, session), "a2a")
      return target === undefined ? undefined : { name, target }
    })

  const listing = Effect.map(servedNames, (served): ReadonlyArray<string> => {
    const presets = Object.keys(Presets.presets(offered, settings.presets, "a2a"))
    return [
      ...served,
      ...presets.map((p) => served.includes(p) ? `team:${p}` : p),
      ...applications.map((a) => a.name)
    ]
  })

  const unknown = (name: string) =>
    Effect.map(listing, (names) =>
      `no A2A agent "${name}" on this gateway; it serves ${names.map((n) => `${basePath}/${n}`).join(", ")} (GET ${basePath} lists their cards)`)

  const endpointFor = (served: Served, url: string): Endpoint => {
    const key = served.target._tag === "Agent"
      ? `agent:${served.target.agent}`
      : served.target._tag === "Application"
      ? `application:${served.target.application.name}`
      : `team:${served.target.name}`
    const existing = endpoints.get(key)
    if (existing !== undefined) return existing
    const handler = new DefaultRequestHandler(
      card(served, agents, settings, url),
      new BoundedTaskStore(taskCapacity),
      executor(served.target, settings, offered, running, runtime)
    )
    const endpoint = { handler, jsonRpc: new JsonRpcTransportHandler(handler), legacy: new LegacyJsonRpcTransportHandler(handler) }
    endpoints.set(key, endpoint)
    return endpoint
  }

  // the router has decoded the path parameter already: decoding it again would read `%25` as `%`
  // and throw on a name with a `%` in it
  const nameParam = Effect.map(HttpRouter.RouteContext, (route) => route.params["name"] ?? "")

  const serveCard = (name: string) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const served = yield* resolve(name)
      if (served === undefined) {
        return error(404, yield* unknown(name), "not_found_error", "agent_not_found")
      }
      const url = `${baseUrl(request, settings)}${basePath}/${encodeURIComponent(name)}`
      const current = card(served, agents, settings, url)
      const version = request.headers[A2A_VERSION_HEADER.toLowerCase()]
      const headers = { vary: A2A_VERSION_HEADER }
      return version === undefined || version === legacyVersion
        ? HttpServerResponse.unsafeJson(legacyCard(current, url, settings.keys.length > 0), { headers })
        : HttpServerResponse.unsafeJson(AgentCard.toJSON(current), { headers })
    })

  const rpc = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const name = yield* nameParam
    const read = yield* JsonBody.read(request)
    if (Either.isLeft(read)) {
      // -32700 is JSON-RPC's parse error; the HTTP status says why the body was not read
      return jsonRpcError(null, -32700, read.left.message, read.left.status === 413 ? 413 : 200)
    }
    const parsed = read.right
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return jsonRpcError(null, -32600, "the request body is not a JSON-RPC request: send one JSON object (batches are not served)")
    }
    const body = parsed as Record<string, unknown>
    const served = yield* resolve(name)
    // "method not found" is the JSON-RPC code closest to "nothing answers at this address"
    if (served === undefined) return jsonRpcError(body["id"], -32601, yield* unknown(name), 404)

    const endpoint = endpointFor(served, `${baseUrl(request, settings)}${basePath}/${encodeURIComponent(name)}`)
    const header = request.headers[A2A_VERSION_HEADER.toLowerCase()]
    // A client that names no version speaks v0.3, as the protocol prescribes.
    const legacy = header === undefined || header === legacyVersion
    const context = defaultServerCallContextBuilder({
      extensions: undefined,
      user: new GatewayUser(yield* Auth.caller),
      headers: request.headers,
      requestedVersion: header ?? legacyVersion
    })
    const mapError = (error: unknown) =>
      legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError(error) : JsonRpcTransportHandler.mapToJSONRPCError(error)
    const handled = yield* Effect.either(Effect.tryPromise({
      try: async () => {
        validateVersion(context.requestedVersion, await endpoint.handler.getAgentCard(), "JSONRPC")
        return legacy ? endpoint.legacy.handle(body, context) : endpoint.jsonRpc.handle(body, context)
      },
      catch: (error) => error
    }))
    if (handled._tag === "Left") {
      return HttpServerResponse.unsafeJson({ jsonrpc: "2.0", id: body["id"] ?? null, error: mapError(handled.left) })
    }
    const result = handled.right
    if (!(Symbol.asyncIterator in result)) return HttpServerResponse.unsafeJson(result)

    const events = Stream.fromAsyncIterable(result, (error) => error).pipe(
      Stream.map(formatSSEEvent),
      Stream.catchAll((error) =>
        Stream.make(formatSSEErrorEvent({ jsonrpc: "2.0", id: body["id"] ?? null, error: mapError(error) }))
      ),
      Stream.encodeText
    )
    return HttpServerResponse.stream(events, { contentType: "text/event-stream", headers: sseHeaders })
  })

  const index = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const base = baseUrl(request, settings)
    const names = yield* listing
    return HttpServerResponse.unsafeJson({
      agents: names.map((name) => ({
        name,
        url: `${base}${basePath}/${encodeURIComponent(name)}`,
        card: `${base}${basePath}/${encodeURIComponent(name)}${cardPath}`
      }))
    })
  })

  const defaultCard = Effect.flatMap(listing, (names) =>
    names[0] === undefined
      ? Effect.succeed(error(404, "this gateway serves no agents", "not_found_error", "agent_not_found"))
      : serveCard(names[0]))

  // Cards are public, as the protocol expects: a card is how a caller learns that the agent
  // wants a key (its security scheme) before it has one. The endpoints behind them are not.
  return HttpRouter.empty.pipe(
    HttpRouter.get(cardPath, Auth.route("public", defaultCard)),
    HttpRouter.get(basePath, Auth.route("client", index)),
    HttpRouter.get(`${basePath}/:name${cardPath}`, Auth.route("public", Effect.flatMap(nameParam, serveCard))),
    HttpRouter.post(`${basePath}/:name`, Auth.route("client", rpc))
  )
})
