/**
 * Stored messages marked read by a runner that was giving their shard up.
 *
 * A runner's storage poll marks the unprocessed messages of the shards it holds as read
 * (`last_read`), and skips marked messages for ten minutes; a runner that takes a shard clears the
 * marks of its messages once, when it acquires it. A poll the previous owner started just before
 * it gave the shard up can land after that clearing (its query waited for a pooled connection on a
 * busy machine): the message is then marked by a runner that no longer delivers it, and the new
 * owner skips it for ten minutes while its caller waits. So each runner clears, every few seconds,
 * the marks older than `olderThan` on the unprocessed messages of the shards it holds. A message
 * this runner is still handling is read again and skipped by the cluster as already processing.
 */
import * as ShardId from "@effect/cluster/ShardId"
import * as Sharding from "@effect/cluster/Sharding"
import * as SqlClient from "@effect/sql/SqlClient"
import { Duration, Effect, Layer, Schedule } from "effect"

export interface StaleReadSettings {
  readonly shardGroups: ReadonlyArray<string>
  readonly shardsPerGroup: number
  /** a mark this old on an unprocessed message of a held shard is cleared */
  readonly olderThan: Duration.Duration
  readonly every: Duration.Duration
}

/** The cluster's message table (`SqlMessageStorage` with its default prefix). */
const MESSAGES = "cluster_messages"

export const layer = (settings: StaleReadSettings): Layer.Layer<never, never, Sharding.Sharding | SqlClient.SqlClient> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sharding = yield* Sharding.Sharding
    const seconds = Duration.toSeconds(settings.olderThan)
    const sweep = Effect.gen(function*() {
      const held: Array<string> = []
      for (const group of settings.shardGroups) {
        for (let id = 1; id <= settings.shardsPerGroup; id++) {
          if (sharding.hasShardId(ShardId.make(group, id))) held.push(ShardId.ShardId.toString({ group, id }))
        }
      }
      if (held.length === 0) return
      const cleared = yield* sql<{ id: string }>`
        UPDATE ${sql(MESSAGES)} SET last_read = NULL
        WHERE processed = false
          AND last_read < NOW() - make_interval(secs => ${seconds})
          AND ${sql.in("shard_id", held)}
        RETURNING id`
      if (cleared.length > 0) {
        yield* Effect.logWarning(
          `${cleared.length} stored message(s) of this runner's shards were marked read by another runner and not ` +
            "delivered: cleared, so they are delivered now"
        )
      }
    })
    yield* sweep.pipe(
      // the table appears with the cluster's storage; a failed sweep is tried again at the next one
      Effect.catchAllCause((cause) => Effect.logDebug("Stale read sweep failed", cause)),
      Effect.repeat(Schedule.spaced(settings.every)),
      Effect.forkScoped
    )
  }))
