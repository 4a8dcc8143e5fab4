import * as HttpServer from "@effect/platform/HttpServer"
import { Effect, type Layer, ManagedRuntime } from "effect"
import type { ColonyError } from "@colony/runtime"
import type { GatewayConfig } from "../src/gateway/GatewayConfig.js"

/** A gateway layer started on a free port, with its base URL. */
export const start = async (
  layer: Layer.Layer<HttpServer.HttpServer | GatewayConfig, ColonyError.StartFailed | ColonyError.RunnerRefused>
) => {
  const runtime = ManagedRuntime.make(layer)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
  if (address._tag !== "TcpAddress") throw new Error("the gateway is not on TCP")
  return { url: `http://127.0.0.1:${address.port}`, runtime, close: () => runtime.dispose() }
}
