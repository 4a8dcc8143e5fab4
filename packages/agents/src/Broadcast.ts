/**
 * Items published once and read by any number of followers in this process, each follower with
 * its own bounded buffer. A follower that stops reading is ended with `FollowerOverflow` when its
 * buffer fills: the publisher never waits for it, the other followers keep every item, and what a
 * follower can hold in memory is at most its buffer. Ending it instead of dropping items means a
 * follower never sees a stream with silent holes; it knows where it stopped and follows again.
 *
 * @since 0.1.0
 */
import { Effect, Mailbox, Metric, Option, Schema, type Scope, Stream } from "effect"

/**
 * Items a follower may leave unread before it is ended, unless `make` is told otherwise.
 *
 * @since 0.1.0
 */
export const capacity = 1000

/**
 * Followers ended with `FollowerOverflow`, in this process, by the `name` of their broadcast
 * (`session`, `support_activity`, ...): what the bounds dropped, for the metrics endpoint.
 *
 * @since 0.1.0
 */
export const overflowedTotal = Metric.counter("colony_followers_overflowed_total", {
  description: "followers of a broadcast (session callers and watchers, event feeds) ended for falling behind, by broadcast",
  incremental: true
})

/**
 * A follower read too slowly and was ended: `capacity` items waited unread. It received the first
 * `delivered` items it was sent; `resume` says how to catch up.
 *
 * @since 0.1.0
 * @category errors
 */
export class FollowerOverflow extends Schema.TaggedError<FollowerOverflow>()("FollowerOverflow", {
  capacity: Schema.Int,
  delivered: Schema.Int,
  resume: Schema.String
}) {
  override get message() {
    return `this follower fell behind: ${this.capacity} items waited unread, so it was ended after ${this.delivered} items; ${this.resume}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FollowOptions<A> {
  /** the items this follower wants (default all); the others never take space in its buffer */
  readonly accept?: ((item: A) => boolean) | undefined
  /** how to catch up, told to the follower in its `FollowerOverflow` */
  readonly resume?: string | undefined
}

/**
 * What the followers hold right now, and how many were ended for falling behind.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly followers: number
  /** items waiting unread, over all followers */
  readonly buffered: number
  /** followers ended with `FollowerOverflow` since the broadcast was made */
  readonly overflowed: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Broadcast<A> {
  /** hand `item` to every follower that accepts it; never waits for a follower */
  readonly publish: (item: A) => Effect.Effect<void>
  /**
   * Follow from now on, for as long as the scope lives: the stream has every item published
   * after this effect ran, and fails with `FollowerOverflow` if its reader falls behind.
   */
  readonly follow: (options?: FollowOptions<A>) => Effect.Effect<Stream.Stream<A, FollowerOverflow>, never, Scope.Scope>
  readonly stats: Effect.Effect<Stats>
}

interface Follower<A> {
  readonly mailbox: Mailbox.Mailbox<A, FollowerOverflow>
  readonly accept: (item: A) => boolean
  readonly resume: string
  accepted: number
}

const all = () => true

/**
 * A broadcast whose followers each buffer at most `capacity` items; the followers it ends are
 * counted in `overflowedTotal` under `name`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A>(
  options: { readonly capacity?: number | undefined; readonly name?: string | undefined } = {}
): Effect.Effect<Broadcast<A>> =>
  Effect.sync(() => {
    const limit = options.capacity ?? capacity
    const counter = Metric.tagged(overflowedTotal, "broadcast", options.name ?? "unnamed")
    const followers = new Set<Follower<A>>()
    let overflowed = 0

    // Its unread items are dropped at once, so an abandoned follower holds no memory until its
    // reader goes away; the items it already took still reach it before the failure.
    const end = (follower: Follower<A>) =>
      Effect.flatMap(Effect.orDie(follower.mailbox.clear), (unread) =>
        follower.mailbox.fail(
          new FollowerOverflow({ capacity: limit, delivered: follower.accepted - unread.length, resume: follower.resume })
        ))

    const publish = (item: A) =>
      Effect.suspend(() => {
        const behind: Array<Follower<A>> = []
        for (const follower of followers) {
          if (!follower.accept(item)) continue
          if (follower.mailbox.unsafeOffer(item)) follower.accepted += 1
          else behind.push(follower)
        }
        if (behind.length === 0) return Effect.void
        for (const follower of behind) followers.delete(follower)
        overflowed += behind.length
        return Effect.zipRight(Metric.incrementBy(counter, behind.length), Effect.forEach(behind, end, { discard: true }))
      })

    const follow = (followOptions: FollowOptions<A> = {}) =>
      Effect.acquireRelease(
        Effect.map(Mailbox.make<A, FollowerOverflow>({ capacity: limit, strategy: "dropping" }), (mailbox) => {
          const follower: Follower<A> = {
            mailbox,
            accept: followOptions.accept ?? all,
            resume: followOptions.resume ?? "follow again to resume",
            accepted: 0
          }
          followers.add(follower)
          return follower
        }),
        (follower) =>
          Effect.suspend(() => {
            followers.delete(follower)
            return follower.mailbox.shutdown
          })
      ).pipe(Effect.map((follower) => Mailbox.toStream(follower.mailbox)))

    const stats = Effect.sync((): Stats => {
      let buffered = 0
      for (const follower of followers) buffered += Option.getOrElse(follower.mailbox.unsafeSize(), () => 0)
      return { followers: followers.size, buffered, overflowed }
    })

    return { publish, follow, stats }
  })
