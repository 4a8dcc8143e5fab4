import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))
const key = "tasks-cli-key"

/** `colony gateway --embedded --port 0 ...flags` until it prints its health line; its output and a way to stop it. */
const gateway = async (flags: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [bin, "gateway", "--embedded", "--port", "0", ...flags], {
    env: { ...process.env, NO_COLOR: "1", COLONY_GATEWAY_KEYS: key }
  })
  const out = await new Promise<string>((resolve, reject) => {
    let text = ""
    child.stdout.on("data", (chunk) => {
      text += chunk
      if (text.includes("health:")) resolve(text)
    })
    child.on("exit", (code) => reject(new Error(`gateway exited with ${code}: ${text}`)))
  })
  const url = /listening on (http:\/\/[\d.:]+)/.exec(out)![1]!
  return { out, url, stop: () => child.kill("SIGTERM") }
}

const postTask = (url: string) =>
  fetch(`${url}/tasks/process_task`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ task: "Name a city and a dish from it", workers: 2 })
  })

describe("colony gateway and the task service", () => {
  it("serves it by default, says where, and answers a posted task (simulated model)", async () => {
    const started = await gateway(["--no-support"])
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
    const started = await gateway(["--no-support", "--no-tasks"])
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
