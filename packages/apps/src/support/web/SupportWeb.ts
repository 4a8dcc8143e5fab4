/**
 * The support desk on the web, served by the gateway (its `Application.routes`): the customer
 * chat page (`/support/`), the operator dashboard (`/support/dashboard`) and the JSON API they
 * call (`/support/api/...`), behind the gateway's checks, limits and metrics.
 *
 * | route | access | what |
 * |---|---|---|
 * | `GET /support/`, `GET /support/dashboard` | public | the pages (they hold no data nor credential) |
 * | `POST /support/api/conversations/:id/messages` `{text, messageId?}` | client | the desk's `Reply` |
 * | `GET /support/api/conversations/:id` | client | `{conversationId, turns, ticket}`: the transcript and the open ticket |
 * | `GET /support/api/conversations/:id/events` | client, ticket | Server-Sent Events: the conversation's runtime `Events`, remembered then live |
 * | `GET /support/api/conversations` | operator | the conversations this process has seen, most recent first |
 * | `GET /support/api/escalations` | operator | `{tickets}`: the open tickets, oldest first |
 * | `POST /support/api/escalations/:ticket/reply` `{text}` | operator | the answered `Ticket` |
 * | `GET /support/api/stats[?conversation=id]` | operator | per-agent load, tokens and cost |
 *
 * A customer (a token minted for their e-mail address) talks in conversations of their own: the
 * ids they choose live in their namespace (`Auth.namespaced`), and the desk binds a conversation
 * to its customer, whose orders are the only ones its tools touch. Operators see every
 * conversation by its full id.
 *
 * Failures use the gateway's error shape (`{error: {message, type, code}}`): 400 for a bad body
 * or id, 404 for an unknown conversation or ticket (or another customer's), 422 when the desk
 * refuses, and the colony's own statuses otherwise.
 *
 * @since 0.1.0
 */
import { Events, LanguageModel } from "@colony/runtime"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Deferred, Duration, Effect, Either, Schema, Stream } from "effect"
import type * as Application from "../../Application.js"
import * as Auth from "../../gateway/Auth.js"
import { GatewayConfig } from "../../gateway/GatewayConfig.js"
import * as JsonBody from "../../gateway/JsonBody.js"
import * as GatewayMetrics from "../../gateway/GatewayMetrics.js"
import { error } from "../../gateway/ErrorResponse.js"
import { fromColonyError } from "../../gateway/OpenAICompat.js"
import * as Desk from "../Desk.js"
import * as DeskEvents from "../DeskEvents.js"
import * as Activity from "./Activity.js"
import * as Pages from "./Pages.js"

// --- requests ---

// The desk's own rule for conversation ids: a "." would make the id read as a session of another
// conversation in the event stream.
const CONVERSATION_ID = /^[A-Za-z0-9][A-Za-z0-9_:-]{0,127}$/

const nonBlank = (what: string) =>
  Schema.String.pipe(
    Schema.filter((text) => text.trim().length > 0 || `the ${what} is empty: write it in "text"`),
    Schema.filter((text) => text.length <= 8000 || `the ${what} has ${text.length} characters; the limit is 8000`)
  )

/**
 * The body of `POST /support/api/conversations/:id/messages`.
 *
 * @since 0.1.0
 * @category models
 */
export const MessageBody = Schema.Struct({
  text: nonBlank("message"),
  /** the same id sent twice (a retry) is answered once */
  messageId: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)))
})

/**
 * The body of `POST /support/api/escalations/:ticket/reply`.
 *
 * @since 0.1.0
 * @category models
 */
export const ReplyBody = Schema.Struct({ text: nonBlank("reply") })

const badRequest = (message: string, code: string) => error(400, message, "invalid_request_error", code)

const notFound = (message: string, code: string) => error(404, message, "not_found_error", code)

const json = <A, I>(schema: Schema.Schema<A, I>, value: A, status = 200) =>
  HttpServerResponse.unsafeJson(Schema.encodeSync(schema)(value), { status })

