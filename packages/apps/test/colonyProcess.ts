/**
 * The `colony` CLI run as a user runs it, in a child process, for the tests of its commands.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

/** The `colony` executable of this package. */
export const bin = fileURLToPath(new URL("../bin/colony.js", import.meta.url))

/**
 * `colony gateway --embedded --port 0 ...flags`, with `keys` as COLONY_GATEWAY_KEYS (none: the
 * gateway makes its run's own), until it prints its health line: what it printed, the URL it
 * listens on and a way to stop it. Fails with its output if it exits first.
 */
export const startGateway = async (flags: ReadonlyArray<string>, keys: string | undefined) => {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", COLONY_GATEWAY_KEYS: keys }
  if (keys === undefined) delete env["COLONY_GATEWAY_KEYS"]
  const child = spawn(process.execPath, [bin, "gateway", "--embedded", "--port", "0", ...flags], { env })
  const out = await new Promise<string>((resolve, reject) => {
    let text = ""
    child.stdout.on("data", (chunk) => {
      text += chunk
      if (text.includes("health:")) resolve(text)
    })
    child.on("exit", (code) => reject(new Error(`gateway exited with ${code}: ${text}`)))
  })
  const url = /listening on (http:\/\/[\d.:]+)/.exec(out)![1]!
  return { out, url, stop: () => child.kill("SIGTERM") }
}
