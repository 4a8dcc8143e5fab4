/**
 * A colony is the set of layers a program picks to host or call agents, and the typed clients
 * it calls them with. `embedded` runs everything in one process with the cluster's own in-memory
 * storage and no configuration; later layers join a Postgres-backed cluster of runners. The
 * client code is the same either way: an agent type plus an id, never a shard or a runner.
 *
 * <!-- snippet: const Support = Agent.make({ name: "support" }) -->
 * ```ts
 * const program = Effect.gen(function*() {
 *   const support = yield* Colony.client(Support)
 *   const answer = yield* support("customer-42").Ask({ prompt: "Where is my order?" })
 * })
 * program.pipe(Effect.provide(Agent.toLayer(Support).pipe(Layer.provideMerge(Colony.embedded))))
 * ```
 *
 * @since 0.1.0
 */
export { clientOnly, declare, layerClientOnly, layerRunner, runner } from "./internal/colony/cluster.js"
export { type ClusterSettings, clusterConfig, databaseConfig } from "./internal/colony/clusterConfig.js"
export { agents, ask, type AgentClient, client, type DeclaredError, send } from "./internal/colony/client.js"
export { ColonyConfig, Placement, type Services, type Settings, settingsConfig } from "./internal/colony/config.js"
export { withCallTimeout } from "./internal/colony/deadline.js"
export { embedded, layerEmbedded } from "./internal/colony/embedded.js"
export { shardOf, status, type Status } from "./internal/colony/status.js"
