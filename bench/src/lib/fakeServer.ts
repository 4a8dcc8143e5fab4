/**
 * Start the project's fake OpenAI-compatible server (`FakeOpenAI.start`) in a child process and
 * control it from the bench: its URL, latency, request counters.
 */
import type { FakeOpenAI } from "@colony/runtime/testing"
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"

const entry = fileURLToPath(new URL("../fakeServerProcess.ts", import.meta.url))

export interface SentRequest {
  readonly model: string | undefined
  readonly stream: boolean
  readonly messages: ReadonlyArray<{ readonly role: string | undefined; readonly content: string }>
  readonly tools: number
}

export interface FakeServer {
  /** base URL, ending in /v1 */
  readonly url: string
  readonly setLatency: (ms: number) => Promise<void>
  readonly stats: () => Promise<FakeOpenAI.Stats>
  readonly reset: () => Promise<void>
  /** the last `last` chat requests as received: model, streaming, messages, tools offered */
  readonly requests: (last: number) => Promise<ReadonlyArray<SentRequest>>
  readonly close: () => Promise<void>
}

export const start = (options: { readonly latencyMs: number }): Promise<FakeServer> =>
  new Promise((resolve, reject) => {
    const child = fork(entry, [String(options.latencyMs)], {
      execArgv: ["--conditions=@colony/source", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let next = 0
    const pending = new Map<number, (value: any) => void>()
    const call = <A>(message: Record<string, unknown>): Promise<A> =>
      new Promise((done) => {
        const id = ++next
        pending.set(id, done)
        child.send({ ...message, id })
      })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the fake server exited (${code}) before it was ready`)))
    child.on("message", (message: any) => {
      if (message.type === "ready") {
        resolve({
          url: message.url,
          setLatency: (ms) => call({ type: "setLatency", ms }),
          stats: () => call({ type: "stats" }),
          reset: () => call({ type: "reset" }),
          requests: (last) => call({ type: "requests", last }),
          close: async () => {
            if (child.exitCode !== null) return
            const exited = new Promise<void>((done) => child.once("exit", () => done()))
            child.send({ type: "close", id: ++next })
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
            await exited
            clearTimeout(timer)
          }
        })
        return
      }
      const done = pending.get(message.id)
      if (done !== undefined) {
        pending.delete(message.id)
        done(message.value)
      }
    })
  })
