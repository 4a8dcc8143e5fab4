/**
 * The gateway's robustness property (`gatewayProperties.ts`), run longer than `npm test` runs it:
 *
 *     npx tsx packages/apps/test/gatewayProperties.run.ts [runs = 5000] [seed = random]
 *
 * It sends every generated request to an embedded gateway, then prints the answers by route and
 * status and each violation (a 5xx, a 4xx without a JSON error, a defect in band, no answer within
 * the deadline, a gateway that stopped answering). It exits with 1 if there was any.
 */
import { Redacted } from "effect"
import * as fc from "fast-check"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"
import { check, probe } from "./gatewayProperties.js"
import { start } from "./gatewaySupport.js"

const runs = Number(process.argv[2] ?? 5000)
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31)
const key = "property-key-0123456789"

const gateway = await start(Gateway.layerEmbedded({ settings: { port: 0, rateLimit: 0, keys: [Redacted.make(key)] }, applications: [Demo.application] }))
const violations: Array<string> = []
const routes = new Map<string, number>()
const started = Date.now()
try {
  for (const request of fc.sample(probe, { seed, numRuns: runs })) {
    const route = request.path.startsWith("/a2a/") ? (request.method === "GET" ? "GET /a2a/:name/card" : "POST /a2a/:name") : `${request.method} ${request.path}`
    routes.set(route, (routes.get(route) ?? 0) + 1)
    const broken = await check(gateway.url, key, request, 10_000)
    if (broken !== undefined) violations.push(`${request.method} ${request.path} ${JSON.stringify(request.body ?? "")?.slice(0, 200)}: ${broken}`)
  }
} finally {
  await gateway.close()
}
console.log(`gateway robustness property: ${runs} requests, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`)
for (const [route, count] of [...routes].sort()) console.log(`  ${route.padEnd(28)} ${String(count).padStart(6)}`)
console.log(`violations: ${violations.length}`)
for (const violation of violations) console.log(`  ${violation}`)
process.exitCode = violations.length === 0 ? 0 : 1
