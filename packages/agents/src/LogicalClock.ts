/**
 * Lamport clocks: logical time that orders causally related events across agents and runners,
 * where wall clocks disagree or tie. A clock is plain data; every local event or send `tick`s it,
 * every receipt moves it past the sender's time (`receive`). If event *a* happened before *b*
 * (same node earlier, or *a* is the send of a message *b* received), then `a.time < b.time`;
 * `compare` extends that to a total order by breaking ties on the node name.
 *
 * Lamport, "Time, Clocks, and the Ordering of Events in a Distributed System", CACM 21(7), 1978.
 *
 * This module holds no state: a clock is a value its owner keeps. An owner that outlives a shard
 * move keeps its clock in storage, since a clock rebuilt at 0 on the new runner would stamp later
 * events before earlier ones: topics and two-phase-commit participants advance theirs with
 * `CoordinationStorage.advanceClock`. A session's clock lives only as long as its run, and a
 * coordinator's as long as its `TwoPhaseCommit.run`, so those stay in memory.
 *
 * @since 0.1.0
 */
import { Order, Schema } from "effect"

/**
 * A logical timestamp: the clock's time when the event happened and the node it happened on.
 *
 * @since 0.1.0
 * @category models
 */
export class Stamp extends Schema.Class<Stamp>("@colony/agents/Stamp")({
  time: Schema.Int.pipe(Schema.nonNegative()),
  node: Schema.String
}) {
  override toString() {
    return `${this.time}@${this.node}`
  }
}

/**
 * The clock of one node (an agent instance, a session).
 *
 * @since 0.1.0
 * @category models
 */
export interface LogicalClock {
  readonly node: string
  readonly time: number
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (node: string, time = 0): LogicalClock => ({ node, time })

/**
 * A local event or a send: time moves on by one.
 *
 * @since 0.1.0
 */
export const tick = (clock: LogicalClock): LogicalClock => ({ node: clock.node, time: clock.time + 1 })

/**
 * The receipt of a message sent at `remote`: time moves past both clocks.
 *
 * @since 0.1.0
 */
export const receive = (clock: LogicalClock, remote: number): LogicalClock => ({
  node: clock.node,
  time: Math.max(clock.time, remote) + 1
})

/**
 * The stamp of the clock's current time.
 *
 * @since 0.1.0
 */
export const stamp = (clock: LogicalClock): Stamp =>
  // a session stamps every event: a time that is plainly a non-negative integer needs no schema pass
  new Stamp({ time: clock.time, node: clock.node }, Number.isSafeInteger(clock.time) && clock.time >= 0)

/**
 * The total order of stamps: by time, then by node name. It agrees with happened-before.
 *
 * @since 0.1.0
 * @category ordering
 */
export const order: Order.Order<Stamp> = Order.combine(
  Order.mapInput(Order.number, (s: Stamp) => s.time),
  Order.mapInput(Order.string, (s: Stamp) => s.node)
)