/** A failure from the desk or the colony as a response. */
const failed = (failure: { readonly _tag: string; readonly message: string }) => {
  if (failure._tag === "SupportError") return error(422, failure.message, "invalid_request_error", "support_error")
  // another customer's conversation does not exist, as far as this caller can tell
  if (failure._tag === "ConversationNotYours") {
    return notFound("no such conversation: start a new one with another id", "conversation_not_found")
  }
  // the desk is not a route's resource: a colony without its agents is a misconfigured server
  if (failure._tag === "UnknownAgent") {
    return error(
      503,
      `the support desk is not hosted by this colony (${failure.message}). Host it on the runners ` +
        `(colony runner --agents packages/apps/src/support/RunnerAgents.ts) or run the gateway embedded`,
      "server_error",
      "support_desk_unavailable"
    )
  }
  const { body, status } = fromColonyError(failure)
  return HttpServerResponse.unsafeJson(body, { status })
}

/** The conversation of the path, in the caller's namespace. */
const conversationParam: Effect.Effect<
  Either.Either<string, HttpServerResponse.HttpServerResponse>,
  never,
  HttpRouter.RouteContext | Auth.CurrentCaller
> = Effect.gen(function*() {
  const { id = "" } = yield* HttpRouter.params
  const caller = yield* Auth.caller
  const full = Auth.namespaced(caller, id)
  return CONVERSATION_ID.test(id) && CONVERSATION_ID.test(full)
    ? Either.right(full)
    : Either.left(badRequest(
      `invalid conversation id "${id}": use 1 to 100 letters, digits, "_", ":" or "-", starting with a letter or digit`,
      "invalid_conversation_id"
    ))
})

const readBody = JsonBody.decode

const queryParam = (request: HttpServerRequest.HttpServerRequest, name: string): string | undefined => {
  const query = request.url.indexOf("?")
  return query < 0 ? undefined : new URLSearchParams(request.url.slice(query + 1)).get(name) ?? undefined
}

