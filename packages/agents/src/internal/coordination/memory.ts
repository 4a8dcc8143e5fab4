/**
 * Coordination state kept in the process, for the embedded colony. Each change is one atomic
 * update of a map; lease expiry reads the Effect `Clock`, so tests drive it with `TestClock`.
 */
import { Clock, Effect, Layer, Option } from "effect"
import * as LeaseRules from "../lease.js"
import { CoordinationStorage, type DecisionRecord, type ParticipantRecord, type Service, type SubscriberRow } from "./service.js"

const leases = (): Pick<Service, "acquire" | "renew" | "release" | "holder"> => {
  const locks = new Map<string, LeaseRules.State>()
  const lockAt = (name: string) => locks.get(name) ?? LeaseRules.empty
  return {
    acquire: (name, owner, ttlMs) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const outcome = LeaseRules.acquire(lockAt(name), name, owner, now, ttlMs)
        locks.set(name, outcome.state)
        return outcome
      }),
    renew: (name, owner, token, ttlMs) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const next = LeaseRules.renew(lockAt(name), owner, token, now, ttlMs)
        if (next !== undefined) locks.set(name, next)
        return next?.lease
      }),
    release: (name, owner, token) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const next = LeaseRules.release(lockAt(name), owner, token, now)
        if (next !== undefined) locks.set(name, next)
        return next !== undefined
      }),
    holder: (name) => Effect.map(Clock.currentTimeMillis, (now) => LeaseRules.holder(lockAt(name), now))
  }
}

const topicsAndClocks = (): Pick<Service, "subscribe" | "unsubscribe" | "subscribers" | "advanceClock"> => {
  const topics = new Map<string, ReadonlyArray<SubscriberRow>>()
  const clocks = new Map<string, number>()
  return {
    subscribe: (topic, subscriber) =>
      Effect.sync(() => {
        const all = topics.get(topic) ?? []
        const next = all.some((s) => s.agent === subscriber.agent && s.id === subscriber.id) ? all : [...all, subscriber]
        topics.set(topic, next)
        return next.length
      }),
    unsubscribe: (topic, agent, id) =>
      Effect.sync(() => {
        const all = topics.get(topic) ?? []
        const rest = all.filter((s) => s.agent !== agent || s.id !== id)
        topics.set(topic, rest)
        return rest.length < all.length
      }),
    subscribers: (topic) => Effect.sync(() => topics.get(topic) ?? []),
    advanceClock: (node, remote, steps) =>
      Effect.sync(() => {
        const time = Math.max(clocks.get(node) ?? 0, remote) + steps
        clocks.set(node, time)
        return time
      })
  }
}

const transactions = (): Pick<Service, "participant" | "recordVote" | "settle" | "decide" | "decision"> => {
  const participants = new Map<string, ParticipantRecord>()
  const decisions = new Map<string, DecisionRecord>()
  const keyOf = (participant: string, transaction: string) => `${participant}#${transaction}`
  return {
    participant: (participant, transaction) =>
      Effect.sync(() => Option.fromNullable(participants.get(keyOf(participant, transaction)))),
    recordVote: (participant, transaction, record) =>
      Effect.sync(() => {
        const key = keyOf(participant, transaction)
        const known = participants.get(key)
        if (known !== undefined) return known
        participants.set(key, record)
        return record
      }),
    settle: (participant, transaction, phase) =>
      Effect.sync(() => {
        const key = keyOf(participant, transaction)
        const known = participants.get(key)
        if (phase === "committed") {
          if (known === undefined || known.phase === "aborted") return undefined
          participants.set(key, { ...known, phase })
          return phase
        }
        if (known?.phase === "committed") return "committed"
        participants.set(key, { ...(known ?? { vote: "abort", reason: "aborted before prepare" }), phase })
        return phase
      }),
    decide: (transaction, record) =>
      Effect.sync(() => {
        const known = decisions.get(transaction)
        if (known !== undefined) return known
        decisions.set(transaction, record)
        return record
      }),
    decision: (transaction) => Effect.sync(() => Option.fromNullable(decisions.get(transaction)))
  }
}

/**
 * Coordination state kept in this process: survives passivation and shard moves within the
 * process (there is only one in the embedded colony), not the process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CoordinationStorage> = Layer.sync(
  CoordinationStorage,
  () => CoordinationStorage.of({ ...leases(), ...topicsAndClocks(), ...transactions() })
)
