/**
 * Suite 7 — the customer-service desk under load: many conversations at once, each customer
 * sending a few messages one after the other, against the desk of `@colony/apps` (router,
 * specialists with their Postgres tools, critic, escalations) on an embedded colony, its tables in
 * an embedded Postgres, every model call going to the fake server through the openai client.
 *
 * A message is a whole desk turn: routing, the specialists' tool loops, review, sometimes a
 * ticket — several model calls, so its latency is a multiple of the model's. What matters here is
 * that every message is answered (errors = 0) and how the latency spreads as conversations grow.
 */
import { LanguageModel } from "@colony/runtime"
import { Exit, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import * as FakeServer from "../lib/fakeServer.js"
import { num, percentile, seeded, sleep } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"

const LATENCY_MS = 50
const TURNS = 3
// conversations open at this rate, as customers arrive, instead of all in the same millisecond
const ARRIVALS_PER_SECOND = 500

// Every conversation is Ana Ribeiro's (A-10023 is her order): the messages naming other customers'
// orders are refused by the order tools, as a desk in production refuses some of its traffic.
const customer = "ana.ribeiro@example.com"

const messages = [
  "Where is my order A-10023?",
  "Can you change the delivery address of A-10022 to 5 Park Lane, Leeds LS1 4AB?",
  "How long do refunds take to reach my card?",
  "The app keeps logging me out, how do I fix it?",
  "Where is my order A-10029 and how do I change the address?",
  "I was charged twice for A-10024, I want a refund now",
  "Do you ship to Norway?",
  "What is your return policy for opened items?"
] as const

type SupportModules = {
  readonly Script: typeof import("../../../packages/apps/src/support/Script.js")
  readonly Desk: typeof import("../../../packages/apps/src/support/Desk.js")
}

const loadSupport = async (): Promise<SupportModules | string> => {
  try {
    return {
      Script: await import("../../../packages/apps/src/support/Script.js"),
      Desk: await import("../../../packages/apps/src/support/Desk.js")
    }
  } catch (error) {
    return `the support app could not be loaded (${String(error).split("\n")[0]})`
  }
}

interface Level {
  readonly conversations: number
  readonly messages: number
  readonly errors: number
  readonly seconds: number
  readonly messagesPerSecond: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly modelCallsPerMessage: number
  readonly lastError: string | undefined
}

export const suite: Suite = {
  id: "support",
  title: "7. Customer-service desk: concurrent conversations on the fake server",
  run: async ({ log, quick }) => {
    const modules = await loadSupport()
    if (typeof modules === "string") return { status: "skipped", skipped: modules, tables: [], data: null }
    const { Desk, Script } = modules
    const levels = quick ? [20] : [100, 1_000]
    const server = await FakeServer.start({ latencyMs: LATENCY_MS })
    const runtime = ManagedRuntime.make(
      Script.layer({
        languageModel: LanguageModel.layerOpenAI({ baseUrl: server.url, apiKey: "x", maxConcurrency: 2_000 })
      }).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))
    )
    try {
      log("support: starting the desk (embedded Postgres for its tables)")
      await runtime.runPromise(Desk.send("warm-up", messages[0], { customer }))
      const data: Array<Level> = []
      for (const conversations of levels) {
        await server.reset()
        const random = seeded(conversations)
        const latencies: Array<number> = []
        let errors = 0
        let lastError: string | undefined
        const started = performance.now()
        const conversation = async (index: number) => {
          await sleep(Math.floor(index / (ARRIVALS_PER_SECOND / 10)) * 100)
          for (let turn = 0; turn < TURNS; turn++) {
            const text = messages[Math.floor(random() * messages.length)]!
            const sent = performance.now()
            const exit = await runtime.runPromiseExit(Desk.send(`load-${conversations}-${index}`, text, { customer }))
            if (Exit.isSuccess(exit)) latencies.push(performance.now() - sent)
            else {
              errors++
              lastError = String(exit.cause).split("\n")[0]
            }
          }
        }
        log(`support: ${conversations} conversations × ${TURNS} messages`)
        await Promise.all(Array.from({ length: conversations }, (_, i) => conversation(i)))
        const seconds = (performance.now() - started) / 1000
        const stats = await server.stats()
        const sent = conversations * TURNS
        if (errors > 0) log(`support: ${errors} errors at ${conversations}, last: ${lastError}`)
        data.push({
          conversations,
          messages: sent,
          errors,
          seconds,
          messagesPerSecond: latencies.length / seconds,
          p50Ms: percentile(latencies, 50),
          p95Ms: percentile(latencies, 95),
          p99Ms: percentile(latencies, 99),
          maxMs: Math.max(...latencies),
          modelCallsPerMessage: stats.chatRequests / sent,
          lastError
        })
        global.gc?.()
      }
      return {
        tables: [{
          title: `Support desk — conversations of ${TURNS} messages each, model latency ${LATENCY_MS} ms, embedded colony`,
          columns: ["conversations", "messages", "errors", "messages/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "model calls/message"],
          rows: data.map((d) => [
            num(d.conversations),
            num(d.messages),
            num(d.errors),
            num(d.messagesPerSecond, 1),
            num(d.p50Ms, 0),
            num(d.p95Ms, 0),
            num(d.p99Ms, 0),
            num(d.maxMs, 0),
            num(d.modelCallsPerMessage, 1)
          ]),
          notes: [
            "A message is a whole desk turn (routing, specialists with tool calls on Postgres, review, tickets): several model calls.",
            `Conversations arrive at ${ARRIVALS_PER_SECOND}/s; each customer waits for the reply before sending the next message.`
          ]
        }],
        data
      }
    } finally {
      await runtime.dispose()
      await server.close()
    }
  }
}
