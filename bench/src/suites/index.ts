/**
 * Every suite `npm run bench` runs, in order. A suite is loaded only in the process that runs it,
 * so one suite's imports cannot break another. Adding a suite is one file in this folder and one
 * line here.
 */
import type { Suite } from "../lib/Suite.js"

export interface Entry {
  readonly id: string
  readonly title: string
  readonly load: () => Promise<Suite>
}

export const suites: ReadonlyArray<Entry> = [
  { id: "hop", title: "1. Hop overhead: one single-agent call, fake model at 0 ms latency", load: async () => (await import("./hop.js")).suite },
  { id: "collaboration", title: "2. Collaboration overhead: coordinator + 4 workers, master-slave", load: async () => (await import("./collaboration.js")).suite },
  { id: "throughput", title: "3. Throughput against concurrency: sessions/s, fake model at 200 ms", load: async () => (await import("./throughput.js")).suite },
  { id: "memory", title: "4. Memory per idle agent, and after passivation", load: async () => (await import("./memory.js")).suite },
  { id: "postgres", title: "5. Runners on Postgres: persisted messages per second, failover after kill -9", load: async () => (await import("./postgres.js")).suite },
  { id: "gateway", title: "6. Gateway overhead: /v1/chat/completions vs the same agent in-process", load: async () => (await import("./gateway.js")).suite },
  { id: "support", title: "7. Customer-service desk: concurrent conversations on the fake server", load: async () => (await import("./support.js")).suite },
  { id: "chaos", title: "8. Chaos: conversations on 3 runners while one is killed with SIGKILL every few seconds", load: async () => (await import("./chaos.js")).suite },
  { id: "accuracy", title: "9. Accuracy per pattern: the skill model (simulated) and scripted answers on the fake server", load: async () => (await import("./accuracy.js")).suite }
]
