/**
 * The gateway's list of the sessions it started: how each run ended, told by the run's own stream
 * when its caller read it to the end, and asked of the session when the caller left before.
 */
import { Collaboration, LogicalClock, Session } from "@colony/agents"
import { Events } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref, Stream } from "effect"
import * as SessionLog from "../src/gateway/SessionLog.js"

const progress = (n: number): Session.Progress =>
  new Collaboration.Stamped({
    stamp: new LogicalClock.Stamp({ time: n, node: "test" }),
    event: new Events.AgentStopped({ agent: "analyst", id: "a", at: n })
  })

const peer = new Collaboration.Peer({ peers: [Collaboration.ref("analyst/a")] })

const finished = new Session.Finished({
  result: new Collaboration.Result({ pattern: "Peer", answer: "ship", simulated: true, contributions: [], totalTokens: 0 })
})

// each session's run, by its task: the session itself is not in the test
const runs: Record<string, Stream.Stream<Session.Progress, Session.SessionCancelled | Session.SessionBusy>> = {
  completes: Stream.make(progress(1), progress(2), finished),
  "is cancelled": Stream.concat(Stream.make(progress(1)), Stream.fail(new Session.SessionCancelled({ session: "cancelled" }))),
  "is refused": Stream.fail(new Session.SessionBusy({ session: "done" })),
  "goes on": Stream.concat(Stream.make(progress(1)), Stream.never)
}

describe("SessionLog", () => {
  it.effect("lists the runs it started, most recent first, asking the session how a run its caller left ended", () =>
    Effect.gen(function*() {
      const asked = yield* Ref.make<ReadonlyArray<string>>([])
      const status: SessionLog.Status<never> = (session) =>
        Effect.as(
          Ref.update(asked, (all) => [...all, session]),
          new Session.SessionStatus({ session, state: "completed", pattern: "Peer", clock: 5, events: 5 })
        )
      const log = yield* SessionLog.make((_, __, task) => runs[task]!, status)

      yield* Stream.runDrain(log.start("done", peer, "completes"))
      yield* Effect.flip(Stream.runDrain(log.start("cancelled", peer, "is cancelled")))
      // a caller that leaves after the first event, while the run goes on in the session
      yield* Stream.runForEach(log.start("left", peer, "goes on"), () => Effect.interrupt).pipe(Effect.fork, Effect.flatMap(Fiber.await))
      // the session was already running: the refused run is not listed, the running one stays
      yield* Effect.flip(Stream.runDrain(log.start("done", peer, "is refused")))

      const listed = yield* log.list
      expect(listed.map((s) => [s.session, s.task, s.state, s.events])).toEqual([
        ["left", "goes on", "completed", 5],
        ["cancelled", "is cancelled", "cancelled", 1],
        ["done", "completes", "completed", 2]
      ])
      expect(listed[1]?.reason).toContain("cancelled")
      // the end is remembered: the session is asked once
      yield* log.list
      expect(yield* Ref.get(asked)).toEqual(["left"])
    }))
})
