/**
 * Where a model name goes: its registry entry, the provider that speaks to it and the limiter it
 * shares with every other name on the same entry.
 */
import { Context, Effect, Layer, Option, type Scope } from "effect"
import * as ModelRegistry from "../../ModelRegistry.js"
import { type Limits, makeLimits } from "../limits.js"
import * as AiLanguageModel from "@effect/ai/LanguageModel"
import { effectAiProvider } from "../effectAi.js"
import * as OpenAIProvider from "../openai.js"
import type { Provider } from "../provider.js"
import * as Simulated from "../simulated.js"
import { UnknownModel } from "./errors.js"

/** A model name resolved for one call. */
export interface Route {
  readonly resolved: ModelRegistry.ResolvedModel
  readonly limits: Limits
  readonly provider: Provider
}

/** Resolves a model name, or fails with `UnknownModel` listing the names that would resolve. */
export type Router = (name: string) => Effect.Effect<Route, UnknownModel>

/**
 * A router over `registry`. Limiters and providers are built once per registry entry, here, so
 * they live as long as the scope and every call to an entry shares them.
 */
export const makeRouter = (registry: ModelRegistry.ModelRegistry): Effect.Effect<Router, never, Scope.Scope> =>
  Effect.gen(function*() {
    const limits = new Map<string, Limits>()
    const providers = new Map<ModelRegistry.ModelSettings, Provider>()
    const entries: Array<[string, ModelRegistry.ModelSettings]> = Object.entries(registry.models)
      .map(([name, settings]) => [`model:${name}`, settings])
    if (registry.fallback !== undefined) entries.push(["fallback", registry.fallback])
    const scope = yield* Effect.scope
    const effectAi = (settings: ModelRegistry.ModelSettings, key: string) => {
      const layer = registry.languageModels?.get(settings)
      if (layer === undefined) {
        return Effect.dieMessage(
          `the model entry ${key} has provider "effect-ai" but no languageModel: give one in ModelRegistry.make`
        )
      }
      return Effect.map(Layer.buildWithScope(layer, scope), (context) => effectAiProvider(Context.get(context, AiLanguageModel.LanguageModel)))
    }
    for (const [key, settings] of entries) {
      limits.set(key, yield* makeLimits(settings))
      providers.set(
        settings,
        settings.provider === "simulated"
          ? Simulated.simulatedProvider
          : settings.provider === "effect-ai"
          ? yield* effectAi(settings, key)
          : OpenAIProvider.openAIProvider(settings)
      )
    }
    return (name) =>
      Option.match(ModelRegistry.resolve(registry, name), {
        onNone: () => Effect.fail(new UnknownModel({ model: name, registered: ModelRegistry.names(registry) })),
        onSome: (resolved) =>
          Effect.succeed({
            resolved,
            limits: limits.get(resolved.limiterKey)!,
            provider: providers.get(resolved.settings)!
          })
      })
  })
