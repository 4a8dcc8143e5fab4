/**
 * The desk's router against a model that answers what the test scripts: the fake OpenAI-compatible
 * server, reached through the real `openai` client. What the router decides is then the desk's own
 * doing (reading the model's structured answer, choosing a pattern), not the simulator's.
 */
import { Colony, LanguageModel } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Effect, ManagedRuntime } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as Agents from "../src/support/Agents.js"
import { conversations } from "../src/support/eval/conversations.js"
import * as Script from "../src/support/Script.js"

let fake: FakeOpenAI.Server
let runtime: ManagedRuntime.ManagedRuntime<any, unknown>
beforeAll(async () => {
  fake = await FakeOpenAI.start()
  runtime = ManagedRuntime.make(Script.layer({
    languageModel: LanguageModel.layerOpenAI({ baseUrl: fake.url, apiKey: "fake" }),
    pattern: undefined
  }))
  await runtime.runtime()
}, 120_000)
afterAll(async () => {
  await runtime?.dispose()
  await fake?.close()
})
beforeEach(() => fake.reset())

const routeWith = (text: string, ...replies: ReadonlyArray<unknown>) => {
  fake.script(...replies.map((reply) => JSON.stringify(reply)))
  return Effect.flatMap(Colony.client(Agents.Triage), (triage) => triage("routing").RouteMessage({ text }))
}
const route = (text: string, reply: Agents.Routing) => runtime.runPromise(routeWith(text, reply))

describe("support router (scripted model replies from the fake server)", () => {
  it("asks the model with the customer's message and the routing schema, and routes by its answer", async () => {
    const routed = await route("Where is my order A-10023?", { intents: ["orders"], handling: "routine" })
    expect(routed).toMatchObject({ intents: ["orders"], handling: "routine", pattern: "single", forced: false, simulated: false })
    expect(routed.totalTokens).toBeGreaterThan(0)

    const [request] = fake.requests()
    const messages = request!.body.messages!
    expect(messages.map((m) => m.role)).toEqual(["system", "user"])
    expect(messages[0]!.content).toContain("You route customer messages of Northwind Goods")
    expect(messages[1]!.content).toBe("Where is my order A-10023?")
    expect(request!.body.response_format?.type).toBe("json_schema")
    const schema = JSON.stringify(request!.body.response_format?.json_schema?.schema)
    for (const intent of ["general", "orders", "billing", "technical"]) expect(schema).toContain(`"${intent}"`)
  })

  it("follows the model, not the wording: the same message routes as the model's answer says", async () => {
    const text = "Where is my order A-10023?"
    expect((await route(text, { intents: ["billing"], handling: "routine" })).pattern).toBe("peer-review")
    expect((await route(text, { intents: ["orders"], handling: "hard" })).pattern).toBe("hybrid")
    expect((await route(text, { intents: ["orders", "general"], handling: "routine" })).pattern).toBe("master-slave")
  })

  it("chooses the pattern from the routing: several intents or questions master-slave, money peer-review, hard hybrid, a person one agent", async () => {
    const cases: ReadonlyArray<readonly [string, Agents.Routing, string]> = [
      ["Where is my order A-10023?", { intents: ["orders"], handling: "routine" }, "single"],
      ["When is my card charged?", { intents: ["billing"], handling: "routine" }, "peer-review"],
      ["My refund for A-10023 and the lamp flickers", { intents: ["billing", "technical"], handling: "routine" }, "master-slave"],
      // two questions to one specialist are still two parts
      ["Where is my order A-10023 and how do I change the address?", { intents: ["orders"], handling: "routine" }, "master-slave"],
      ["I will sue you", { intents: ["billing"], handling: "hard" }, "hybrid"],
      ["A person please", { intents: ["general"], handling: "human" }, "single"],
      // a topic named twice is one topic
      ["Hi, where is my order A-10023?", { intents: ["orders", "orders"], handling: "routine" }, "single"]
    ]
    for (const [text, reply, pattern] of cases) {
      const routed = await route(text, reply)
      expect([text, routed.pattern, routed.intents]).toEqual([text, pattern, [...new Set(reply.intents)]])
    }
  })

  it("gives every message of the evaluation set its expected pattern when the model names the expected intents", async () => {
    const wrong: Array<string> = []
    let messages = 0
    for (const conversation of conversations) {
      for (const step of conversation.steps) {
        const { intents, pattern, escalated } = step.expect
        const handling = pattern === "hybrid" ? "hard" : escalated && pattern === "single" ? "human" : "routine"
        const routed = await route(step.customer, { intents, handling })
        messages++
        if (routed.pattern !== pattern) wrong.push(`${conversation.id}: ${step.customer} → ${routed.pattern}, expected ${pattern}`)
      }
    }
    expect(messages).toBeGreaterThanOrEqual(52)
    expect(wrong).toEqual([])
  }, 60_000)

  it("an answer that does not fit the routing schema, even repaired, is a SupportError saying the router could not decide", async () => {
    const bad = { intents: ["shipping"], handling: "routine" }
    const error = await runtime.runPromise(Effect.flip(routeWith("Where is my order A-10023?", bad, bad)))
    expect(error).toMatchObject({ _tag: "SupportError" })
    expect((error as { reason: string }).reason).toContain("triage could not decide")
    expect(fake.stats().chatRequests).toBe(2)

    // one repair is enough when the second answer fits
    const repaired = await runtime.runPromise(routeWith("Where is my order A-10023?", bad, { intents: ["orders"], handling: "routine" }))
    expect(repaired.pattern).toBe("single")
  })
})
