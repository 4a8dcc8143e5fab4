/**
 * The support desk across real runner processes on Postgres: an escalation opened on one runner
 * outlives that runner's `kill -9`, is answered afterwards, and the conversation goes on.
 */
import * as Runners from "@colony/apps/RunnerProcess"
import * as Desk from "@colony/apps/support/Desk"
import * as Support from "@colony/apps/support/Support"
import { Colony } from "@colony/runtime"
import { Effect, Layer, ManagedRuntime, Redacted, Schedule } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { freshDatabase, heldShards, hostOf, killAll, postgresPerFile, SECRET } from "./support/cluster.js"

const postgres = postgresPerFile()

afterEach(() => killAll())

const bin = fileURLToPath(new URL("../packages/apps/bin/colony.js", import.meta.url))
const agentsModule = fileURLToPath(new URL("../packages/apps/src/support/RunnerAgents.ts", import.meta.url))

// While the dead runner's shards move (about 2 s), calls to its agents fail as unavailable: an
// operator's client tries again, as this one does.
const untilReachable = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.retry(effect, {
    while: (error) => error._tag === "AgentUnavailable",
    schedule: Schedule.spaced("250 millis").pipe(Schedule.upTo("30 seconds"))
  })

describe("support desk on runners", () => {
  it("an escalation survives a kill -9 of its runner, is answered afterwards (from the CLI), and the conversation goes on", async () => {
    const url = await freshDatabase(postgres())
    const runners = await Promise.all(
      ["desk-a", "desk-b"].map((name) => Runners.spawnRunner({ name, databaseUrl: url, secret: SECRET, agentsModule }))
    )
    await Promise.all(runners.map((r) => r.waitForStatus((s) => heldShards(s) > 0)))
    const colony = ManagedRuntime.make(
      Colony.declare(...Support.agents).pipe(
        Layer.provideMerge(
          Colony.layerClientOnly({ databaseUrl: Redacted.make(url), cluster: { secret: Redacted.make(SECRET) } })
        )
      )
    )
    try {
      const conversation = "kill-1"
      // Jonas Weber, whose order A-10024 is
      const customer = "jonas.weber@example.com"
      const first = await colony.runPromise(Desk.send(conversation, "Where is my order A-10024?", { customer }))
      expect(first.tools.map((t) => [t.name, t.ok])).toEqual([["lookup_order", true]])
      const escalated = await colony.runPromise(Desk.send(conversation, "I want to speak to a person, please", { customer }))
      const ticket = escalated.escalation!
      expect(ticket.status).toBe("open")

      const victim = (await colony.runPromise(hostOf(runners, conversation)))!
      expect(victim).toBeDefined()
      victim.kill("SIGKILL")
      await victim.exited

      expect((await colony.runPromise(untilReachable(Desk.escalations))).map((t) => t.id)).toContain(ticket.id)
      // the operator answers from the command line, a client of the colony like any other
      const cli = (...args: Array<string>) =>
        promisify(execFile)(process.execPath, [bin, "support", ...args], {
          env: { ...process.env, DATABASE_URL: url, COLONY_RUNNER_SECRET: SECRET, NO_COLOR: "1" },
          timeout: 60_000
        })
      const listed = await cli("escalations", "--json")
      expect(listed.stdout.trim().split("\n").map((line) => JSON.parse(line).id)).toContain(ticket.id)
      const replied = await cli("reply", ticket.id, "Hi, this is Sara: I've called the carrier, it arrives Friday.", "--json")
      const answered = JSON.parse(replied.stdout) as { status: string; conversationId: string }
      expect(answered.status).toBe("answered")
      expect(answered.conversationId).toBe(conversation)
      expect((await colony.runPromise(Desk.escalations)).map((t) => t.id)).not.toContain(ticket.id)
      const survivor = runners.find((r) => r !== victim)!
      const desk = await colony.runPromise(
        Effect.flatMap(Colony.client(Desk.DeskAgent), (client) => client(conversation).Describe())
      )
      expect(desk.runner).toBe(survivor.address)

      const next = await colony.runPromise(untilReachable(Desk.send(conversation, "Thanks! What is your return policy?", { customer })))
      expect(next.escalation).toBeNull()
      expect(next.tools.map((t) => t.name)).toEqual(["search_knowledge_base"])

      const turns = await colony.runPromise(Desk.transcript(conversation))
      expect(turns.map((t) => t.role)).toEqual(["customer", "agent", "customer", "agent", "human", "customer", "agent"])
      expect(turns[4]!.by).toBe("operator")
      expect(turns[4]!.text).toBe("Hi, this is Sara: I've called the carrier, it arrives Friday.")
      expect(turns[6]!.by).toBe(`faq/${conversation}`)
    } finally {
      await colony.dispose()
    }
  }, 180_000)
})
