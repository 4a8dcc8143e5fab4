import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))

describe("colony demo", () => {
  it("runs the scripted support conversation with progress lines, routes, tools, an answered escalation, labelled simulated", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, "demo"], {
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 90_000
    })
    const lines = stdout.split("\n")
    expect(lines.filter((l) => l.startsWith("customer: ")).length).toBe(5)
    expect(lines.filter((l) => l.startsWith("desk (simulated): ")).length).toBe(5)
    expect(lines).toContain("  route: single; intents orders; tools: lookup_order")
    expect(lines).toContain("  route: single; intents orders; tools: change_address")
    expect(lines[0]).toContain("signed in as ana.ribeiro@example.com")
    // A-10028 is not Ana's: the order part is refused, the help-centre part answered
    const multiPart = lines.find((l) => l.startsWith("  route: master-slave; intents general, orders"))
    expect(multiPart).toContain("lookup_order (failed)")
    expect(lines.some((l) => l.startsWith("  route: peer-review; intents billing; tools: search_knowledge_base"))).toBe(true)
    expect(lines.some((l) => /^  escalated: ticket T-\d+/.test(l))).toBe(true)
    expect(lines.some((l) => l.startsWith("operator (scripted) answers ticket T-"))).toBe(true)
    // progress lines: the desk's own messages, tool calls and the master-slave session's steps
    expect(lines.some((l) => l.includes("→ desk/demo-1 Send"))).toBe(true)
    expect(lines.some((l) => l.includes("orders/demo-1 used lookup_order (ok"))).toBe(true)
    expect(lines.some((l) => l.includes("colony-session/demo-1.3-master-slave") && l.includes("decomposed"))).toBe(true)
    expect(lines).toContain("transcript: 11 turns (1 from a human)")
    expect(stdout).toMatch(/total: \d+ tokens, simulated/)
  }, 120_000)

  it("--interactive answers the customer's lines in the terminal until /quit", async () => {
    const child = execFile(process.execPath, [bin, "demo", "--interactive"], { env: { ...process.env, NO_COLOR: "1" } })
    let stdout = ""
    child.stdout!.on("data", (chunk) => {
      stdout += String(chunk)
    })
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    child.stdin!.end("Where is my order A-10023?\n/quit\n")
    expect(await exited).toBe(0)
    expect(stdout).toContain("route: single; intents orders; tools: lookup_order")
    expect(stdout).toMatch(/desk \(simulated\): \[simulated\] .*A-10023/)
  }, 90_000)

  it("--team runs the coordinator and three workers: a progress line per message, then a labelled answer", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, "demo", "--team"], {
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000
    })
    const lines = stdout.split("\n")
    for (const agent of ["researcher", "writer", "analyst"]) {
      expect(lines.some((l) => l.includes(`→ ${agent}/demo Ask from coordinator/demo`))).toBe(true)
      expect(lines.some((l) => l.includes(`← ${agent}/demo Ask success`))).toBe(true)
    }
    expect(lines.some((l) => l.includes("→ coordinator/demo Ask from caller"))).toBe(true)
    const answer = lines.findIndex((l) => l.startsWith("answer (simulated model"))
    expect(answer).toBeGreaterThan(0)
    expect(lines[answer + 1]).toMatch(/^\[simulated\] /)
    expect(stdout).toMatch(/total: \d+ tokens, simulated/)
  })
})
