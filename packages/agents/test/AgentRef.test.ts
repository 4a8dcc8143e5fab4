import { Collaboration } from "@colony/agents"
import { describe, expect, it } from "vitest"

describe("Collaboration.ref", () => {
  it("reads an agent address as type and id, and prints it back", () => {
    const ref = Collaboration.ref("analyst/quarter-3/a")
    expect(ref).toEqual(new Collaboration.AgentRef({ agent: "analyst", id: "quarter-3/a" }))
    expect(ref.toString()).toBe("analyst/quarter-3/a")
  })
  it("refuses a string that is not an address, saying how to write one", () => {
    expect(() => Collaboration.ref("analyst")).toThrow(/write "type\/id"/)
    expect(() => Collaboration.ref("/a")).toThrow(/write "type\/id"/)
  })
})
