/**
 * When a failed attempt is tried again, and how long to wait first.
 */
import { Duration, Effect, Random, Schedule } from "effect"
import type * as ModelRegistry from "../ModelRegistry.js"
import type { AttemptFailure } from "./provider.js"

/**
 * The wait before retry number `retry` (0 for the first retry): exponential from
 * `retryBaseDelayMs`, capped at `retryMaxDelayMs`, with "equal jitter" (between half and all of
 * it, `random` in [0, 1)) so that callers who failed together do not retry together. A
 * `Retry-After` from the endpoint is a floor: we never come back sooner than asked.
 */
export const backoffDelay = (
  policy: { readonly retryBaseDelayMs: number; readonly retryMaxDelayMs: number },
  retry: number,
  retryAfterMs: number | undefined,
  random: number
): number => {
  const exponential = Math.min(policy.retryMaxDelayMs, policy.retryBaseDelayMs * 2 ** retry)
  const jittered = exponential / 2 + random * (exponential / 2)
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs)
}

/**
 * Retries timeouts and transient faults up to the model's `maxRetries`, waiting `backoffDelay`
 * between attempts; a fault whose `Retry-After` exceeds `maxRetryAfterMs` is not retried.
 */
export const retrySchedule = (settings: ModelRegistry.ModelSettings): Schedule.Schedule<unknown, AttemptFailure> => {
  // built once per model entry: every call of the model retries with it
  let schedule = schedules.get(settings)
  if (schedule === undefined) {
    schedule = makeRetrySchedule(settings)
    schedules.set(settings, schedule)
  }
  return schedule
}

const schedules = new WeakMap<ModelRegistry.ModelSettings, Schedule.Schedule<unknown, AttemptFailure>>()

const makeRetrySchedule = (settings: ModelRegistry.ModelSettings) =>
  Schedule.identity<AttemptFailure>().pipe(
    Schedule.zipWith(Schedule.count, (failure, retry) => ({ failure, retry })),
    Schedule.whileOutput(({ failure, retry }) =>
      retry < settings.maxRetries &&
      (failure._tag === "TimedOut" ||
        (failure._tag === "Transient" && (failure.retryAfterMs ?? 0) <= settings.maxRetryAfterMs))
    ),
    Schedule.addDelayEffect(({ failure, retry }) =>
      Effect.map(Random.next, (random) =>
        Duration.millis(
          backoffDelay(settings, retry, failure._tag === "Transient" ? failure.retryAfterMs : undefined, random)
        ))
    )
  )

/** Logs a failed attempt (a warning, since a retry may still succeed). */
export const logRetry = (resolved: ModelRegistry.ResolvedModel, attempt: number) => (failure: AttemptFailure) =>
  Effect.logWarning("model attempt failed").pipe(
    Effect.annotateLogs({
      model: resolved.name,
      attempt,
      failure: failure._tag,
      ...("status" in failure && failure.status !== undefined ? { status: failure.status } : {}),
      ...("reason" in failure ? { reason: failure.reason } : {})
    })
  )
