/**
 * What this process holds right now: its address, the shards it holds, its active agents.
 */
import * as EntityId from "@effect/cluster/EntityId"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardId from "@effect/cluster/ShardId"
import { Effect } from "effect"
import * as Registry from "../registry.js"
import { Placement } from "./config.js"

/**
 * What this process holds right now.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly address: string
  readonly listen: string | undefined
  readonly clientOnly: boolean
  /** how many shards this process holds, per shard group */
  readonly shards: Readonly<Record<string, number>>
  /** which shards this process holds, per shard group */
  readonly shardIds: Readonly<Record<string, ReadonlyArray<number>>>
  /** agent instances active (not passivated) in this process */
  readonly activeAgents: number
  /** agent types this process knows */
  readonly agents: ReadonlyArray<string>
}

/**
 * Which shard an entity id belongs to (in a shard group, "default" unless the entity's protocol
 * names another). Shards, not agents, are what runners hold; with `status` it tells where an
 * instance lives.
 *
 * @since 0.1.0
 */
export const shardOf = (
  id: string,
  group = "default"
): Effect.Effect<{ readonly group: string; readonly id: number }, never, Sharding.Sharding> =>
  Effect.map(Sharding.Sharding, (sharding) => {
    const shard = sharding.getShardId(EntityId.make(id), group)
    return { group: shard.group, id: shard.id }
  })

/**
 * This process's place in the colony: address, shards held, active agents.
 *
 * @since 0.1.0
 */
export const status: Effect.Effect<Status, never, Placement | Registry.Registry | Sharding.Sharding> = Effect.gen(
  function*() {
    const placement = yield* Placement
    const sharding = yield* Sharding.Sharding
    const registry = yield* Registry.Registry
    const shards: Record<string, number> = {}
    const shardIds: Record<string, Array<number>> = {}
    for (const group of placement.shardGroups) {
      const held: Array<number> = []
      for (let id = 1; id <= placement.shardsPerGroup; id++) {
        if (sharding.hasShardId(ShardId.make(group, id))) held.push(id)
      }
      shards[group] = held.length
      shardIds[group] = held
    }
    return {
      address: placement.address,
      listen: placement.listen,
      clientOnly: placement.clientOnly,
      shards,
      shardIds,
      activeAgents: yield* sharding.activeEntityCount,
      agents: registry.names()
    }
  }
)
