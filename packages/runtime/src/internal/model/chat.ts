/**
 * One answer from a model: attempts under the entry's limits, retried as the entry's policy says,
 * priced and recorded whether it succeeds or not.
 */
import { Clock, Effect, Either, FiberRef } from "effect"
import { limited } from "../limits.js"
import { toModelError } from "../provider.js"
import * as Retry from "../retry.js"
import { currentAttribution } from "./attribution.js"
import type { ModelError } from "./errors.js"
import { type ChatRequest, ChatResponse } from "./messages.js"
import type { Recorder } from "./recorder.js"
import type { Router } from "./routing.js"
import { costOf } from "./usage.js"

/** `chat` over the names `route` resolves, recording each call with `record`. */
export const makeChat = (route: Router, record: Recorder) =>
(request: ChatRequest): Effect.Effect<ChatResponse, ModelError> =>
  Effect.gen(function*() {
    const { limits, provider, resolved } = yield* route(request.model)
    const attribution = yield* FiberRef.get(currentAttribution)
    const startedAt = yield* Clock.currentTimeMillis
    const timeoutMs = request.timeoutMs ?? resolved.settings.timeoutMs
    let attempts = 0
    const attempt = Effect.suspend(() => {
      attempts++
      return limited(limits, provider.complete(resolved, request, timeoutMs)).pipe(
        Effect.tapError(Retry.logRetry(resolved, attempts))
      )
    })
    const result = yield* attempt.pipe(
      Effect.retry(Retry.retrySchedule(resolved.settings)),
      Effect.mapError((failure) => toModelError(resolved, attempts, timeoutMs)(failure)),
      Effect.either
    )
    if (Either.isLeft(result)) {
      yield* record({ resolved, attribution, startedAt, streamed: false, attempts, outcome: { error: result.left } })
      return yield* Effect.fail(result.left)
    }
    const raw = result.right
    const now = yield* Clock.currentTimeMillis
    // built from a validated response and values computed here: not validated again
    const response = new ChatResponse({
      ...raw,
      model: resolved.name,
      cost: costOf(raw.usage, resolved.settings.prices),
      latencyMs: Math.max(0, now - startedAt),
      retries: attempts - 1
    }, true)
    yield* record({ resolved, attribution, startedAt, streamed: false, attempts, outcome: { response } })
    return response
  })
