/**
 * Cluster-wide locks held as leases. A lease names its owner, expires unless renewed, and carries
 * a fencing token that grows with every new grant: a resource that remembers the largest token it
 * has seen can refuse a writer whose lease already passed to someone else (Kleppmann, "How to do
 * distributed locking", 2016). Time is the Effect `Clock` of the process hosting the lock, so
 * tests drive expiry with `TestClock`.
 *
 * Each lock name is one entity (`colony-lock`), so every runner reaches the same lock. The rules
 * are the pure functions `acquire`, `renew` and `release` over a lock's `State`.
 *
 * @since 0.1.0
 */
import * as ClusterError from "@effect/cluster/ClusterError"
import * as Entity from "@effect/cluster/Entity"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { AgentError } from "@colony/runtime"
import { Clock, Duration, Effect, Layer, Ref, Schema } from "effect"

/**
 * The longest lease a lock grants. The lock entity is passivated only after being idle for longer
 * than this, so it never forgets a lease that is still valid.
 *
 * @since 0.1.0
 */
export const maxLease: Duration.Duration = Duration.hours(1)

/**
 * A granted lease.
 *
 * @since 0.1.0
 * @category models
 */
export class Lease extends Schema.Class<Lease>("@colony/agents/Lease")({
  name: Schema.String,
  owner: Schema.String,
  /** grows with every new grant of this lock; unchanged by renewals */
  token: Schema.Number,
  /** epoch milliseconds */
  expiresAt: Schema.Number
}) {}

/**
 * The lock is held by someone else.
 *
 * @since 0.1.0
 * @category errors
 */
export class LockHeld extends Schema.TaggedError<LockHeld>()("LockHeld", { name: Schema.String, holder: Lease }) {
  override get message() {
    return `lock "${this.name}" is held by ${this.holder.owner} until ${new Date(this.holder.expiresAt).toISOString()}. ` +
      `Retry after that, or coordinate with the holder.`
  }
}

/**
 * The lease expired or was released, and may belong to someone else now.
 *
 * @since 0.1.0
 * @category errors
 */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  name: Schema.String,
  owner: Schema.String,
  token: Schema.Number
}) {
  override get message() {
    return `${this.owner} no longer holds lock "${this.name}" (token ${this.token}): the lease expired or was ` +
      `released. Stop acting under it and acquire the lock again.`
  }
}

/**
 * A lease longer than `maxLease` was asked for.
 *
 * @since 0.1.0
 * @category errors
 */
export class LeaseTooLong extends Schema.TaggedError<LeaseTooLong>()("LeaseTooLong", {
  name: Schema.String,
  ttlMs: Schema.Number
}) {
  override get message() {
    return `a ${this.ttlMs} ms lease on "${this.name}" is longer than the ${Duration.format(maxLease)} maximum. ` +
      `Ask for a shorter lease and renew it.`
  }
}

// --- pure rules ---

/**
 * A lock's state: the current lease, if any, and the last token granted.
 *
 * @since 0.1.0
 * @category models
 */
export interface State {
  readonly lease: Lease | undefined
  readonly lastToken: number
}

/**
 * @since 0.1.0
 */
export const empty: State = { lease: undefined, lastToken: 0 }

const valid = (state: State, now: number): Lease | undefined =>
  state.lease !== undefined && state.lease.expiresAt > now ? state.lease : undefined

/**
 * The lease in force at `now`, if any.
 *
 * @since 0.1.0
 */
export const holder = (state: State, now: number): Lease | undefined => valid(state, now)

/**
 * Grant the lock to `owner` unless another owner holds a valid lease. The holder acquiring again
 * extends its lease and keeps its token. A new grant's token is larger than every earlier one,
 * and at least `now`, so tokens keep growing even if the state was lost and rebuilt.
 *
 * @since 0.1.0
 */
export const acquire = (
  state: State,
  name: string,
  owner: string,
  now: number,
  ttlMs: number
): { readonly state: State; readonly granted: Lease } | { readonly state: State; readonly heldBy: Lease } => {
  const current = valid(state, now)
  if (current !== undefined && current.owner !== owner) return { state, heldBy: current }
  const token = current !== undefined ? current.token : Math.max(state.lastToken + 1, Math.floor(now))
  const granted = new Lease({ name, owner, token, expiresAt: now + ttlMs })
  return { state: { lease: granted, lastToken: token }, granted }
}

/**
 * Extend a lease that is still in force; `undefined` when it is not (expired, released, or
 * granted to someone else since).
 *
 * @since 0.1.0
 */
export const renew = (
  state: State,
  owner: string,
  token: number,
  now: number,
  ttlMs: number
): State | undefined => {
  const current = valid(state, now)
  if (current === undefined || current.owner !== owner || current.token !== token) return undefined
  return { ...state, lease: new Lease({ ...current, expiresAt: now + ttlMs }) }
}

/**
 * Give the lock up; `undefined` when the lease was not in force anyway.
 *
 * @since 0.1.0
 */
export const release = (state: State, owner: string, token: number, now: number): State | undefined => {
  const current = valid(state, now)
  if (current === undefined || current.owner !== owner || current.token !== token) return undefined
  return { ...state, lease: undefined }
}

// --- entity ---

