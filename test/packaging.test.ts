/**
 * A new user's path, with real parts: the packages as npm publishes them, a project made by
 * `colony init` in a folder outside this repository with the tarballs installed, its own type
 * check and tests, two runners started from its compiled agents module on an embedded Postgres,
 * and a separate process calling an agent through the typed client before and after one runner is
 * killed with SIGKILL.
 */
import * as DevPostgres from "@colony/apps/DevPostgres"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const work = mkdtempSync(join(tmpdir(), "colony-packaging-"))
const packs = join(work, "packs")
const project = join(work, "project")
const SECRET = "packaging-secret-0123456789abcdef0123456789abcdef"
const packages = ["@colony/runtime", "@colony/agents", "@colony/apps"] as const

// The user's shell, not this test run's: no npm_* settings of the `npm test` around it, no
// VITEST_* variables that would make the project's own vitest think it is a worker of this one.
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|VITEST|TINYPOOL|FORCE_COLOR$|NODE_ENV$|NODE_OPTIONS$)/i.test(key))
  ),
  NO_COLOR: "1"
}

const run = (command: string, args: ReadonlyArray<string>, options: { cwd: string; env?: NodeJS.ProcessEnv }) =>
  new Promise<string>((resolve, reject) =>
    execFile(command, args, { cwd: options.cwd, env: options.env ?? env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${command} ${args.join(" ")} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`))
        : resolve(stdout)
    )
  )

interface Packed {
  readonly name: string
  readonly filename: string
  readonly files: ReadonlyArray<{ readonly path: string }>
}

interface Status {
  readonly event: "started" | "status"
  readonly shardIds: Record<string, ReadonlyArray<number>>
}

interface Runner {
  readonly child: ChildProcess
  readonly output: Array<string>
  readonly latest: () => Status | undefined
}

/** Polls `done` until it holds, for at most a minute. */
const eventually = async (what: string, done: () => boolean, output: () => string) => {
  for (const deadline = Date.now() + 60_000; !done();) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 60 s; runner output:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

const children: Array<ChildProcess> = []
let postgres: Promise<DevPostgres.Server> | undefined

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL")
  // started at the test's beginning: stopped even when the test failed before it was used
  await (await postgres?.catch(() => undefined))?.stop()
  rmSync(work, { recursive: true, force: true })
})

/** `colony runner --json` as the project's installed CLI, with plain Node. */
const startRunner = async (databaseUrl: string): Promise<Runner> => {
  const port = await DevPostgres.freePort()
  const child = spawn(
    process.execPath,
    [join(project, "node_modules/@colony/apps/bin/colony.js"), "runner", "--json", "--agents", "dist/agents.js"],
    {
      cwd: project,
      env: {
        ...env,
        DATABASE_URL: databaseUrl,
        COLONY_RUNNER_SECRET: SECRET,
        COLONY_LISTEN_HOST: "127.0.0.1",
        COLONY_LISTEN_PORT: String(port),
        COLONY_ADVERTISED_HOST: "127.0.0.1"
      },
      stdio: ["ignore", "pipe", "pipe"]
    }
  )
  children.push(child)
  const output: Array<string> = []
  let latest: Status | undefined
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      output.push(line)
      if (line.startsWith("{")) latest = JSON.parse(line) as Status
    })
  }
  return { child, output, latest: () => latest }
}

const held = (status: Status | undefined) => status?.shardIds["default"] ?? []

describe("packaging", () => {
  it("a project made by colony init installs the packed packages, passes its own checks, and its agents fail over between runners", async () => {
    const started = Date.now()
    const timings: Array<string> = []
    const step = (name: string) => timings.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const pg = postgres = DevPostgres.start({ dataDir: join(work, "pg"), persistent: false })
    pg.catch(() => undefined)

    // npm pack runs each package's prepack: the tsc build
    mkdirSync(packs)
    const packed = JSON.parse(
      await run("npm", ["pack", "--json", "--pack-destination", packs, ...packages.flatMap((name) => ["-w", name])], { cwd: root })
    ) as ReadonlyArray<Packed>
    step("pack")
    expect(packed.map((p) => p.name)).toEqual([...packages])
    for (const p of packed) {
      const paths = p.files.map((file) => file.path)
      expect(paths.filter((path) => /(^|\/)test\/|\.test\.|\.spec\./.test(path)), p.name).toEqual([])
      expect(paths.filter((path) => path.endsWith(".ts") && !path.endsWith(".d.ts")), p.name).toEqual([])
      expect(paths.filter((path) => !/^(dist\/|bin\/|README\.md$|package\.json$|LICENSE)/.test(path)), p.name).toEqual([])
    }

    // the compiled CLI, as installed it would run
    await run(process.execPath, [join(root, "packages/apps/dist/main.js"), "init", project], { cwd: work })
    const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"))
    const repo = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
    const apps = JSON.parse(readFileSync(join(root, "packages/apps/package.json"), "utf8"))
    for (const [name, version] of Object.entries(manifest.devDependencies)) {
      expect(version, `${name} in the project as in this repository`).toBe(
        repo.devDependencies[name] ?? apps.devDependencies[name]
      )
    }
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining([...packages]))

    await run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", ...packed.map((p) => join(packs, p.filename))],
      { cwd: project }
    )
    step("install")

    // plain Node imports every entry point of the installed packages
    const entries = packages.flatMap((name) => {
      const dir = join(project, "node_modules", name)
      const exports = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).exports as Record<string, unknown>
      return Object.keys(exports).filter((key) => key !== "./package.json").flatMap((key) =>
        key === "./*"
          ? readdirSync(join(dir, "dist")).filter((file) => file.endsWith(".js")).map((file) =>
            `${name}/${file.slice(0, -3)}`
          )
          : [key === "." ? name : `${name}/${key.slice(2)}`]
      )
    })
    expect(entries).toEqual(expect.arrayContaining(["@colony/runtime/testing", "@colony/apps/GatewayClient"]))
    const imported = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `for (const entry of ${JSON.stringify(entries)}) await import(entry); console.log("imported")`
      ],
      { cwd: project }
    )
    expect(imported.trim()).toBe("imported")
    // the MCP test server runs compiled, without tsx, as installed
    const mcp = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { McpTestServer } = await import("@colony/runtime/testing"); console.log(JSON.stringify(McpTestServer.stdio("probe").args))`
      ],
      { cwd: project }
    )
    expect(JSON.parse(mcp.trim())).toEqual([join(project, "node_modules/@colony/runtime/dist/testing/mcp-server.js")])
    step("imports")

    await run(join(project, "node_modules/.bin/tsc"), ["--noEmit"], { cwd: project })
    step("tsc")
    const tests = await run("npm", ["test"], { cwd: project })
    expect(tests).toMatch(/Tests\s+3 passed/)
    step("project tests")
    const dev = await run("npm", ["run", "dev"], { cwd: project })
    expect(dev).toContain("planner: 3 steps, 6 hours")
    expect(dev).toContain("used count_words")
    step("dev")
    await run("npm", ["run", "build"], { cwd: project })
    step("build")

    const server = await pg
    await server.createDatabase("colony")
    const url = server.url("colony")
    const runners = [await startRunner(url), await startRunner(url)]
    const outputs = () => runners.map((r) => r.output.join("\n")).join("\n----\n")
    // every default shard (300 unless configured) held, by both runners
    await eventually("both runners hold shards, 300 in all", () => {
      const counts = runners.map((r) => held(r.latest()).length)
      return counts.every((n) => n > 0) && counts[0]! + counts[1]! === 300
    }, outputs)
    step("runners")

    const call = async () =>
      JSON.parse(
        (await run(process.execPath, ["dist/client.js", "failover", "research, write and review"], {
          cwd: project,
          env: { ...env, DATABASE_URL: url, COLONY_RUNNER_SECRET: SECRET }
        })).trim().split("\n").at(-1)!
      ) as { agent: string; shard: number; task: string; steps: number; hours: number }
    const first = await call()
    expect(first).toMatchObject({ agent: "planner/failover", steps: 3, hours: 6 })
    step("call")

    const host = runners.find((r) => held(r.latest()).includes(first.shard))!
    const survivor = runners.find((r) => r !== host)!
    host.child.kill("SIGKILL")
    const second = await call()
    expect(second).toEqual(first)
    await eventually("the survivor holds the killed runner's shard", () => held(survivor.latest()).includes(first.shard), outputs)
    step("after kill -9")
    console.log(`packaging: ${timings.join(", ")}`)
  }, 240_000)
})
