import { Colony } from "@colony/runtime"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Redacted } from "effect"

const LONG_SECRET = "0123456789abcdef0123456789abcdef"
const databaseUrl = Redacted.make("postgres://nobody@127.0.0.1:1/none")

/** Build a runner layer with `env` as the environment; its failure, if it fails. */
const startWith = (env: Record<string, string>, cluster: Partial<Colony.ClusterSettings> = {}) =>
  Effect.scoped(Layer.build(Colony.layerRunner({ databaseUrl, cluster }))).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.exit,
    Effect.map((exit) => (Exit.isFailure(exit) ? String(exit.cause) : "started"))
  )

describe("runner configuration", () => {
  it.effect("a secret shorter than 32 bytes is refused at start, naming the variable and how to make one", () =>
    Effect.gen(function*() {
      const failure = yield* startWith({}, { secret: Redacted.make("s3cret") })
      expect(failure).toContain("StartFailed")
      expect(failure).toContain("COLONY_RUNNER_SECRET is 6 bytes long; it must be at least 32 bytes")
      expect(failure).toContain("openssl rand -hex 32")
      expect(yield* startWith({ COLONY_RUNNER_SECRET: "" })).toContain("COLONY_RUNNER_SECRET is 0 bytes long")
      const fromConfig = yield* Effect.flip(
        Effect.withConfigProvider(Colony.clusterConfig, ConfigProvider.fromMap(new Map([["COLONY_RUNNER_SECRET", "s3cret"]])))
      )
      expect(String(fromConfig)).toContain("COLONY_RUNNER_SECRET")
      expect(String(fromConfig)).toContain("at least 32 bytes")
    }))

  it.effect("a runner listens on its advertised host unless COLONY_LISTEN_HOST says otherwise", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(
          Colony.clusterConfig,
          ConfigProvider.fromMap(new Map(Object.entries({ COLONY_RUNNER_SECRET: LONG_SECRET, ...env })))
        )
      expect((yield* read({})).listenHost).toBe("127.0.0.1")
      expect((yield* read({ COLONY_ADVERTISED_HOST: "10.0.0.12" })).listenHost).toBe("10.0.0.12")
      const both = yield* read({ COLONY_ADVERTISED_HOST: "10.0.0.12", COLONY_LISTEN_HOST: "0.0.0.0" })
      expect(both.listenHost).toBe("0.0.0.0")
      expect(both.advertisedHost).toBe("10.0.0.12")
    }))

  it.effect("runner health is the ping check unless COLONY_RUNNER_HEALTH asks Kubernetes; anything else is refused", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(
          Colony.clusterConfig,
          ConfigProvider.fromMap(new Map(Object.entries({ COLONY_RUNNER_SECRET: LONG_SECRET, ...env })))
        )
      expect((yield* read({})).runnerHealth).toBe("ping")
      const k8s = yield* read({
        COLONY_RUNNER_HEALTH: "kubernetes",
        COLONY_KUBERNETES_NAMESPACE: "agents",
        COLONY_KUBERNETES_LABEL_SELECTOR: "app.kubernetes.io/name=colony-runner"
      })
      expect(k8s).toMatchObject({
        runnerHealth: "kubernetes",
        kubernetesNamespace: "agents",
        kubernetesLabelSelector: "app.kubernetes.io/name=colony-runner"
      })
      const wrong = yield* Effect.flip(read({ COLONY_RUNNER_HEALTH: "docker" }))
      expect(String(wrong)).toContain("COLONY_RUNNER_HEALTH")
    }))

  it.effect("TLS files are all three or none, and must be readable", () =>
    Effect.gen(function*() {
      const secret = { COLONY_RUNNER_SECRET: LONG_SECRET }
      const partial = yield* startWith({ ...secret, COLONY_RUNNER_TLS_CERT: "/nowhere/runner.pem" })
      expect(partial).toContain("COLONY_RUNNER_TLS_CERT set but not COLONY_RUNNER_TLS_KEY and COLONY_RUNNER_TLS_CA")
      const missing = yield* startWith({
        ...secret,
        COLONY_RUNNER_TLS_CERT: "/nowhere/runner.pem",
        COLONY_RUNNER_TLS_KEY: "/nowhere/runner.key",
        COLONY_RUNNER_TLS_CA: "/nowhere/ca.pem"
      })
      expect(missing).toContain("cannot read COLONY_RUNNER_TLS_CERT (/nowhere/runner.pem)")
    }))
})
