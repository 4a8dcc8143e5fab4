import { describe, expect, it } from "vitest"
import { ensure, type Prerequisite } from "./prerequisites.js"

const absent = (name: string, debian: string, installed: Set<string>): Prerequisite => ({
  name,
  debian,
  present: () => installed.has(debian)
})

describe("npm test's system prerequisites", () => {
  it("missing ones are installed with apt-get when the process may, and checked again", () => {
    const installed = new Set<string>(["openssl"])
    const ran: Array<string> = []
    ensure(
      [absent("Chromium", "chromium", installed), absent("openssl", "openssl", installed)],
      ["sudo", "-n"],
      (args) => {
        ran.push(args.join(" "))
        if (args.includes("install")) installed.add("chromium")
      }
    )
    expect(ran).toEqual(["sudo -n apt-get update", "sudo -n apt-get install -y chromium"])
  })

  it("without a way to install, the run stops with the one command to type", () => {
    const installed = new Set<string>()
    expect(() => ensure([absent("Chromium", "chromium", installed)], undefined, () => expect.fail("must not run")))
      .toThrow(`sudo sh -c "apt-get update && apt-get install -y chromium"`)
  })

  it("an install that leaves it missing is an error, not a later test failure", () => {
    expect(() => ensure([absent("Chromium", "chromium", new Set())], [], () => undefined)).toThrow("still missing")
  })

  it("nothing runs when everything is there", () => {
    ensure([absent("openssl", "openssl", new Set(["openssl"]))], undefined, () => expect.fail("must not run"))
  })
})
