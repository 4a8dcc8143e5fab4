/**
 * Suite 6 — gateway overhead: the same single-agent call through the gateway's OpenAI-compatible
 * `POST /v1/chat/completions` (called with the official `openai` client, as any OpenAI tool
 * would) and in-process through Colony's typed client, against the same agent instance in the
 * same embedded colony; the raw client straight to the model is the floor. Model at 0 ms.
 *
 * The gateway (`@colony/apps` `Gateway.layerServe`) is loaded when this suite runs: if it is not
 * there, the suite reports "not available yet" instead of failing. It serves from this process,
 * so the gateway's HTTP server and its caller share one event loop here.
 */
import { Session } from "@colony/agents"
import { Agent, Colony } from "@colony/runtime"
import * as HttpServer from "@effect/platform/HttpServer"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import OpenAI from "openai"
import { Assistant, colonyLayer } from "../contenders/colony.js"
import { raw } from "../contenders/raw.js"
import * as FakeServer from "../lib/fakeServer.js"
import * as SameWork from "../lib/sameWork.js"
import * as SideBySide from "../lib/sideBySide.js"
import { num, ratio, summarize } from "../lib/stats.js"
import type { Suite } from "../lib/Suite.js"
import { PROMPT } from "../lib/workload.js"

const KEY = "bench-gateway-key"

type GatewayModule = typeof import("../../../packages/apps/src/Gateway.js")

const loadGateway = async (): Promise<GatewayModule | string> => {
  try {
    return await import("../../../packages/apps/src/Gateway.js")
  } catch (error) {
    return `the gateway module could not be loaded (${String(error).split("\n")[0]})`
  }
}

export const suite: Suite = {
  id: "gateway",
  title: "6. Gateway overhead: /v1/chat/completions vs the same agent in-process",
  run: async ({ log, quick }) => {
    const Gateway = await loadGateway()
    if (typeof Gateway === "string") return { status: "skipped", skipped: Gateway, tables: [], data: null }
    const plan = quick ? { warmup: 50, rounds: 4, batch: 50 } : { warmup: 500, rounds: 15, batch: 200 }
    const model = await FakeServer.start({ latencyMs: 0 })
    try {
      // an admin key: its conversation ids are used as given, so the gateway's caller and the
      // in-process one talk to the same agent instance; the route's checks are part of the cost
      const settings = await Effect.runPromise(
        Gateway.settings({ host: "127.0.0.1", port: 0, keys: [Redacted.make(KEY)], rateLimit: 0 })
      )
      const colony = Agent.toLayer(Assistant).pipe(
        Layer.merge(Session.layer),
        Layer.provideMerge(colonyLayer({ baseUrl: model.url, maxConcurrency: 64 }))
      )
      const runtime = ManagedRuntime.make(Gateway.layerServe(settings, [Assistant]).pipe(Layer.provideMerge(colony)))
      const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
      if (address._tag !== "TcpAddress") throw new Error(`the gateway listens on ${address._tag}, expected TCP`)
      const gatewayUrl = `http://127.0.0.1:${address.port}/v1`
      log(`gateway: listening on ${gatewayUrl}`)

      const assistant = await runtime.runPromise(Colony.client(Assistant))
      const inProcess = (prompt: string) => runtime.runPromise(Effect.map(assistant("bench").Ask({ prompt }), (a) => a.text))
      const client = new OpenAI({ baseURL: gatewayUrl, apiKey: KEY, maxRetries: 0 })
      // `user` names the conversation: the same agent instance the in-process caller asks
      const viaGateway = async (prompt: string) =>
        (await client.chat.completions.create({ model: "agent:assistant", user: "bench", messages: [{ role: "user", content: prompt }] }))
          .choices[0]?.message.content ?? ""
      const floor = await raw.singleAgent!({ baseUrl: model.url, maxConcurrency: 64 })

      const participants = [
        { id: "raw", label: "openai client → model (raw)", operation: () => floor.call(PROMPT, "bench") },
        { id: "in-process", label: "Colony Ask, in-process typed client", operation: () => inProcess(PROMPT) },
        { id: "gateway", label: "openai client → gateway /v1/chat/completions", operation: () => viaGateway(PROMPT) }
      ]
      const work = new Map<string, SameWork.Work>()
      for (const p of participants) work.set(p.id, await SameWork.observe(model, () => p.operation()))
      const results = await SideBySide.measure(participants, { ...plan }, { log: (line) => log(`gateway: ${line}`), between: () => model.reset() })
      await runtime.dispose()

      const summary = (id: string) => summarize(results.get(id)!.samples)
      const floorS = summary("raw")
      const inProcessS = summary("in-process")
      const data = participants.map((p) => {
        const s = summary(p.id)
        return {
          contender: p.id,
          label: p.label,
          p50Us: s.p50,
          p99Us: s.p99,
          cpuUsPerCall: results.get(p.id)!.cpuMicrosPerOp,
          overRawP50Us: s.p50 - floorS.p50,
          overInProcessP50Us: p.id === "raw" ? null : s.p50 - inProcessS.p50,
          overInProcessP99Us: p.id === "raw" ? null : s.p99 - inProcessS.p99,
          timesInProcess: p.id === "raw" ? null : s.p50 / inProcessS.p50,
          modelCalls: work.get(p.id)!.calls,
          sameWork: SameWork.compare(work.get(p.id)!, work.get("raw")!)
        }
      })
      return {
        tables: [{
          title: "Gateway overhead — one call to one agent, model answers in 0 ms (µs, sequential calls)",
          columns: ["path", "p50 µs", "p99 µs", "CPU µs/call", "over raw p50", "gateway cost p50", "gateway cost p99", "× in-process p50", "model calls", "work vs raw"],
          rows: data.map((d) => [
            d.label,
            num(d.p50Us),
            num(d.p99Us),
            num(d.cpuUsPerCall),
            num(d.overRawP50Us),
            d.contender === "gateway" ? num(d.overInProcessP50Us!) : null,
            d.contender === "gateway" ? num(d.overInProcessP99Us!) : null,
            d.timesInProcess === null ? null : ratio(d.timesInProcess),
            d.modelCalls,
            d.sameWork
          ]),
          notes: [
            `${results.get("raw")!.samples.length} calls per path in ${plan.rounds} interleaved rounds after ${plan.warmup} warm-up calls.`,
            "gateway cost = gateway path − in-process path: the HTTP hop, JSON (de)serialisation, the gateway's middleware (auth, rate limit, metrics, tracing).",
            "Gateway, agent and caller share this process (and its event loop); the model is the fake server in its own process."
          ]
        }],
        data
      }
    } finally {
      await model.close()
    }
  }
}
