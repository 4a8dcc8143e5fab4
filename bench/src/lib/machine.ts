/**
 * The machine a run happened on, recorded with every result: absolute times only mean something
 * next to it.
 */
import { execFileSync } from "node:child_process"
import * as os from "node:os"

export interface Machine {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryBytes: number
  readonly platform: string
  readonly release: string
  readonly node: string
  readonly v8: string
  readonly loadAverage: ReadonlyArray<number>
  readonly commit: string | undefined
}

const gitCommit = (): string | undefined => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return undefined
  }
}

export const describe = (): Machine => {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    platform: `${os.type()} ${os.arch()}`,
    release: os.release(),
    node: process.version,
    v8: process.versions.v8,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit: gitCommit()
  }
}

export const oneLine = (m: Machine): string =>
  `${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB, ${m.platform}, Node ${m.node}` +
  (m.commit === undefined ? "" : `, commit ${m.commit}`) + `, load ${m.loadAverage.join(" ")}`