/** Bound a call to the colony by the gateway's request timeout. */
const bounded = <A, E extends { readonly _tag: string; readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(GatewayConfig, ({ requestTimeout }) =>
    Effect.timeoutFail(effect, {
      duration: requestTimeout,
      onTimeout: () => ({
        _tag: "TimeoutException",
        message: `no answer within ${Duration.format(requestTimeout)}; try again, or raise COLONY_GATEWAY_REQUEST_TIMEOUT`
      })
    }))

// --- the API ---

/**
 * The transcript of a conversation with its open ticket.
 *
 * @since 0.1.0
 * @category models
 */
export class Conversation extends Schema.Class<Conversation>("@colony/apps/support/web/Conversation")({
  conversationId: Schema.String,
  turns: Schema.Array(Desk.Turn),
  ticket: Schema.NullOr(Desk.Ticket)
}) {}

const postMessage = Effect.gen(function*() {
  const id = yield* conversationParam
  if (Either.isLeft(id)) return id.left
  const body = yield* readBody(MessageBody, `{"text": "Where is my order A-10023?"}`)
  if (Either.isLeft(body)) return body.left
  const caller = yield* Auth.caller
  const reply = yield* Desk.send(id.right, body.right.text, {
    messageId: body.right.messageId,
    customer: caller.customer ?? undefined
  }).pipe(
    GatewayMetrics.trackInFlight(Desk.DeskAgent.type),
    bounded,
    Effect.either
  )
  return Either.isLeft(reply) ? failed(reply.left) : json(Desk.Reply, reply.right)
})

const getConversation = Effect.gen(function*() {
  const id = yield* conversationParam
  if (Either.isLeft(id)) return id.left
  const found = yield* Effect.all([Desk.transcript(id.right), Desk.escalations], { concurrency: 2 }).pipe(bounded, Effect.either)
  if (Either.isLeft(found)) return failed(found.left)
  const [turns, open] = found.right
  const ticket = open.find((t) => t.conversationId === id.right) ?? null
  if (turns.length === 0 && ticket === null) {
    return notFound(`no conversation "${id.right}": it has no messages yet. Send one with POST /support/api/conversations/${id.right}/messages`, "conversation_not_found")
  }
  return json(Conversation, new Conversation({ conversationId: id.right, turns, ticket }))
})

const Tickets = Schema.Struct({ tickets: Schema.Array(Desk.Ticket) })

const getEscalations = Effect.gen(function*() {
  const open = yield* Desk.escalations.pipe(bounded, Effect.either)
  return Either.isLeft(open) ? failed(open.left) : json(Tickets, { tickets: open.right })
})

const postEscalationReply = Effect.gen(function*() {
  const { ticket = "" } = yield* HttpRouter.params
  const body = yield* readBody(ReplyBody, `{"text": "We have refunded your order."}`)
  if (Either.isLeft(body)) return body.left
  // `answerEscalation` tells an unknown ticket from a refused reply only in its message: look the
  // ticket up in the queue first, so a caller gets a 404 it can act on.
  const open = yield* Desk.escalations.pipe(bounded, Effect.either)
  if (Either.isLeft(open)) return failed(open.left)
  if (!open.right.some((t) => t.id === ticket)) {
    return notFound(
      `no open ticket "${ticket}": it does not exist or was already answered. GET /support/api/escalations lists the open ones`,
      "ticket_not_found"
    )
  }
  const answered = yield* Desk.answerEscalation(ticket, body.right.text).pipe(bounded, Effect.either)
  return Either.isLeft(answered) ? failed(answered.left) : json(Desk.Ticket, answered.right)
})

const isDeskEvent = Schema.is(DeskEvents.Event)
const encodeDeskEvent = Schema.encodeSync(DeskEvents.Event)
const encodeEnvelope = Schema.encodeSync(Events.Envelope)
// an event of a package the desk does not know still shows, as its tag, source and time
const encodeEvent = (event: Events.Event) => isDeskEvent(event) ? encodeDeskEvent(event) : encodeEnvelope(event)

const followEvents = (activity: Activity.Activity, closing: Deferred.Deferred<void>) =>
  Effect.gen(function*() {
    const id = yield* conversationParam
    if (Either.isLeft(id)) return id.left
    const request = yield* HttpServerRequest.HttpServerRequest
    // a reconnecting EventSource sends the last id it saw: resume after it
    const after = Number(request.headers["last-event-id"] ?? queryParam(request, "after") ?? 0)
    const frames = activity.follow(id.right, Number.isFinite(after) ? after : 0).pipe(
      Stream.map((entry) => `id: ${entry.seq}\ndata: ${JSON.stringify(encodeEvent(entry.event))}\n\n`),
      // a follower that fell behind gets a last frame saying where it was, then the stream ends
      // and the browser reconnects after it
      Stream.catchTag("FellBehind", (behind) => Stream.make(Activity.overflowFrame(behind))),
      // proxies close connections that stay silent; a comment line keeps this one open (only
      // while there are events to send: the feed's end ends the response)
      Stream.merge(Stream.map(Stream.tick("15 seconds"), () => ": keep-alive\n\n"), { haltStrategy: "left" }),
      (events) => Stream.concat(Stream.make("retry: 2000\n\n"), events),
      // the stream never ends by itself: end it when the gateway stops, which waits for open responses
      Stream.interruptWhenDeferred(closing),
      Stream.encodeText
    )
    return HttpServerResponse.stream(frames, {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
    })
  })

const getConversations = (activity: Activity.Activity) =>
  Effect.sync(() =>
    HttpServerResponse.unsafeJson({
      conversations: activity.conversations()
        .filter((seen) => seen.agents.includes(Desk.DeskAgent.type))
        .map(({ events, id, lastAt }) => ({ id, lastAt, events }))
    })
  )

/**
 * Per agent type: messages in flight and handled (from the event bus), model calls, tokens and
 * cost (from `LanguageModel.usage`); with `?conversation=`, the same per agent instance of that
 * conversation.
 *
 * @since 0.1.0
 * @category models
 */
export class AgentStats extends Schema.Class<AgentStats>("@colony/apps/support/web/AgentStats")({
  agent: Schema.String,
  inFlight: Schema.Number,
  handled: Schema.Number,
  failed: Schema.Number,
  calls: Schema.Number,
  tokens: Schema.Number,
  cost: Schema.Number
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export class Stats extends Schema.Class<Stats>("@colony/apps/support/web/Stats")({
  agents: Schema.Array(AgentStats),
  total: Schema.Struct({ calls: Schema.Number, tokens: Schema.Number, cost: Schema.Number }),
  conversation: Schema.NullOr(Schema.Struct({ id: Schema.String, agents: Schema.Array(AgentStats) }))
}) {}

const getStats = (activity: Activity.Activity) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const usage = yield* Effect.flatMap(LanguageModel.LanguageModel, (model) => model.usage)
    const selected = queryParam(request, "conversation")
    if (selected !== undefined && !CONVERSATION_ID.test(selected)) {
      return badRequest(`invalid conversation id "${selected}" in ?conversation=`, "invalid_conversation_id")
    }
    const byType = new Map<string, { calls: number; tokens: number; cost: number }>()
    for (const [address, totals] of Object.entries(usage.byAgent)) {
      const type = address.split("/")[0]!
      const sum = byType.get(type) ?? { calls: 0, tokens: 0, cost: 0 }
      byType.set(type, {
        calls: sum.calls + totals.calls,
        tokens: sum.tokens + totals.usage.totalTokens,
        cost: sum.cost + totals.cost
      })
    }
    const loads = new Map(activity.load().map((load) => [load.agent, load]))
    const types = [...new Set([...loads.keys(), ...byType.keys()])].sort()
    const agents = types.map((agent) =>
      new AgentStats({
        agent,
        inFlight: loads.get(agent)?.inFlight ?? 0,
        handled: loads.get(agent)?.handled ?? 0,
        failed: loads.get(agent)?.failed ?? 0,
        ...(byType.get(agent) ?? { calls: 0, tokens: 0, cost: 0 })
      })
    )
    const total = { calls: usage.total.calls, tokens: usage.total.usage.totalTokens, cost: usage.total.cost }
    return json(Stats, new Stats({ agents, total, conversation: selected === undefined ? null : conversationStats(activity, usage, selected) }))
  })

/** The agent instances of one conversation: their messages from its events, their spend from the usage report. */
const conversationStats = (activity: Activity.Activity, usage: LanguageModel.UsageReport, conversation: string) => {
  const rows = new Map<string, { inFlight: number; handled: number; failed: number; calls: number; tokens: number; cost: number }>()
  const row = (address: string) => {
    const found = rows.get(address) ?? { inFlight: 0, handled: 0, failed: 0, calls: 0, tokens: 0, cost: 0 }
    rows.set(address, found)
    return found
  }
  for (const { event } of activity.history(conversation)) {
    if (event instanceof Events.MessageReceived) row(`${event.agent}/${event.id}`).inFlight += 1
    if (event instanceof Events.MessageHandled) {
      const r = row(`${event.agent}/${event.id}`)
      r.inFlight = Math.max(0, r.inFlight - 1)
      r.handled += 1
      if (event.outcome !== "success") r.failed += 1
    }
  }
  for (const [address, totals] of Object.entries(usage.byAgent)) {
    const id = address.slice(address.indexOf("/") + 1)
    if (id !== conversation && !id.startsWith(`${conversation}.`)) continue
    Object.assign(row(address), { calls: totals.calls, tokens: totals.usage.totalTokens, cost: totals.cost })
  }
  return {
    id: conversation,
    agents: [...rows].sort(([a], [b]) => a.localeCompare(b)).map(([agent, r]) => new AgentStats({ agent, ...r }))
  }
}

/**
 * The support desk's pages and API, for its `Application.routes`. Watches the event bus from the
 * moment the gateway starts.
 *
 * @since 0.1.0
 */
export const routes: Application.Routes = Effect.gen(function*() {
  const activity = yield* Activity.make()
  const closing = yield* Deferred.make<void>()
  yield* Effect.addFinalizer(() => Deferred.succeed(closing, undefined))
  const pages = yield* Pages.load
  const page = ({ headers, html }: Pages.Page) => Effect.succeed(HttpServerResponse.html(html).pipe(HttpServerResponse.setHeaders(headers)))
  return HttpRouter.empty.pipe(
    // the router ignores a trailing slash: this serves /support too
    HttpRouter.get("/support/", Auth.route("public", page(pages.chat))),
    HttpRouter.get("/support/dashboard", Auth.route("public", page(pages.dashboard))),
    HttpRouter.get("/support/api/conversations", Auth.route("operator", getConversations(activity))),
    HttpRouter.get("/support/api/conversations/:id", Auth.route("client", getConversation)),
    HttpRouter.post("/support/api/conversations/:id/messages", Auth.route("client", postMessage)),
    HttpRouter.get(
      "/support/api/conversations/:id/events",
      Auth.route("client", followEvents(activity, closing), { ticket: true })
    ),
    HttpRouter.get("/support/api/escalations", Auth.route("operator", getEscalations)),
    HttpRouter.post("/support/api/escalations/:ticket/reply", Auth.route("operator", postEscalationReply)),
    HttpRouter.get("/support/api/stats", Auth.route("operator", getStats(activity)))
  )
})
