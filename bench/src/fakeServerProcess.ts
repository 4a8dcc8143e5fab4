/**
 * The fake OpenAI-compatible server in a process of its own, driven over IPC by `lib/fakeServer.ts`.
 * A model endpoint is another machine in real life; here it is at least another process, so its
 * CPU time is not charged to the contender being measured (2 cores: one each).
 */
import { FakeOpenAI } from "@colony/runtime/testing"

const latencyMs = Number(process.argv[2] ?? "0")

type Request =
  | { readonly id: number; readonly type: "setLatency"; readonly ms: number }
  | { readonly id: number; readonly type: "stats" }
  | { readonly id: number; readonly type: "reset" }
  | { readonly id: number; readonly type: "requests"; readonly last: number }
  | { readonly id: number; readonly type: "close" }

const server = await FakeOpenAI.start({ port: 0, latencyMs })
process.send!({ type: "ready", url: server.url })

process.on("message", (message: Request) => {
  const reply = (value: unknown) => process.send!({ id: message.id, value })
  switch (message.type) {
    case "setLatency":
      server.setLatency(message.ms)
      return reply(null)
    case "stats":
      return reply(server.stats())
    case "requests":
      // what was sent, without the bodies' bulk: enough to check every contender does the same work
      return reply(server.requests().slice(-message.last).map((r) => ({
        model: r.body.model,
        stream: r.stream,
        messages: (r.body.messages ?? []).map((m) => ({ role: m.role, content: typeof m.content === "string" ? m.content : JSON.stringify(m.content) })),
        tools: r.body.tools?.length ?? 0
      })))
    case "reset":
      server.reset()
      return reply(null)
    case "close":
      void server.close().then(() => {
        reply(null)
        process.disconnect()
        process.exit(0)
      })
  }
})
process.on("disconnect", () => process.exit(0))
