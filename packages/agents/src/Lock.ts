/**
 * Cluster-wide locks held as leases. A lease names its owner, expires unless renewed, and carries
 * a fencing token that grows with every new grant: a resource that remembers the largest token it
 * has seen can refuse a writer whose lease already passed to someone else (Kleppmann, "How to do
 * distributed locking", 2016).
 *
 * Each lock name is one entity (`colony-lock`), so every runner reaches the same lock. The lease
 * itself lives in `CoordinationStorage`, not in the entity: the entity is rebuilt empty on the
 * runner that takes its shard over (a crash or a graceful rebalance), and two instances can
 * briefly coexist during a move. On runners each acquire is one SQL statement that grants only
 * over an expired lease, on the database's clock, so a second owner is refused whichever instance
 * it reaches. In the embedded colony the rules are the pure functions `acquire`, `renew` and
 * `release` over a lock's `State`, on the Effect `Clock` (tests drive expiry with `TestClock`).
 *
 * @since 0.1.0
 */
import * as ClusterError from "@effect/cluster/ClusterError"
import * as Entity from "@effect/cluster/Entity"
import type { Sharding } from "@effect/cluster/Sharding"
import * as Rpc from "@effect/rpc/Rpc"
import { AgentError, type Colony } from "@colony/runtime"
import { Duration, Effect, Layer, Schema } from "effect"
import * as CoordinationStorage from "./CoordinationStorage.js"
import * as LeaseRules from "./internal/lease.js"

/**
 * The longest lease a lock grants.
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
export type State = LeaseRules.State

/**
 * @since 0.1.0
 */
export const empty: State = LeaseRules.empty

/**
 * The lease in force at `now`, if any.
 *
 * @since 0.1.0
 */
export const holder: (state: State, now: number) => LeaseRules.LeaseFields | undefined = LeaseRules.holder

/**
 * Grant the lock to `owner` unless another owner holds a valid lease. The holder acquiring again
 * extends its lease and keeps its token. A new grant's token is larger than every earlier one,
 * and at least `now`, so tokens keep growing even if the state was lost and rebuilt.
 *
 * @since 0.1.0
 */
export const acquire: typeof LeaseRules.acquire = LeaseRules.acquire

/**
 * Extend a lease that is still in force; `undefined` when it is not (expired, released, or
 * granted to someone else since).
 *
 * @since 0.1.0
 */
export const renew: typeof LeaseRules.renew = LeaseRules.renew

/**
 * Give the lock up; `undefined` when the lease was not in force anyway.
 *
 * @since 0.1.0
 */
export const release: typeof LeaseRules.release = LeaseRules.release

// --- entity ---

/**
 * @since 0.1.0
 * @category protocol
 */
export const Acquire = Rpc.make("Acquire", {
  payload: { owner: Schema.String, ttlMs: Schema.Number.pipe(Schema.positive()) },
  success: Lease,
  error: Schema.Union(LockHeld, LeaseTooLong, CoordinationStorage.StorageError)
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Renew = Rpc.make("Renew", {
  payload: { owner: Schema.String, token: Schema.Number, ttlMs: Schema.Number.pipe(Schema.positive()) },
  success: Lease,
  error: Schema.Union(LeaseLost, LeaseTooLong, CoordinationStorage.StorageError)
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Release = Rpc.make("Release", {
  payload: { owner: Schema.String, token: Schema.Number },
  success: Schema.Boolean,
  error: CoordinationStorage.StorageError
})

/**
 * @since 0.1.0
 * @category protocol
 */
export const Holder = Rpc.make("Holder", { success: Schema.NullOr(Lease), error: CoordinationStorage.StorageError })

/**
 * The lock entity: one per lock name.
 *
 * @since 0.1.0
 * @category entities
 */
export const Lock = Entity.make("colony-lock", [Acquire, Renew, Release, Holder])

/**
 * Host locks in this process, their leases in `CoordinationStorage.layer` (memory in the embedded
 * colony, the colony's database on runners).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Sharding | Colony.Placement> = Lock.toLayer(
  Effect.gen(function*() {
    const name = (yield* Entity.CurrentAddress).entityId as string
    const storage = yield* CoordinationStorage.CoordinationStorage
    const tooLong = (ttlMs: number) =>
      ttlMs > Duration.toMillis(maxLease) ? Effect.fail(new LeaseTooLong({ name, ttlMs })) : Effect.void
    return Lock.of({
      Acquire: ({ payload }) =>
        Effect.gen(function*() {
          yield* tooLong(payload.ttlMs)
          const outcome = yield* storage.acquire(name, payload.owner, payload.ttlMs)
          if ("heldBy" in outcome) return yield* new LockHeld({ name, holder: new Lease(outcome.heldBy) })
          return new Lease(outcome.granted)
        }),
      Renew: ({ payload }) =>
        Effect.gen(function*() {
          yield* tooLong(payload.ttlMs)
          const renewed = yield* storage.renew(name, payload.owner, payload.token, payload.ttlMs)
          if (renewed === undefined) return yield* new LeaseLost({ name, owner: payload.owner, token: payload.token })
          return new Lease(renewed)
        }),
      Release: ({ payload }) => storage.release(name, payload.owner, payload.token),
      Holder: () => Effect.map(storage.holder(name), (lease) => lease === undefined ? null : new Lease(lease))
    })
  })
).pipe(Layer.provide(CoordinationStorage.layer))

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
): Effect.Effect<
  A,
  E | LockHeld | LeaseTooLong | CoordinationStorage.StorageError | AgentError.AgentUnavailable,
  R | Sharding
> =>
  Effect.acquireUseRelease(tryAcquire(name, owner, ttl), effect, (lease) => Effect.ignore(giveUp(lease)))
