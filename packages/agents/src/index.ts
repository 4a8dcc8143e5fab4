/**
 * @colony/agents — collaboration patterns and strategies on top of @colony/runtime.
 *
 * @since 0.1.0
 */
export * as Aggregate from "./Aggregate.js"
export * as Assign from "./Assign.js"
export * as Broadcast from "./Broadcast.js"
export * as Collaboration from "./Collaboration.js"
export * as CoordinationStorage from "./CoordinationStorage.js"
export * as Decompose from "./Decompose.js"
export * as DurableSession from "./DurableSession.js"
export * as Eval from "./Eval.js"
export * as Infrastructure from "./Infrastructure.js"
export * as LogicalClock from "./LogicalClock.js"
export * as LoadTracker from "./LoadTracker.js"
export * as Session from "./Session.js"
export * as SessionEvents from "./SessionEvents.js"
export * as Attention from "./Attention.js"
export * as Lock from "./Lock.js"
export * as TaskSet from "./TaskSet.js"
export * as TwoPhaseCommit from "./TwoPhaseCommit.js"
export * as Topic from "./Topic.js"
