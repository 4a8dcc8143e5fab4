/**
 * The gateway's memory under a flood (issue 17): callers that stop reading their session streams
 * and a flood of distinct conversation ids, each with a long prompt, leave its heap bounded — the
 * in-process memory keeps the transcripts of the most recently used conversations only, idle
 * agent instances are passivated, and a stalled follower holds at most its buffer. The heap is read
 * after full collections, before and after each half of the flood: the second half, once the
 * bounds are reached, adds next to nothing, where an unbounded store would add what the first did.
 */
import { Collaboration } from "@colony/agents"
import { Agent, AgentMemory } from "@colony/runtime"
import { Layer, Redacted, Schema } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import * as Gateway from "../src/Gateway.js"
import { start } from "./gatewaySupport.js"

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const heapUsed = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const key = "memory-key-0123456789"
// the transcripts kept: 100 conversations of a 40 KB prompt are 4 MB
const transcripts = 100
const prompt = "Summarise this: " + "lorem ipsum dolor sit amet ".repeat(1500)
const half = 600
const MB = 1024 * 1024

const writer = Agent.make({ name: "writer", instructions: "You write clear, friendly copy.", maxIdleTime: "1 second" })

let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({
    agents: [writer],
    hosted: Agent.toLayer(writer).pipe(Layer.provide(AgentMemory.layerMemoryWith({ transcripts }))),
    settings: { port: 0, rateLimit: 0, keys: [Redacted.make(key)] }
  }))
})
afterAll(() => gateway.close())

const chat = async (user: string) => {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "agent:writer", user, messages: [{ role: "user", content: prompt }] })
  })
  expect(response.status).toBe(200)
  await response.arrayBuffer()
}

// `count` conversations, each under a name of its own, eight at a time
const flood = async (from: number, count: number) => {
  let next = from
  const worker = async () => {
    while (next < from + count) await chat(`flood-${next++}`)
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

const liveWriters = async () => {
  const text = await (await fetch(`${gateway.url}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith("effect_cluster_entities{") && l.includes("type=\"writer\""))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1))
}

// the signal that the flood's agent instances are gone: the cluster's own gauge of them
const passivated = async () => {
  while (await liveWriters() > 0) await new Promise((resolve) => setTimeout(resolve, 250))
}

// A caller that starts a collaboration over the WebSocket and then reads nothing: it never
// acknowledges a chunk, so the gateway's follower of the run is all that holds its events.
const stalledCaller = (session: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/rpc/ws`, { headers: { authorization: `Bearer ${key}` } })
    const collaboration = Collaboration.Peer.make({ peers: [Collaboration.ref("writer/p1"), Collaboration.ref("writer/p2")] })
    socket.once("error", reject)
    socket.once("open", () => {
      socket.send(JSON.stringify({
        _tag: "Request",
        id: "1",
        tag: "RunCollaboration",
        payload: { session, collaboration: Schema.encodeSync(Collaboration.Collaboration)(collaboration), task: prompt },
        headers: []
      }) + "\n")
      socket.once("message", () => resolve(socket))
    })
  })

describe("gateway memory", () => {
  it("a stalled consumer and a flood of distinct conversation ids leave memory bounded", async () => {
    const stalled = await Promise.all(Array.from({ length: 10 }, (_, i) => stalledCaller(`stalled-${i}`)))
    try {
      const before = heapUsed()
      // the first half fills what the gateway keeps up to its bounds
      await flood(0, half)
      await passivated()
      const filled = heapUsed()
      await flood(half, half)
      await passivated()
      const after = heapUsed()
      const heaps = `heap: before ${(before / MB).toFixed(1)} MB, after the first half ${(filled / MB).toFixed(1)} MB, after the second ${
        (after / MB).toFixed(1)
      } MB`
      // unbounded, each half would keep its 600 prompts of 40 KB: some 24 MB
      expect((after - filled) / MB, heaps).toBeLessThan(6)
      expect((after - before) / MB, heaps).toBeLessThan(16)
    } finally {
      for (const socket of stalled) socket.close()
    }
  }, 120_000)
})
