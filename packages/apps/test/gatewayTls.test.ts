import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as HttpServer from "@effect/platform/HttpServer"
import { Effect, ManagedRuntime, Option, Redacted } from "effect"
import OpenAI from "openai"
import { Agent as UndiciAgent, fetch as undiciFetch } from "undici"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/demo/Demo.js"
import * as Gateway from "../src/Gateway.js"

/** A throw-away self-signed certificate for 127.0.0.1. */
const selfSigned = () => {
  const dir = mkdtempSync(join(tmpdir(), "colony-tls-"))
  const cert = join(dir, "cert.pem")
  const key = join(dir, "key.pem")
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert
  ], { stdio: "ignore" })
  return { cert, key }
}

const tls = selfSigned()
let runtime: ManagedRuntime.ManagedRuntime<HttpServer.HttpServer, unknown>
let port = 0

beforeAll(async () => {
  runtime = ManagedRuntime.make(
    Gateway.layerEmbedded({
      settings: {
        port: 0,
        keys: [Redacted.make("tls-key")],
        rateLimit: 0,
        tlsCert: Option.some(tls.cert),
        tlsKey: Option.some(tls.key),
        corsOrigins: ["https://app.example.com"]
      },
      applications: [Demo.application]
    })
  )
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
  if (address._tag !== "TcpAddress") throw new Error("the gateway is not on TCP")
  port = address.port
})
afterAll(() => runtime.dispose())

describe("gateway: TLS and CORS", () => {
  it("with a certificate and key configured it serves HTTPS that the openai client can use", async () => {
    // the client trusts the test certificate through its fetch, as a user would with a private CA
    const dispatcher = new UndiciAgent({ connect: { ca: readFileSync(tls.cert) } })
    const openai = new OpenAI({
      baseURL: `https://127.0.0.1:${port}/v1`,
      apiKey: "tls-key",
      maxRetries: 0,
      fetch: ((url: string, init?: Record<string, unknown>) =>
        undiciFetch(url, { ...init, dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch
    })
    const reply = await openai.chat.completions.create({
      model: "agent:writer",
      messages: [{ role: "user", content: "A tagline, please" }]
    })
    expect(reply.choices[0]?.message.content).toMatch(/^\[simulated\] /)
    // and nothing answers in plain HTTP on that port
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow()
  })

  it("answers a CORS preflight for an allowed origin only", async () => {
    const agent = new HttpsAgent({ ca: readFileSync(tls.cert) })
    const ask = (origin: string) =>
      new Promise<{ status: number; allow: string | string[] | undefined }>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: "127.0.0.1",
            port,
            path: "/v1/chat/completions",
            method: "OPTIONS",
            agent,
            headers: {
              Origin: origin,
              "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "authorization, content-type"
            }
          },
          (res) => {
            res.resume()
            resolve({ status: res.statusCode ?? 0, allow: res.headers["access-control-allow-origin"] })
          }
        )
        req.on("error", reject)
        req.end()
      })
    const allowed = await ask("https://app.example.com")
    expect(allowed.allow).toBe("https://app.example.com")
    // a foreign origin is never echoed back, so a browser refuses it
    const other = await ask("https://evil.example.com")
    expect(other.allow).not.toBe("https://evil.example.com")
    expect(other.allow === undefined || other.allow === "https://app.example.com").toBe(true)
  })
})
