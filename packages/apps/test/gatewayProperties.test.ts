/**
 * The robustness property of the gateway over generated requests (`gatewayProperties.ts`), with a
 * fixed seed and a bounded number of runs; `gatewayProperties.run.ts` runs it longer.
 */
import { Redacted } from "effect"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import { check, probe, socketMessage } from "./gatewayProperties.js"
import { start } from "./gatewaySupport.js"

const key = "property-key-0123456789"
let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({ settings: { port: 0, rateLimit: 0, keys: [Redacted.make(key)] }, applications: [Demo.application] }))
})
afterAll(() => gateway.close())

describe("gateway robustness property", () => {
  it("property: any request with a key is answered within 10 s by a 2xx, or a 4xx with a JSON error, and the gateway lives on", async () => {
    await fc.assert(
      fc.asyncProperty(probe, async (request) => {
        const broken = await check(gateway.url, key, request, 10_000)
        if (broken !== undefined) throw new Error(`${request.method} ${request.path} ${JSON.stringify(request.body)?.slice(0, 300)}: ${broken}`)
      }),
      { seed: 17, numRuns: 200 }
    )
  }, 120_000)

  it("property: any messages on one /rpc/ws socket get no defect, and the socket still answers a call after them", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(socketMessage, { minLength: 1, maxLength: 5 }), async (messages) => {
        const socket = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/rpc/ws`, { headers: { authorization: `Bearer ${key}` } })
        const received: Array<string> = []
        try {
          const answered = new Promise<void>((resolve, reject) => {
            const deadline = setTimeout(() => reject(new Error(`no answer to the last call within 10 s; received ${received.join("")}`)), 10_000)
            socket.on("message", (data) => {
              received.push(String(data))
              if (received.join("").includes("\"requestId\":\"4242424242\"")) resolve(clearTimeout(deadline))
            })
            socket.once("close", () => reject(new Error(`the socket closed; received ${received.join("")}`)))
          })
          await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject))
          for (const message of messages) socket.send(message + "\n")
          socket.send(JSON.stringify({ _tag: "Request", id: "4242424242", tag: "ListPresets", payload: {}, headers: [] }) + "\n")
          await answered
          expect(received.join(""), messages.join("\n")).not.toMatch(/"_tag":"(Die|Defect)"/)
        } finally {
          socket.close()
        }
      }),
      { seed: 17, numRuns: 60 }
    )
  }, 120_000)
})
