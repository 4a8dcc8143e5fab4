import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))

describe("colony demo", () => {
  it("prints a progress line per message, then a labelled answer, and exits 0", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, "demo"], {
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
