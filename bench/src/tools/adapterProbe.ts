/**
 * The model door's cost per call with and without `@effect/ai` in the path: the door over its own
 * simulated provider, the door over an `@effect/ai` entry that answers a fixed reply, and
 * `@effect/ai`'s `generateText` through `layerEffectAi` over the simulated provider (bench/README.md).
 */
import { LanguageModel, ModelRegistry } from "@colony/runtime"
import { LanguageModel as AiLanguageModel } from "@effect/ai"
import { Effect, Layer } from "effect"

const N = 20_000
const messages = [LanguageModel.ChatMessage.system("You are terse."), LanguageModel.ChatMessage.user("Say hello to the team")]
const time = <R>(label: string, run: Effect.Effect<unknown, unknown, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 2_000; i++) yield* run
    const started = performance.now()
    for (let i = 0; i < N; i++) yield* run
    console.log(`${label}: ${(((performance.now() - started) * 1000) / N).toFixed(1)} µs/call`)
  })

const fixed = Layer.effect(AiLanguageModel.LanguageModel, AiLanguageModel.make({
  generateText: () => Effect.succeed([{ type: "text", text: "hello team" }, { type: "finish", reason: "stop", usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 } }]),
  streamText: () => { throw new Error("unused") }
}))

const program = Effect.gen(function*() {
  for (let round = 0; round < 3; round++) {
    yield* time("door → simulated provider", LanguageModel.chat({ model: "default", messages })).pipe(Effect.provide(LanguageModel.layerSimulated))
    yield* time("door → @effect/ai entry (fixed reply)", LanguageModel.chat({ model: "custom", messages })).pipe(
      Effect.provide(LanguageModel.layerRegistry(ModelRegistry.make({ custom: { languageModel: fixed } })))
    )
    yield* time("@effect/ai generateText → door → simulated", AiLanguageModel.generateText({ prompt: "Say hello to the team" })).pipe(
      Effect.provide(LanguageModel.layerEffectAi("default")), Effect.provide(LanguageModel.layerSimulated)
    )
  }
})
Effect.runPromise(program)
