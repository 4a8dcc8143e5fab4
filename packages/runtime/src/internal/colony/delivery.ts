/**
 * Delivering one message to an agent instance: the payload checked and bounded, the call repeated
 * while repeating is safe, within its deadline.
 */
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import type * as Rpc from "@effect/rpc/Rpc"
import { Context, type Duration, Effect, ParseResult, Schema } from "effect"
import * as Agent from "../../Agent.js"
import { AgentCallTimeout, InvalidMessage, PayloadTooLarge, UnknownAgent } from "../../AgentError.js"
import * as Registry from "../registry.js"
import { ColonyConfig } from "./config.js"
import { deadline, withDeadline } from "./deadline.js"
import { backoff, classify, Failed, hasPrimaryKey, idempotentTags } from "./failure.js"

const byteLength = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? "", "utf8")

/**
 * An upper bound of the encoded size of an `Ask` payload, without encoding it. Every `Ask` goes
 * through here, and its payload is a validated instance whose encoded form is its own string
 * fields, so encoding it only to measure it would cost a schema pass per message. A UTF-16 code
 * unit takes at most 6 bytes of JSON (`\u001f`); the keys and quotes fit in the 64 added. Only a
 * payload near the limit is encoded and measured exactly.
 */
const askBytesAtMost = (payload: Agent.AskPayload): number =>
  askFieldsKnown && payload.answerFormat === undefined
    ? 6 * (payload.prompt.length + (payload.from?.length ?? 0) + payload.messageId.length) + 64
    : Number.POSITIVE_INFINITY

// the bound holds for the three plain strings; a payload with an answer format (a JSON Schema of
// any size) or with fields added later is measured exactly
const askFieldsKnown = Object.keys(Agent.AskPayload.fields).sort().join(",") === "answerFormat,from,messageId,prompt"

const formatIssue = (error: ParseResult.ParseError): string =>
  ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s*\n\s*/g, " ")

/**
 * A typed caller passes a class payload (such as `Ask`'s, which carries a primary key) as its
 * constructor's argument; build the instance, whose constructor validates it.
 */
const construct = (
  schema: Schema.Schema<any, any>,
  payload: unknown,
  invalid: (error: ParseResult.ParseError) => InvalidMessage
): Effect.Effect<unknown, InvalidMessage> => {
  if (!isClassSchema(schema) || payload instanceof schema) return Effect.succeed(payload)
  return Effect.try({
    try: () => new schema(payload ?? {}),
    catch: (error) =>
      ParseResult.isParseError(error)
        ? invalid(error)
        : invalid(new ParseResult.ParseError({ issue: new ParseResult.Type(schema.ast, payload, String(error)) }))
  })
}

const isClassSchema = (schema: unknown): schema is (new(props: unknown) => unknown) & Schema.Schema<any, any> =>
  typeof schema === "function" && "fields" in schema && "identifier" in schema

// `Effect.retry` runs its effect at once; the first failure was already had, so the schedule's
// first delay comes before the second attempt, as it would with the retry around the first.
const again = <A, E, R>(first: E, attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  let failedOnce = false
  return Effect.suspend(() => failedOnce ? attempt : (failedOnce = true, Effect.fail(first)))
}

export interface CallOptions {
  readonly decode: boolean
  readonly timeout?: Duration.DurationInput | undefined
}

export const deliver = Effect.fnUntraced(function*(
  agent: Agent.Any,
  id: string,
  tag: string,
  payload: unknown,
  options: CallOptions
) {
  const registry = yield* Registry.Registry
  const def = Agent.definition(agent)
  if (registry.get(agent.type) === undefined) {
    return yield* new UnknownAgent({ agent: agent.type, registered: registry.names() })
  }
  const rpc = agent.protocol.requests.get(tag) as Rpc.AnyWithProps | undefined
  if (rpc === undefined) {
    return yield* new InvalidMessage({
      agent: agent.type,
      rpc: tag,
      details: `no such RPC; "${agent.type}" answers ${def.rpcs.join(", ")}`
    })
  }
  const schema = rpc.payloadSchema as Schema.Schema<any, any>
  const invalid = (error: ParseResult.ParseError) =>
    new InvalidMessage({ agent: agent.type, rpc: tag, details: formatIssue(error) })
  const decoded = options.decode
    ? yield* Effect.mapError(Schema.decodeUnknown(schema)(payload), invalid)
    : yield* construct(schema, payload, invalid)
  const settings = yield* ColonyConfig
  if (!(decoded instanceof Agent.AskPayload && askBytesAtMost(decoded) <= settings.maxPayloadBytes)) {
    const encoded = yield* Schema.encode(schema)(decoded).pipe(
      Effect.mapError((error) => new InvalidMessage({ agent: agent.type, rpc: tag, details: formatIssue(error) }))
    )
    const bytes = byteLength(encoded)
    if (bytes > settings.maxPayloadBytes) {
      return yield* new PayloadTooLarge({ agent: agent.type, rpc: tag, bytes, limit: settings.maxPayloadBytes })
    }
  }
  const after = yield* deadline(options.timeout, settings)
  const makeClient = yield* agent.client
  const method = (makeClient(id) as any)[tag] as (payload: unknown) => Effect.Effect<unknown, unknown>
  const idempotent = idempotentTags.has(tag)
  const deduplicated = Context.get(rpc.annotations, ClusterSchema.Persisted) && hasPrimaryKey(decoded)
  const repeat = (failed: Failed) =>
    failed.retry === "always" ||
    (failed.retry === "if-idempotent" && idempotent) ||
    (failed.retry === "if-safe" && (idempotent || deduplicated))
  const attempt = Effect.catchAllCause(method(decoded), classify(def, id, tag))
  const timedOut = () => new Failed(new AgentCallTimeout({ agent: def.name, id, rpc: tag, after }), "never")
  return yield* attempt.pipe(
    // the retry schedule is built only for a call whose first attempt failed
    Effect.catchAll((failed) =>
      repeat(failed) ? Effect.retry(again(failed, attempt), { schedule: backoff, while: repeat }) : Effect.fail(failed)
    ),
    (call) => withDeadline(call, after, timedOut),
    Effect.mapError((failed) => failed.error)
  )
})
