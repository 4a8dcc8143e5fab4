/**
 * Profile one contender under the throughput suite's load: C concurrent sessions for a window.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=@colony/source --import tsx bench/src/tools/profileLoad.ts colony 1000 5000 [latencyMs]
 */
import { contenders } from "../contenders/index.js"
import * as FakeServer from "../lib/fakeServer.js"
import { load } from "../suites/throughput.js"

const [id = "colony", concurrency = "1000", windowMs = "5000", latencyMs = "200"] = process.argv.slice(2)
const contender = contenders.find((c) => c.id === id)
if (contender === undefined) throw new Error(`no contender ${id}`)
const server = await FakeServer.start({ latencyMs: Number(latencyMs) })
const result = await load(contender, server.url, Number(concurrency), Number(windowMs), console.error)
console.log(JSON.stringify(result))
await server.close()
process.exit(0)
