/**
 * The robustness property of the gateway over generated requests (`gatewayProperties.ts`), with a
 * fixed seed and a bounded number of runs; `gatewayProperties.run.ts` runs it longer.
 */
import { Redacted } from "effect"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, it } from "vitest"
import * as Gateway from "../src/Gateway.js"
import { check, probe } from "./gatewayProperties.js"
import { start } from "./gatewaySupport.js"

const key = "property-key-0123456789"
let gateway: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  gateway = await start(Gateway.layerEmbedded({ settings: { port: 0, rateLimit: 0, keys: [Redacted.make(key)] }, support: false }))
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
})
