/**
 * The entities this package adds to a colony, hosted together: sessions (live and durable),
 * topics and locks. A runner hosts them beside its agents so collaborations started anywhere in
 * the colony can run on it.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster/Sharding"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import type { Colony } from "@colony/runtime"
import { Layer } from "effect"
import * as DurableSession from "./DurableSession.js"
import * as LoadTracker from "./LoadTracker.js"
import * as Lock from "./Lock.js"
import * as Session from "./Session.js"
import * as Topic from "./Topic.js"

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, WorkflowEngine | Colony.Services | Sharding> = Layer.mergeAll(
  Session.layer,
  DurableSession.layer,
  Topic.layer,
  Lock.layer
).pipe(Layer.provide(LoadTracker.layer))
