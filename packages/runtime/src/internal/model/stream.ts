/**
 * A streamed answer: the stream is opened with retries (nothing has reached the caller yet), its
 * text is passed on as it comes, and the whole answer is assembled from the wire events so the
 * stream can end with the `Finished` response that `chat` would have returned.
 */
import { Clock, Effect, FiberRef, Option, Stream } from "effect"
import type * as ModelRegistry from "../../ModelRegistry.js"
import { holdForStream } from "../limits.js"
import { type AttemptFailure, Cut, type StreamFailure, toModelError, type WireEvent } from "../provider.js"
import * as Retry from "../retry.js"
import { currentAttribution } from "./attribution.js"
import type { ModelError } from "./errors.js"
import { type ChatRequest, ChatResponse, Finished, type StreamPart, TextDelta, ToolCall, Usage } from "./messages.js"
import type { Recorder } from "./recorder.js"
import type { Router } from "./routing.js"
import { costOf } from "./usage.js"

/**
 * The answer so far, from the wire events absorbed: text, tool calls by index (their names and
 * arguments arrive in pieces), and the finish reason, usage and model id when they come.
 */
const makeAssembly = () => {
  let text = ""
  let finishReason: string | undefined
  let usage: Usage | undefined
  let modelId: string | undefined
  const calls = new Map<number, { id: string; name: string; arguments: string }>()
  const absorb = (event: WireEvent) => {
    if (event.text !== undefined) text += event.text
    for (const delta of event.toolCalls ?? []) {
      const call = calls.get(delta.index) ?? { id: "", name: "", arguments: "" }
      calls.set(delta.index, {
        id: delta.id ?? call.id,
        name: call.name + (delta.name ?? ""),
        arguments: call.arguments + (delta.arguments ?? "")
      })
    }
    if (event.finishReason !== undefined) finishReason = event.finishReason
    if (event.usage !== undefined) usage = event.usage
    if (event.modelId !== undefined) modelId = event.modelId
  }
  /** The whole response, or none when the stream has not said it finished. */
  const response = (resolved: ModelRegistry.ResolvedModel, timing: { latencyMs: number; retries: number }) => {
    if (finishReason === undefined) return undefined
    const total = usage ?? Usage.zero
    return new ChatResponse({
      text,
      model: resolved.name,
      modelId: modelId ?? resolved.modelId,
      simulated: resolved.settings.provider === "simulated",
      usage: total,
      toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) =>
        new ToolCall({ id: call.id, name: call.name, arguments: call.arguments }, true)
      ),
      finishReason,
      cost: costOf(total, resolved.settings.prices),
      ...timing
    }, true)
  }
  return { absorb, response, received: () => text.length }
}

/** `stream` over the names `route` resolves, recording each call with `record`. */
export const makeStream = (route: Router, record: Recorder) =>
(request: ChatRequest): Stream.Stream<StreamPart, ModelError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const { limits, provider, resolved } = yield* route(request.model)
    const attribution = yield* FiberRef.get(currentAttribution)
    const startedAt = yield* Clock.currentTimeMillis
    const timeoutMs = request.timeoutMs ?? resolved.settings.timeoutMs
    const recordFailure = (attempts: number) => (error: ModelError) =>
      record({ resolved, attribution, startedAt, streamed: true, attempts, outcome: { error } })
    // The stream holds its permit until its last event: it occupies the endpoint all that time.
    yield* holdForStream(limits)
    let attempts = 0
    const opened = yield* Effect.suspend(() => {
      attempts++
      return provider.open(resolved, request, timeoutMs).pipe(Effect.tapError(Retry.logRetry(resolved, attempts)))
    }).pipe(
      Effect.retry(Retry.retrySchedule(resolved.settings)),
      Effect.mapError((failure) => toModelError(resolved, attempts, timeoutMs)(failure)),
      Effect.tapError((error) => recordFailure(attempts)(error))
    )
    const assembly = makeAssembly()
    const finish = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const response = assembly.response(resolved, { latencyMs: Math.max(0, now - startedAt), retries: attempts - 1 })
      if (response === undefined) {
        return yield* Effect.fail<AttemptFailure | StreamFailure>(
          new Cut({ reason: "the stream closed without a finish reason" })
        )
      }
      yield* record({ resolved, attribution, startedAt, streamed: true, attempts, outcome: { response } })
      return new Finished({ response }, true)
    })
    return opened.pipe(
      Stream.tap((event) => Effect.sync(() => assembly.absorb(event))),
      Stream.filterMap((event) =>
        event.text === undefined || event.text === ""
          ? Option.none()
          : Option.some<StreamPart>(new TextDelta({ text: event.text }, true))
      ),
      Stream.concat(Stream.fromEffect(finish)),
      Stream.mapError((failure) => toModelError(resolved, attempts, timeoutMs)(failure, assembly.received())),
      Stream.tapError((error) => recordFailure(attempts)(error))
    )
  }))
