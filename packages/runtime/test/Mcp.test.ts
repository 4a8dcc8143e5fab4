import { Agent, Colony, Events, LanguageModel, Mcp } from "@colony/runtime"
import { FakeOpenAI, McpTestServer } from "@colony/runtime/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Queue, Schedule, TestClock } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

// Every test spawns the shipped stdio server (through tsx) in a colony of its own; the per-call
// timeout is short so that the hanging tool fails quickly.
const probe = McpTestServer.stdio("probe", { timeout: "2 seconds" })

const Prober = Agent.make({ name: "prober", instructions: "You answer with your tools.", mcp: [probe] })
const Checker = Agent.make({ name: "checker", mcp: [probe] })
const Stranded = Agent.make({
  name: "stranded",
  mcp: [{ name: "gone", command: "/nonexistent/mcp-server", timeout: "2 seconds" }]
})

const colony = (languageModel?: Layer.Layer<LanguageModel.LanguageModel>) =>
  Layer.mergeAll(Agent.toLayer(Prober), Agent.toLayer(Checker), Agent.toLayer(Stranded)).pipe(
    Layer.provideMerge(Colony.layerEmbedded(languageModel === undefined ? {} : { languageModel }))
  )

const pidIn = (output: string) => Number(/\(pid (\d+)\)/.exec(output)?.[1])

