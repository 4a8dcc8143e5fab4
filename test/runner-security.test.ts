/**
 * The runners' transport against an attacker on the network, with real runner processes: bytes
 * recorded on the way to a runner and sent again, a secret too short to start with, and mutual TLS.
 */
import * as DevPostgres from "@colony/apps/DevPostgres"
import { Colony } from "@colony/runtime"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { Clerk, Debater, Keeper } from "./support/agents.js"
import { freshDatabase, heldShards, killAll, postgresPerFile, SECRET, spawnRunner } from "./support/cluster.js"

const postgres = postgresPerFile()

afterEach(() => killAll())

/**
 * A TCP proxy in front of `target` that records, per connection, every byte its clients send.
 */
const recordingProxy = async (target: number) => {
  const recorded: Array<Array<Buffer>> = []
  const sockets = new Set<Net.Socket>()
  const server = Net.createServer((inbound) => {
    const bytes: Array<Buffer> = []
    recorded.push(bytes)
    const outbound = Net.createConnection({ host: "127.0.0.1", port: target })
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.on("error", () => {})
      socket.on("close", () => {
        inbound.destroy()
        outbound.destroy()
      })
    }
    inbound.on("data", (chunk: Buffer) => bytes.push(Buffer.from(chunk)))
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: (server.address() as Net.AddressInfo).port,
    connections: () => recorded.map((chunks) => Buffer.concat(chunks)),
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  }
}

/** Send `bytes` on a new connection to `port`; what came back, and whether the runner closed it. */
const replay = (port: number, bytes: Buffer) =>
  new Promise<{ readonly answered: number; readonly closedByRunner: boolean }>((resolve) => {
    const socket = Net.createConnection({ host: "127.0.0.1", port })
    let answered = 0
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ answered, closedByRunner: false })
    }, 8000)
    socket.on("error", () => {})
    socket.on("data", (chunk: Buffer) => {
      answered += chunk.length
    })
    socket.on("close", () => {
      clearTimeout(timer)
      resolve({ answered, closedByRunner: true })
    })
    socket.on("connect", () => socket.write(bytes))
  })

/** A client-only colony in the test process, with explicit cluster settings. */
const clientWith = (databaseUrl: string, cluster: Partial<Colony.ClusterSettings>) =>
  ManagedRuntime.make(
    Colony.declare(Clerk, Keeper, Debater).pipe(
      Layer.provideMerge(
        Colony.layerClientOnly({
          databaseUrl: Redacted.make(databaseUrl),
          cluster: { secret: Redacted.make(SECRET), ...cluster }
        })
      )
    )
  )

const ask = (id: string, prompt: string) => Effect.flatMap(Colony.client(Clerk), (clerk) => clerk(id).Ask({ prompt }))

const requireOpenssl = () => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
  } catch {
    throw new Error("the mutual TLS test makes its certificates with openssl, which is not installed: apt-get install -y openssl")
  }
}

/** A CA, and certificates it signs for a runner and a client; and a certificate of another CA. */
const makeCertificates = () => {
  requireOpenssl()
  const dir = mkdtempSync(join(tmpdir(), "colony-tls-"))
  const run = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" })
  const ca = (name: string) =>
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.pem`)
  const signed = (name: string, by: string) => {
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", `/CN=${name}`,
      "-keyout", `${name}.key`, "-out", `${name}.csr`)
    writeFileSync(join(dir, `${name}.ext`), "subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", `${name}.csr`, "-CA", `${by}.pem`, "-CAkey", `${by}.key`, "-CAcreateserial",
      "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.pem`)
  }
  ca("colony-ca")
  ca("other-ca")
  signed("runner", "colony-ca")
  signed("client", "colony-ca")
  signed("stranger", "other-ca")
  const file = (name: string) => join(dir, name)
  return { file }
}

