import { describe, expect, it } from "vitest"
import { startGateway } from "./colonyProcess.js"

const key = "tasks-cli-key"

const postTask = (url: string) =>
  fetch(`${url}/tasks/process_task`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ task: "Name a city and a dish from it", workers: 2 })
  })

describe("colony gateway and the task service", () => {
  it("serves it by default, says where, and answers a posted task (simulated model)", async () => {
    const started = await startGateway(["--no-support"], key)
    try {
      expect(started.out).toContain("serving demo, tasks")
      expect(started.out).toContain(`task service: POST ${started.url}/tasks/process_task`)
      const response = await postTask(started.url)
      expect(response.status).toBe(200)
      const result = (await response.json()) as { simulated: boolean; parts: ReadonlyArray<unknown> }
      expect(result.simulated).toBe(true)
      expect(result.parts.length).toBeGreaterThan(0)
    } finally {
      started.stop()
    }
  }, 60_000)

  it("--no-tasks leaves it out: no route, no A2A card", async () => {
    const started = await startGateway(["--no-support", "--no-tasks"], key)
    try {
      expect(started.out).not.toContain("tasks")
      expect((await postTask(started.url)).status).toBe(404)
      const index = (await (await fetch(`${started.url}/a2a`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
        agents: ReadonlyArray<{ name: string }>
      }
      expect(index.agents.map((a) => a.name)).not.toContain("task-service")
      expect(index.agents.map((a) => a.name)).toContain("coordinator")
    } finally {
      started.stop()
    }
  }, 60_000)
})
