/**
 * Traces across hops — gateway → session → agent → model — exported over OTLP/HTTP (JSON) when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The cluster already traces every entity message (the
 * span context travels with the envelope), `LanguageModel` adds a span per model call, and the
 * gateway adds its HTTP and RPC spans.
 *
 * @since 0.1.0
 */
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Layer, Option } from "effect"
import type { Settings } from "./GatewayConfig.js"

/**
 * The OTLP exporter when an endpoint is configured, nothing otherwise. Provide it beneath every
 * other layer so the colony's fibers use it too.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (settings: Pick<Settings, "otlpEndpoint" | "serviceName">): Layer.Layer<never> =>
  Option.match(settings.otlpEndpoint, {
    onNone: () => Layer.empty,
    onSome: (endpoint) =>
      OtlpTracer.layer({
        url: `${endpoint.replace(/\/+$/, "")}/v1/traces`,
        resource: { serviceName: settings.serviceName },
        exportInterval: "1 second"
      }).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))
  })
