/**
 * `colony init <dir>`: start a project that defines its own agents on the Colony packages (see
 * `ProjectTemplate` for what it holds).
 *
 * @since 0.1.0
 */
import { Args, Command } from "@effect/cli"
import { Console, Effect, Schema } from "effect"
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import * as ProjectTemplate from "./ProjectTemplate.js"

/**
 * The folder given to `colony init` already holds files.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProjectFolderNotEmpty extends Schema.TaggedError<ProjectFolderNotEmpty>()("ProjectFolderNotEmpty", {
  path: Schema.String
}) {
  override get message() {
    return `${this.path} is not empty: colony init writes a new project only into a new or empty folder; name another`
  }
}

interface Manifest {
  readonly version: string
  readonly dependencies: Record<string, string>
}

// ../../package.json is this package's manifest from src/cli (in the repository) and dist/cli (installed).
const manifest = (): Manifest => JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))

/**
 * The versions a new project pins: this package's own, and the Effect packages it was built with.
 *
 * @since 0.1.0
 */
export const versions = (): ProjectTemplate.Versions => {
  const { dependencies, version } = manifest()
  return {
    colony: version,
    effect: dependencies["effect"]!,
    ai: dependencies["@effect/ai"]!,
    platformNode: dependencies["@effect/platform-node"]!,
    rpc: dependencies["@effect/rpc"]!
  }
}

/** npm package names: lower case, no spaces; the folder name made into one. */
const packageName = (dir: string) =>
  basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "") || "colony-project"

/**
 * Write a new project into `dir` (created when missing) and return the paths written.
 *
 * @since 0.1.0
 */
export const init = (dir: string): Effect.Effect<ReadonlyArray<string>, ProjectFolderNotEmpty> =>
  Effect.gen(function*() {
    const root = resolve(dir)
    if (existsSync(root) && readdirSync(root).length > 0) return yield* new ProjectFolderNotEmpty({ path: root })
    const files = ProjectTemplate.files(packageName(root), versions())
    for (const [path, content] of Object.entries(files)) {
      const file = join(root, path)
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, content)
    }
    return Object.keys(files)
  })

/**
 * @since 0.1.0
 */
export const command = Command.make(
  "init",
  { dir: Args.text({ name: "dir" }).pipe(Args.withDescription("the new project's folder")) },
  ({ dir }) =>
    Effect.gen(function*() {
      const written = yield* init(dir)
      yield* Console.log(`colony init: a new project in ${resolve(dir)}`)
      for (const path of written) yield* Console.log(`  ${path}`)
      yield* Console.log(`\nnext:\n  cd ${dir}\n  npm install\n  npm test\n  npm run dev`)
    })
).pipe(
  Command.withDescription(
    "Start a project: two agents with a typed RPC and a tool, a collaboration, a typed client, a test, a Dockerfile and compose file"
  )
)
