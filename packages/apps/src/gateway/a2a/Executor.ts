/**
 * How an A2A task is worked on: the message goes to the agent, preset or application the endpoint
 * serves, in the gateway's fiber map under the task id (so `CancelTask` and shutdown interrupt
 * it), and its progress and answer are published on the task's event bus.
 */
import { type Collaboration, Session } from "@colony/agents"
import { Colony, Events } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { TaskState } from "@a2a-js/sdk"
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from "@a2a-js/sdk/server"
import { Cause, DateTime, Duration, Effect, Exit, Fiber, FiberMap, Option, Runtime, Stream } from "effect"
import { randomUUID } from "node:crypto"
import * as Auth from "../Auth.js"
import type { Settings } from "../GatewayConfig.js"
import * as GatewayMetrics from "../GatewayMetrics.js"
import * as Presets from "../Presets.js"
import { callerOf, type Target } from "./Cards.js"
import { agentMessage, textOf, textPart } from "./Messages.js"

type Failure = { readonly _tag: string; readonly message: string }

const failureText = (cause: Cause.Cause<Failure>): string =>
  Option.match(Cause.failureOption(cause), {
    onSome: (failure) => `${failure._tag}: ${failure.message}`,
    onNone: () => `the colony failed unexpectedly: ${Cause.pretty(cause).split("\n")[0]}`
  })

/** The message's work: the served agent's answer, the preset's run, or the application's answer. */
const workOn = (
  target: Target,
  offered: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>,
  settings: Settings,
  conversation: string,
  caller: Auth.Caller,
  prompt: string,
  progress: (line: string) => Effect.Effect<void>
): Effect.Effect<string, Failure, Colony.Services | Sharding> =>
  prompt.trim().length === 0
    ? Effect.fail({ _tag: "InvalidMessage", message: "the message has no text; send at least one text part" })
    : target._tag === "Application"
    ? target.application.answer(conversation, prompt, caller).pipe(
      GatewayMetrics.trackInFlight(target.application.name),
      Effect.withSpan("Gateway.a2a", { attributes: { "colony.application": target.application.name, "colony.id": conversation } })
    )
    : target._tag === "Agent"
    ? Colony.ask(target.agent, conversation, prompt, { from: "a2a" }).pipe(
      Effect.tap((answer) => GatewayMetrics.countTokens(target.agent, answer.usage)),
      Effect.map((answer) => answer.text),
      GatewayMetrics.trackInFlight(target.agent),
      Effect.withSpan("Gateway.a2a", { attributes: { "colony.agent": target.agent, "colony.id": conversation } })
    )
    : runPreset(target, offered, settings, prompt, progress)

const answerArtifact = (taskId: string, contextId: string, answer: string) =>
  AgentEvent.artifactUpdate({
    taskId,
    contextId,
    artifact: {
      artifactId: `${taskId}-answer`,
      name: "answer",
      description: "the colony's answer",
      parts: [textPart(answer)],
      metadata: undefined,
      extensions: []
    },
    append: false,
    lastChunk: true,
    metadata: undefined
  })

export const executor = (
  target: Target,
  settings: Settings,
  offered: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>,
  running: FiberMap.FiberMap<string>,
  runtime: Runtime.Runtime<Colony.Services | Sharding>
): AgentExecutor => {
  const execute = (request: RequestContext, bus: ExecutionEventBus) =>
    Effect.gen(function*() {
      const { contextId, taskId } = request
      const caller = callerOf(request.context)
      // a client's A2A contexts are conversations in its own namespace
      const conversation = Auth.namespaced(caller, contextId)
      const status = (state: TaskState, text?: string) =>
        Effect.map(DateTime.now, (now) =>
          bus.publish(AgentEvent.statusUpdate({
            taskId,
            contextId,
            status: {
              state,
              message: text === undefined ? undefined : agentMessage(taskId, contextId, text),
              timestamp: DateTime.formatIso(now)
            },
            metadata: undefined
          })))
      if (request.task === undefined) {
        bus.publish(AgentEvent.task({
          id: taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: undefined },
          artifacts: [],
          history: [request.userMessage],
          metadata: undefined
        }))
      }
      yield* status(TaskState.TASK_STATE_WORKING)

      const work = workOn(target, offered, settings, conversation, caller, textOf(request.userMessage), (line) =>
        status(TaskState.TASK_STATE_WORKING, line))
      const timed = work.pipe(
        Effect.timeoutFail({
          duration: settings.requestTimeout,
          onTimeout: (): Failure => ({
            _tag: "TimeoutException",
            message: `no answer within ${Duration.format(settings.requestTimeout)}; ` +
              `ask something smaller or raise COLONY_GATEWAY_REQUEST_TIMEOUT`
          })
        })
      )
      // The work runs in the gateway's fiber map, under the task id: `CancelTask` interrupts it,
      // and so does the gateway shutting down.
      const fiber = yield* FiberMap.run(running, taskId, timed)
      const exit = yield* Fiber.await(fiber)
      if (Exit.isSuccess(exit)) {
        bus.publish(answerArtifact(taskId, contextId, exit.value))
        yield* status(TaskState.TASK_STATE_COMPLETED, exit.value)
      } else if (Cause.isInterruptedOnly(exit.cause)) {
        yield* status(TaskState.TASK_STATE_CANCELED, "the task was canceled")
      } else {
        yield* status(TaskState.TASK_STATE_FAILED, failureText(exit.cause))
      }
    }).pipe(Effect.ensuring(Effect.sync(() => bus.finished())))

  return {
    execute: (request, bus) => Runtime.runPromise(runtime)(execute(request, bus)),
    cancelTask: (taskId) => Runtime.runPromise(runtime)(FiberMap.remove(running, taskId))
  }
}

const runPreset = (
  target: Extract<Presets.Target, { _tag: "Preset" }>,
  offered: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>,
  settings: Settings,
  prompt: string,
  progress: (line: string) => Effect.Effect<void>
): Effect.Effect<string, Failure, Sharding> => {
  // Every task is its own run, under its own session: concurrent tasks never share memory.
  const session = `a2a-${randomUUID()}`
  const collaboration = Presets.lookup(Presets.presets(offered, settings.presets, session), target.name) ?? target.collaboration
  return Session.run(session, collaboration, prompt).pipe(
    Stream.runFoldEffect(
      Option.none<string>(),
      (answer, p) =>
        p instanceof Session.Finished
          ? Effect.succeed(Option.some(p.result.answer))
          : Effect.as(progress(Events.format(p.event)), answer)
    ),
    Effect.flatMap(Option.match({
      onSome: Effect.succeed,
      onNone: () => Effect.fail<Failure>({ _tag: "SessionCancelled", message: `the collaboration run ${session} ended without an answer` })
    })),
    Effect.withSpan("Gateway.a2a", { attributes: { "colony.preset": target.name, "colony.session": session } })
  )
}
