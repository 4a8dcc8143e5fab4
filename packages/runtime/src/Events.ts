/**
 * The typed record of what happened inside a colony: agents starting and stopping, messages
 * received and handled, model calls, restarts. Events are values with a `Schema`, so they can be
 * streamed to callers in other processes, printed by the CLI and asserted in tests.
 *
 * This module defines the envelope every event shares and the runtime's own events. The set is
 * open: other packages and applications define theirs as `Schema.TaggedClass`es with the envelope
 * fields and a `format` method, publish them on the same bus, and compose a union of the events
 * they know where events cross a process boundary (`@colony/agents` `SessionEvents` is one).
 *
 * @since 0.1.0
 */
export {
  type Event,
  Envelope,
  envelope,
  format,
  now,
  summarize
} from "./internal/events/envelope.js"
export {
  Events,
  fellBehindTotal,
  layer,
  layerWith,
  publish,
  type Stats,
  subscriberBuffer
} from "./internal/events/bus.js"
export {
  AgentGaveUp,
  AgentRestarted,
  AgentStarted,
  AgentStopped,
  MessageHandled,
  MessageReceived,
  ModelCalled,
  RuntimeEvent,
  SubscriberFellBehind,
  ToolCalled
} from "./internal/events/runtimeEvents.js"