/**
 * @since 0.1.0
 * @category protocol
 */
export const Acquire = Rpc.make("Acquire", {
  payload: { owner: Schema.String, ttlMs: Schema.Number.pipe(Schema.positive()) },
  success: Lease,
  error: Schema.Union(LockHeld, LeaseTooLong)
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Renew = Rpc.make("Renew", {
  payload: { owner: Schema.String, token: Schema.Number, ttlMs: Schema.Number.pipe(Schema.positive()) },
  success: Lease,
  error: Schema.Union(LeaseLost, LeaseTooLong)
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Release = Rpc.make("Release", {
  payload: { owner: Schema.String, token: Schema.Number },
  success: Schema.Boolean
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Holder = Rpc.make("Holder", { success: Schema.NullOr(Lease) })

/**
 * The lock entity: one per lock name.
 *
 * @since 0.1.0
 * @category entities
 */
export const Lock = Entity.make("colony-lock", [Acquire, Renew, Release, Holder])

/**
 * Host locks in this process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Sharding> = Lock.toLayer(
  Effect.gen(function*() {
    const name = (yield* Entity.CurrentAddress).entityId as string
    const state = yield* Ref.make(empty)
    const tooLong = (ttlMs: number) =>
      ttlMs > Duration.toMillis(maxLease) ? Effect.fail(new LeaseTooLong({ name, ttlMs })) : Effect.void
    return Lock.of({
      Acquire: ({ payload }) =>
        Effect.gen(function*() {
          yield* tooLong(payload.ttlMs)
          const now = yield* Clock.currentTimeMillis
          const outcome = acquire(yield* Ref.get(state), name, payload.owner, now, payload.ttlMs)
          if ("heldBy" in outcome) return yield* new LockHeld({ name, holder: outcome.heldBy })
          yield* Ref.set(state, outcome.state)
          return outcome.granted
        }),
      Renew: ({ payload }) =>
        Effect.gen(function*() {
          yield* tooLong(payload.ttlMs)
          const now = yield* Clock.currentTimeMillis
          const next = renew(yield* Ref.get(state), payload.owner, payload.token, now, payload.ttlMs)
          if (next === undefined) return yield* new LeaseLost({ name, owner: payload.owner, token: payload.token })
          yield* Ref.set(state, next)
          return next.lease!
        }),
      Release: ({ payload }) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const next = release(yield* Ref.get(state), payload.owner, payload.token, now)
          if (next === undefined) return false
          yield* Ref.set(state, next)
          return true
        }),
      Holder: () =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          return holder(yield* Ref.get(state), now) ?? null
        })
    })
  }),
  { maxIdleTime: Duration.sum(maxLease, Duration.minutes(1)) }
)

// --- clients ---

type Delivery = ClusterError.MailboxFull | ClusterError.AlreadyProcessingMessage | ClusterError.PersistenceError

const unavailable = (name: string) => <E>(error: E | Delivery): E | AgentError.AgentUnavailable =>
  error instanceof ClusterError.MailboxFull || error instanceof ClusterError.AlreadyProcessingMessage ||
    error instanceof ClusterError.PersistenceError
    ? new AgentError.AgentUnavailable({ agent: "colony-lock", id: name, reason: (error as Delivery)._tag })
    : error as E

/**
 * Take lock `name` for `owner` for `ttl`, or fail with `LockHeld`.
 *
 * @since 0.1.0
 */
export const tryAcquire = (name: string, owner: string, ttl: Duration.DurationInput) =>
  Effect.flatMap(Lock.client, (client) =>
    Effect.mapError(client(name).Acquire({ owner, ttlMs: Duration.toMillis(ttl) }), unavailable(name)))

/**
 * Extend a lease, or fail with `LeaseLost`.
 *
 * @since 0.1.0
 */
export const extend = (lease: Lease, ttl: Duration.DurationInput) =>
  Effect.flatMap(Lock.client, (client) =>
    Effect.mapError(
      client(lease.name).Renew({ owner: lease.owner, token: lease.token, ttlMs: Duration.toMillis(ttl) }),
      unavailable(lease.name)
    ))

/**
 * Give a lease up; `false` if it was no longer in force.
 *
 * @since 0.1.0
 */
export const giveUp = (lease: Lease) =>
  Effect.flatMap(Lock.client, (client) =>
    Effect.mapError(client(lease.name).Release({ owner: lease.owner, token: lease.token }), unavailable(lease.name)))

/**
 * The lease in force on lock `name`, or `null`.
 *
 * @since 0.1.0
 */
export const current = (name: string) =>
  Effect.flatMap(Lock.client, (client) => Effect.mapError(client(name).Holder(), unavailable(name)))

/**
 * Run `effect` holding lock `name`, and release it afterwards. The lease must outlast the effect:
 * nothing renews it here, and the effect gets the lease so it can pass the fencing token on.
 *
 * @since 0.1.0
 */
export const withLock = <A, E, R>(
  name: string,
  owner: string,
  ttl: Duration.DurationInput,
  effect: (lease: Lease) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | LockHeld | LeaseTooLong | AgentError.AgentUnavailable, R | Sharding> =>
  Effect.acquireUseRelease(tryAcquire(name, owner, ttl), effect, (lease) => Effect.ignore(giveUp(lease)))