describe("Mcp", () => {
  it.scopedLive("an agent calls an MCP server's tool on the simulated model and answers from its result", () =>
    Effect.gen(function*() {
      const events = yield* Effect.flatMap(Events.Events, (bus) => bus.subscribe)
      const prober = yield* Colony.client(Prober)
      const answer = yield* prober("a").Ask({ prompt: "Echo back: hello colony" })
      expect(answer.tools.map((t) => ({ name: t.name, arguments: JSON.parse(t.arguments), ok: t.ok }))).toEqual([
        { name: "probe__echo", arguments: { text: "Echo back: hello colony" }, ok: true }
      ])
      expect(answer.tools[0]!.output).toMatch(/^echo: Echo back: hello colony \(pid \d+\)$/)
      expect(answer.text).toMatch(/The probe__echo tool returned: echo: Echo back: hello colony \(pid \d+\)\.$/)
      const called = [...(yield* Queue.takeAll(events))].filter((e) => e._tag === "ToolCalled")
      expect(called).toMatchObject([{ agent: "prober", id: "a", tool: "probe__echo", ok: true }])

      const description = yield* prober("a").Describe()
      expect(description.tools).toEqual(["probe__echo", "probe__fail", "probe__learn", "probe__crash"])
      expect(description.toolDetails.map((t) => [t.name, t.source, t.available])).toEqual([
        ["probe__echo", "probe", true],
        ["probe__fail", "probe", true],
        ["probe__learn", "probe", true],
        ["probe__crash", "probe", true]
      ])
      expect(description.toolDetails[0]!.description).toBe("Echo the given text back, with the server's process id")
    }).pipe(Effect.provide(colony())), 30_000)

  it.scopedLive("a tool's error result reaches the model as a typed tool error and the agent answers anyway", () =>
    Effect.gen(function*() {
      const prober = yield* Colony.client(Prober)
      const answer = yield* prober("b").Ask({ prompt: "Please fail" })
      expect(answer.tools).toHaveLength(1)
      expect(answer.tools[0]).toMatchObject({ name: "probe__fail", ok: false })
      expect(answer.tools[0]!.output).toBe(
        "error: McpToolFailed: tool \"probe__fail\" of MCP server \"probe\" failed: " +
          "the warehouse database is offline; try again later"
      )
      // the model was told (the simulated one says what it was told)
      expect(answer.text).toContain(
        "The probe__fail tool failed: McpToolFailed: tool \"probe__fail\" of MCP server \"probe\" failed: " +
          "the warehouse database is offline; try again later."
      )
      expect(answer.text).not.toContain("Please fail")
    }).pipe(Effect.provide(colony())), 30_000)

  it.scopedLive("the server killed mid-call ends that call in a typed tool error, and the next call restarts it", () =>
    Effect.gen(function*() {
      const prober = yield* Colony.client(Prober)
      const before = yield* prober("c").Ask({ prompt: "Echo back: before" })
      const firstPid = pidIn(before.tools[0]!.output)

      const crashed = yield* prober("c").Ask({ prompt: "Crash the server: exit now" })
      expect(crashed.tools.map((t) => ({ name: t.name, arguments: JSON.parse(t.arguments), ok: t.ok }))).toEqual([
        { name: "probe__crash", arguments: { how: "exit" }, ok: false }
      ])
      expect(crashed.tools[0]!.output).toMatch(
        /^error: McpCallFailed: the call to tool "probe__crash" of MCP server "probe" failed: .*Connection closed.*; the server is reconnected on the next call$/
      )
      expect(crashed.text).toContain("[simulated] The probe__crash tool failed: McpCallFailed: ")

      const after = yield* prober("c").Ask({ prompt: "Echo back: after" })
      expect(after.tools[0]).toMatchObject({ name: "probe__echo", ok: true })
      const secondPid = pidIn(after.tools[0]!.output)
      expect(secondPid).toBeGreaterThan(0)
      expect(secondPid).not.toBe(firstPid)
    }).pipe(Effect.provide(colony())), 30_000)

  it.scopedLive("a call the server never answers times out as a tool error, and the connection keeps serving", () =>
    Effect.gen(function*() {
      const prober = yield* Colony.client(Prober)
      const before = yield* prober("d").Ask({ prompt: "Echo back: before" })
      const hung = yield* prober("d").Ask({ prompt: "Crash the server: hang" })
      expect(hung.tools[0]).toMatchObject({ name: "probe__crash", ok: false })
      expect(hung.tools[0]!.output).toBe(
        "error: McpTimeout: tool \"probe__crash\" of MCP server \"probe\" did not answer within 2000 ms; " +
          "raise the server's timeout in the agent definition if the tool is slow"
      )
      const after = yield* prober("d").Ask({ prompt: "Echo back: after" })
      expect(pidIn(after.tools[0]!.output)).toBe(pidIn(before.tools[0]!.output))
    }).pipe(Effect.provide(colony())), 30_000)

  it.scopedLive("a server that announces a changed tool list is listed again, and the agent uses the new tool", () =>
    Effect.gen(function*() {
      const prober = yield* Colony.client(Prober)
      const learned = yield* prober("i").Ask({ prompt: "Learn a new tool" })
      expect(learned.tools[0]).toMatchObject({ name: "probe__learn", ok: true, output: "learned greet" })
      // the client lists the tools again when the server's notification arrives
      const described = yield* prober("i").Describe().pipe(
        Effect.filterOrFail((description) => description.tools.includes("probe__greet")),
        Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("10 seconds")))
      )
      expect(described.toolDetails.find((t) => t.name === "probe__greet")?.description).toBe("Greet someone by name")
      const greeted = yield* prober("i").Ask({ prompt: "Greet Ada by name" })
      expect(greeted.tools[0]).toMatchObject({ name: "probe__greet", ok: true, output: "hello, Greet Ada by name" })
    }).pipe(Effect.provide(colony())), 30_000)

  it.scopedLive("agent types naming the same server share one connection in the process", () =>
    Effect.gen(function*() {
      const prober = yield* Colony.client(Prober)
      const checker = yield* Colony.client(Checker)
      const one = yield* prober("e").Ask({ prompt: "Echo back: one" })
      const two = yield* checker("e").Ask({ prompt: "Echo back: two" })
      expect(pidIn(two.tools[0]!.output)).toBe(pidIn(one.tools[0]!.output))
    }).pipe(Effect.provide(colony())), 30_000)

  it.scopedLive("a server that cannot be started leaves the agent answering without its tools, and Describe says why", () =>
    Effect.gen(function*() {
      const stranded = yield* Colony.client(Stranded)
      const answer = yield* stranded("f").Ask({ prompt: "Anything there?" })
      expect(answer.tools).toEqual([])
      expect(answer.text).toContain("[simulated]")
      const description = yield* stranded("f").Describe()
      expect(description.tools).toEqual([])
      expect(description.toolDetails).toHaveLength(1)
      expect(description.toolDetails[0]).toMatchObject({ name: "gone__*", source: "gone", available: false })
      expect(description.toolDetails[0]!.description).toMatch(/^MCP server "gone" is unavailable \(/)
    }).pipe(Effect.provide(colony())), 30_000)

  it.scopedLive("the MCP tool's own JSON Schema is sent on the wire to an OpenAI-compatible endpoint", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI.FakeOpenAI
      fake.script(
        { toolCalls: [{ name: "probe__echo", arguments: { text: "over the wire" } }] },
        "The server echoed it."
      )
      const prober = yield* Colony.client(Prober)
      const answer = yield* prober("g").Ask({ prompt: "Echo this" })
      expect(answer.simulated).toBe(false)
      expect(answer.text).toBe("The server echoed it.")
      expect(answer.tools[0]).toMatchObject({ name: "probe__echo", ok: true })
      expect(answer.tools[0]!.output).toMatch(/^echo: over the wire \(pid \d+\)$/)
      const sent = fake.requests()[0]!.body.tools ?? []
      expect(sent.map((tool) => tool.function?.name)).toEqual(["probe__echo", "probe__fail", "probe__learn", "probe__crash"])
      expect(sent[0]!.function?.parameters).toEqual({
        type: "object",
        properties: { text: { type: "string", description: "what to echo" } },
        required: ["text"],
        additionalProperties: false
      })
      // the tool's result went back to the model as the answer to its call
      const followUp = fake.requests()[1]!.body.messages ?? []
      expect(followUp.at(-1)).toMatchObject({ role: "tool", content: expect.stringMatching(/^echo: over the wire/) })
    }).pipe(
      Effect.provide(Layer.unwrapEffect(
        Effect.map(FakeOpenAI.FakeOpenAI, (fake) => colony(LanguageModel.layerOpenAI({ baseUrl: fake.url })))
      )),
      Effect.provide(FakeOpenAI.layer())
    ), 30_000)

  it.scopedLive("an agent uses the tools of a streamable HTTP server, and a server gone away is a tool error", () =>
    Effect.gen(function*() {
      const served = yield* Effect.acquireRelease(
        Effect.promise(() => McpTestServer.serveHttp()),
        (server) => Effect.promise(() => server.close())
      )
      const Web = Agent.make({ name: "web", mcp: [{ name: "web", url: served.url, timeout: "2 seconds" }] })
      const answers = Effect.gen(function*() {
        const web = yield* Colony.client(Web)
        const echoed = yield* web("h").Ask({ prompt: "Echo back: over HTTP" })
        const down = yield* web("h").Ask({ prompt: "Crash the server: exit" })
        const after = yield* web("h").Ask({ prompt: "Echo back: anyone there?" })
        return { echoed, down, after }
      })
      const { after, down, echoed } = yield* answers.pipe(
        Effect.provide(Agent.toLayer(Web).pipe(Layer.provideMerge(Colony.layerEmbedded())))
      )
      expect(echoed.tools[0]).toMatchObject({ name: "web__echo", ok: true })
      expect(echoed.tools[0]!.output).toBe(`echo: Echo back: over HTTP (pid ${process.pid})`)
      expect(down.tools[0]).toMatchObject({ name: "web__crash", ok: false })
      expect(down.tools[0]!.output).toMatch(/^error: McpCallFailed: /)
      // the endpoint is gone: reconnecting fails, and the call is a tool error the model reads
      expect(after.tools[0]).toMatchObject({ name: "web__echo", ok: false })
      expect(after.tools[0]!.output).toMatch(/^error: McpServerUnavailable: MCP server "web" is unavailable/)
      expect(after.text).toContain("[simulated] The web__echo tool failed: McpServerUnavailable: ")
    }), 30_000)

  it.scoped("a server that does not come back is retried with backoff, and calls in between fail at once", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "colony-mcp-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const marker = join(dir, "starts")
      const starts = () => readFileSync(marker, "utf8").trim().split("\n").length
      const mcp = yield* Mcp.make
      const tools = yield* mcp.tools(McpTestServer.stdio("once", { env: { COLONY_MCP_TEST_MARKER: marker } }))
      const echo = tools.find((t) => t.remoteName === "echo")!
      const crash = tools.find((t) => t.remoteName === "crash")!
      expect(yield* echo.handler({ text: "first" })).toMatch(/^echo: first/)

      const killed = yield* Effect.flip(crash.handler({ how: "exit" }))
      expect(killed).toMatchObject({ _tag: "McpCallFailed", tool: "once__crash", reconnects: true })

      // the next call restarts the server at once; it refuses to start, so the one after waits
      const refused = yield* Effect.flip(echo.handler({ text: "second" }))
      expect(refused).toMatchObject({ _tag: "McpServerUnavailable", server: "once", retryInMs: 500 })
      expect(starts()).toBe(2)
      const waiting = yield* Effect.flip(echo.handler({ text: "third" }))
      expect(waiting._tag).toBe("McpServerUnavailable")
      expect(waiting.message).toMatch(/^MCP server "once" is unavailable \(.*\); the next attempt is in 1 s\./)
      expect(starts()).toBe(2)

      // once the server can start again and the backoff has passed, the next call reconnects
      rmSync(marker)
      yield* TestClock.adjust("500 millis")
      expect(yield* echo.handler({ text: "fourth" })).toMatch(/^echo: fourth/)
      expect(starts()).toBe(1)
    }), 30_000)

  it("tool names are prefixed with the server and kept to what OpenAI accepts", () => {
    expect(Mcp.toolName("files", "read_file")).toBe("files__read_file")
    const odd = Mcp.toolName("files", "fs.read/file")
    expect(odd).toMatch(/^files__fs_read_file_[0-9a-f]{8}$/)
    expect(odd).not.toBe(Mcp.toolName("files", "fs_read_file"))
    const long = Mcp.toolName("files", "x".repeat(80))
    expect(long).toMatch(/^[a-zA-Z0-9_-]{1,64}$/)
  })

  it("a definition with an invalid MCP server is refused, saying what to change", () => {
    expect(() => Agent.make({ name: "bad", mcp: [{ name: "a b", command: "x" }] })).toThrow(/invalid MCP server name "a b"/)
    expect(() => Agent.make({ name: "bad", mcp: [{ name: "web", url: "ftp://host/mcp" }] })).toThrow(/http:\/\/ or https:\/\//)
    expect(() => Agent.make({ name: "bad", mcp: [{ name: "x", command: "a" }, { name: "x", url: "http://h/mcp" }] }))
      .toThrow(/names the MCP server "x" twice/)
  })
})
