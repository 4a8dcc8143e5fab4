/**
 * Traces across hops — gateway → session → agent → model — exported over OTLP/HTTP (JSON) when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The cluster already traces every entity message (the
 * span context travels with the envelope); the gateway adds its HTTP and RPC spans and a span
 * per model call of the agents it hosts.
 *
 * @since 0.1.0
 */
import { LanguageModel } from "@colony/runtime"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Option, Stream } from "effect"
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

/**
 * A `LanguageModel` whose calls are spans (`LanguageModel.chat`, `LanguageModel.stream`) with the
 * model name, tokens and whether it was simulated.
 *
 * @since 0.1.0
 * @category layers
 */
export const tracedModels = <E, R>(
  models: Layer.Layer<LanguageModel.LanguageModel, E, R>
): Layer.Layer<LanguageModel.LanguageModel, E, R> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    Effect.map(LanguageModel.LanguageModel, (model) =>
      LanguageModel.LanguageModel.of({
        ...model,
        chat: (request) =>
          model.chat(request).pipe(
            Effect.tap((response) =>
              Effect.annotateCurrentSpan({
                "gen_ai.response.model": response.modelId,
                "gen_ai.usage.input_tokens": response.usage.promptTokens,
                "gen_ai.usage.output_tokens": response.usage.completionTokens,
                "colony.simulated": response.simulated
              })
            ),
            Effect.withSpan("LanguageModel.chat", {
              kind: "client",
              attributes: { "gen_ai.request.model": request.model }
            })
          ),
        stream: (request) =>
          model.stream(request).pipe(
            Stream.withSpan("LanguageModel.stream", { kind: "client", attributes: { "gen_ai.request.model": request.model } })
          )
      }))
  ).pipe(Layer.provide(models))