describe("the runners' transport under attack", () => {
  it("a request recorded on its way to a runner and sent again on a new connection is refused, with no effect", async () => {
    const fake = await FakeOpenAI.start()
    const url = await freshDatabase(postgres())
    const listenPort = await DevPostgres.freePort()
    const proxy = await recordingProxy(listenPort)
    // other processes reach the runner through the proxy, which records what they send it
    const runner = await spawnRunner({
      name: "runner-1",
      databaseUrl: url,
      modelUrl: fake.url,
      env: { COLONY_LISTEN_PORT: String(listenPort), COLONY_ADVERTISED_PORT: String(proxy.port) }
    })
    await runner.waitForStatus((s) => heldShards(s) === 300)
    const colony = clientWith(url, {})
    try {
      const answer = await colony.runPromise(ask("walk-in-1", "please refund order 7"))
      expect(answer.runner).toBe(`127.0.0.1:${proxy.port}`)
      expect(fake.stats().chatRequests).toBe(1)
      const recorded = proxy.connections().filter((bytes) => bytes.length > 0)
      expect(recorded.length).toBeGreaterThan(0)
      for (const bytes of recorded) {
        const outcome = await replay(listenPort, bytes)
        expect(outcome.closedByRunner).toBe(true)
        // the runner's half of the handshake (its nonce and proof) and nothing else
        expect(outcome.answered).toBeLessThanOrEqual(64)
      }
      // the runner still serves the real client, and the refund was asked for once
      await colony.runPromise(ask("walk-in-2", "hello"))
      expect(fake.stats().chatRequests).toBe(2)
    } finally {
      await colony.dispose()
      proxy.close()
      await fake.close()
    }
  }, 120_000)

  it("a runner whose secret is shorter than 32 bytes does not start, and says how to make one", async () => {
    const url = await freshDatabase(postgres())
    const runner = await spawnRunner({ name: "short", databaseUrl: url, secret: "too-short-secret" })
    const exit = await runner.exited
    expect(exit.code).not.toBe(0)
    const output = runner.output.join("\n")
    expect(output).toContain("COLONY_RUNNER_SECRET is 16 bytes long; it must be at least 32 bytes")
    expect(output).toContain("openssl rand -hex 32")
  }, 60_000)

  it(
    "with mutual TLS, runners and a client with certificates of the colony's CA work together; others are not served",
    async () => {
      const { file } = makeCertificates()
      const url = await freshDatabase(postgres())
      const env = {
        COLONY_RUNNER_TLS_CERT: file("runner.pem"),
        COLONY_RUNNER_TLS_KEY: file("runner.key"),
        COLONY_RUNNER_TLS_CA: file("colony-ca.pem")
      }
      const runners = [
        await spawnRunner({ name: "tls-runner-1", databaseUrl: url, env }),
        await spawnRunner({ name: "tls-runner-2", databaseUrl: url, env })
      ]
      await Promise.all(runners.map((runner) => runner.waitForStatus((s) => heldShards(s) > 0)))
      const tls = (name: string, ca = "colony-ca") => ({
        tls: {
          cert: readFileSync(file(`${name}.pem`), "utf8"),
          key: readFileSync(file(`${name}.key`), "utf8"),
          ca: readFileSync(file(`${ca}.pem`), "utf8")
        }
      })
      const member = clientWith(url, tls("client"))
      const stranger = clientWith(url, tls("stranger", "other-ca"))
      const plain = clientWith(url, {})
      try {
        const ids = Array.from({ length: 12 }, (_, i) => `tls-${i}`)
        const answers = await member.runPromise(
          Effect.forEach(ids, (id) => ask(id, "hello over TLS"), { concurrency: 6 })
        )
        // both runners answered, each reached through TLS
        expect(new Set(answers.map((a) => a.runner)).size).toBe(2)
        for (const outsider of [stranger, plain]) {
          const exit = await outsider.runPromiseExit(ask("tls-0", "let me in").pipe(Effect.timeout("5 seconds")))
          expect(exit._tag).toBe("Failure")
        }
      } finally {
        await Promise.all([member.dispose(), stranger.dispose(), plain.dispose()])
      }
    },
    120_000
  )
})
