/**
 * The gateway as deployed: a client-only process in front of runner processes on Postgres, called
 * with the official `openai` client and the gateway's typed client.
 */
import { Collaboration, Session } from "@colony/agents"
import * as Gateway from "@colony/apps/Gateway"
import * as GatewayClient from "@colony/apps/GatewayClient"
import * as Runners from "@colony/apps/RunnerProcess"
import * as Desk from "@colony/apps/support/Desk"
import * as SupportDesk from "@colony/apps/support/SupportDesk"
import * as HttpServer from "@effect/platform/HttpServer"
import { Effect, ManagedRuntime, Redacted, Schema, Stream } from "effect"
import OpenAI from "openai"
import { describe, expect, it } from "vitest"
import { fileURLToPath } from "node:url"
import { Clerk, Debater, Keeper } from "./support/agents.js"
import { client, freshDatabase, heldShards, postgresPerFile, SECRET, spawnRunner } from "./support/cluster.js"

const postgres = postgresPerFile()
const deskModule = fileURLToPath(new URL("../packages/apps/src/support/RunnerAgents.ts", import.meta.url))

describe("gateway in front of runners", () => {
  it("serves agents and collaborations hosted by runner processes to the openai client and the typed client", async () => {
    const url = await freshDatabase(postgres())
    const runners = [await spawnRunner({ name: "runner-1", databaseUrl: url }), await spawnRunner({ name: "runner-2", databaseUrl: url })]
    await Promise.all(runners.map((r) => r.waitForStatus((s) => heldShards(s) > 0)))
    const gateway = ManagedRuntime.make(
      Gateway.layerClient({
        agents: [Clerk, Keeper, Debater],
        settings: { port: 0, keys: [Redacted.make("k-1")] },
        colony: { databaseUrl: Redacted.make(url), cluster: { secret: Redacted.make(SECRET) } }
      })
    )
    try {
      const address = await gateway.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
      if (address._tag !== "TcpAddress") throw new Error("the gateway is not on TCP")
      const base = `http://127.0.0.1:${address.port}`

      const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: "k-1" })
      const models = (await openai.models.list()).data.map((m) => m.id)
      expect(models).toEqual(expect.arrayContaining(["agent:clerk", "agent:keeper", "agent:debater"]))
      const first = await openai.chat.completions.create({
        model: "agent:keeper",
        user: "ledger-9",
        messages: [{ role: "user", content: "note: the safe code is 1234" }]
      })
      expect(first.choices[0]?.message.content).toContain("[simulated]")
      // the conversation lives on a runner, in that agent's memory: the second answer is given with
      // the first exchange as context (system prompt + 2 remembered messages + the question)
      const second = await openai.chat.completions.create({
        model: "agent:keeper",
        user: "ledger-9",
        messages: [{ role: "user", content: "what was the code?" }]
      })
      expect(second.choices[0]?.message.content).toContain("It read 4 messages of context")

      const viaGateway = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function*() {
            const colony = yield* GatewayClient.make({ url: base, apiKey: "k-1", transport: "websocket" })
            const agents = yield* colony.ListAgents({})
            const progress = yield* colony.RunCollaboration({
              session: "gw-debate-1",
              collaboration: Collaboration.Peer.make({
                peers: [Collaboration.ref("debater/g1"), Collaboration.ref("debater/g2")],
                rounds: 2,
                stop: "fixed-rounds"
              }),
              task: "Tabs or spaces?"
            }).pipe(Stream.runCollect)
            return { agents, progress: [...progress] }
          })
        )
      )
      expect(viaGateway.agents.map((a) => a.name ?? a)).toEqual(expect.arrayContaining(["clerk", "keeper", "debater"]))
      const finished = viaGateway.progress.at(-1)
      expect(finished).toBeInstanceOf(Session.Finished)
      const result = (finished as Session.Finished).result
      expect(result.complete).toBe(true)
      expect(result.contributions.filter((c) => c.role === "peer")).toHaveLength(4)
      // the session's events streamed before the result
      expect(viaGateway.progress.filter((p) => !(p instanceof Session.Finished)).length).toBeGreaterThan(4)

      // a session started by another process (not through this gateway) can be watched through it
      const elsewhere = client(url)
      try {
        const pattern = Collaboration.Peer.make({
          peers: [Collaboration.ref("debater/e1"), Collaboration.ref("debater/e2")],
          rounds: 2,
          stop: "fixed-rounds"
        })
        const direct = await elsewhere.runPromise(Session.result("started-elsewhere", pattern, "Cats or dogs?"))
        const watched = await Effect.runPromise(
          Effect.scoped(
            Effect.flatMap(
              GatewayClient.make({ url: base, apiKey: "k-1", transport: "http" }),
              (colony) => Stream.runCollect(colony.WatchSession({ session: "started-elsewhere" }))
            )
          )
        )
        const last = [...watched].at(-1)
        expect(last).toBeInstanceOf(Session.Finished)
        expect((last as Session.Finished).result.answer).toBe(direct.answer)
      } finally {
        await elsewhere.dispose()
      }
    } finally {
      await gateway.dispose()
    }
  }, 120_000)

  it("serves the support desk's chat API in front of runners that host the desk", async () => {
    const url = await freshDatabase(postgres())
    const runner = await Runners.spawnRunner({ name: "desk-runner", databaseUrl: url, secret: SECRET, agentsModule: deskModule })
    await runner.waitForStatus((s) => heldShards(s) > 0)
    const gateway = ManagedRuntime.make(
      Gateway.layerClient({
        applications: [SupportDesk.application()],
        settings: { port: 0, keys: [Redacted.make("k-2")] },
        colony: { databaseUrl: Redacted.make(url), cluster: { secret: Redacted.make(SECRET) } }
      })
    )
    try {
      const address = await gateway.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
      if (address._tag !== "TcpAddress") throw new Error("the gateway is not on TCP")
      const call = async <A, I>(schema: Schema.Schema<A, I>, path: string, body?: unknown) => {
        const response = await fetch(`http://127.0.0.1:${address.port}/support/api${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: "Bearer k-2", "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) })
        })
        expect(response.status).toBe(200)
        return Schema.decodeUnknownSync(schema)(await response.json())
      }

      const reply = await call(Desk.Reply, "/conversations/gw-desk-1/messages", { text: "Can I speak to a real person, please?" })
      expect(reply.handledBy).toContain("triage/gw-desk-1")
      const ticket = reply.escalation!
      expect(ticket.conversationId).toBe("gw-desk-1")
      const queue = await call(Schema.Struct({ tickets: Schema.Array(Desk.Ticket) }), "/escalations")
      expect(queue.tickets.map((t) => t.id)).toContain(ticket.id)

      const answered = await call(Desk.Ticket, `/escalations/${ticket.id}/reply`, { text: "A person here: how can I help?" })
      expect(answered.status).toBe("answered")
      const conversation = await call(
        Schema.Struct({ turns: Schema.Array(Desk.Turn), ticket: Schema.NullOr(Desk.Ticket) }),
        "/conversations/gw-desk-1"
      )
      expect(conversation.turns.map((t) => t.role)).toEqual(["customer", "agent", "human"])
      expect(conversation.ticket).toBeNull()

      const page = await fetch(`http://127.0.0.1:${address.port}/support/dashboard`)
      expect(await page.text()).toContain("Escalation queue")
    } finally {
      await gateway.dispose()
      runner.kill("SIGKILL")
    }
  }, 120_000)
})
