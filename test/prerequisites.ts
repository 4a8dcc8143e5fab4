/**
 * What `npm test` needs beyond npm packages, made sure of before any test runs: headless Chromium
 * for the support pages (packages/apps/test/supportWeb.test.ts) and openssl for the runners'
 * mutual-TLS certificates (test/runner-security.test.ts). Missing ones are installed through the
 * system's package manager when this process may (root, or sudo without a password); otherwise the
 * run stops at once with the one command to type, instead of failing later inside a test.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"

export interface Prerequisite {
  readonly name: string
  readonly present: () => boolean
  /** the Debian package that provides it */
  readonly debian: string
}

const onPath = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0

export const CHROMIUM = "/usr/bin/chromium"

const prerequisites: ReadonlyArray<Prerequisite> = [
  { name: `Chromium (${CHROMIUM})`, present: () => existsSync(CHROMIUM), debian: "chromium" },
  { name: "openssl", present: () => onPath("openssl"), debian: "openssl" }
]

/** How this process can run the package manager as root, if it can. */
const asRoot = (): ReadonlyArray<string> | undefined => {
  if (!onPath("apt-get")) return undefined
  if (process.getuid?.() === 0) return []
  if (onPath("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0) return ["sudo", "-n"]
  return undefined
}

/**
 * Installs what is missing with `root` (a command prefix, `[]` when already root) through `run`, or
 * throws naming the command when there is no way to.
 */
export const ensure = (
  required: ReadonlyArray<Prerequisite>,
  root: ReadonlyArray<string> | undefined,
  run: (args: ReadonlyArray<string>) => void
) => {
  const missing = required.filter((p) => !p.present())
  if (missing.length === 0) return
  const packages = missing.map((p) => p.debian)
  const command = `apt-get update && apt-get install -y ${packages.join(" ")}`
  if (root === undefined) {
    throw new Error(
      `npm test needs ${missing.map((p) => p.name).join(" and ")}, which this machine lacks and this user cannot install. ` +
        `Run once: sudo sh -c "${command}" (Debian/Ubuntu; elsewhere install ${packages.join(" ")} with the system's package manager)`
    )
  }
  console.log(`npm test: installing ${packages.join(", ")} (${missing.map((p) => p.name).join(", ")} missing) with apt-get…`)
  run([...root, "apt-get", "update"])
  run([...root, "apt-get", "install", "-y", ...packages])
  const still = missing.filter((p) => !p.present())
  if (still.length > 0) {
    throw new Error(`apt-get finished but ${still.map((p) => p.name).join(" and ")} is still missing: install it by hand`)
  }
}

export default function setup() {
  ensure(prerequisites, asRoot(), ([file, ...args]) => {
    execFileSync(file!, args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
  })
}
