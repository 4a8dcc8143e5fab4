/**
 * `--model-url` / `--model-id`: the options of the commands that run their own colony (an
 * application's demo or evaluation) to point it at an OpenAI-compatible endpoint instead of the
 * default model.
 *
 * @since 0.1.0
 */
import { LanguageModel } from "@colony/runtime"
import { Options } from "@effect/cli"
import { type Layer, Option } from "effect"

/**
 * @since 0.1.0
 */
export const modelUrl = Options.text("model-url").pipe(
  Options.withDescription("an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 (default: simulated model)"),
  Options.optional
)

/**
 * @since 0.1.0
 */
export const modelId = Options.text("model-id").pipe(
  Options.withDescription("the model id to request from --model-url (default: the agent's model name)"),
  Options.optional
)

/**
 * The language model for `--model-url` / `--model-id`, or the default (simulated unless configured).
 *
 * @since 0.1.0
 */
export const layer = (
  url: Option.Option<string>,
  id: Option.Option<string>
): Layer.Layer<LanguageModel.LanguageModel> | undefined =>
  Option.match(url, {
    onNone: () => undefined,
    onSome: (baseUrl) =>
      LanguageModel.layerOpenAI({
        baseUrl,
        ...Option.match(id, { onNone: () => ({}), onSome: (modelId) => ({ modelId }) }),
        apiKey: process.env.COLONY_MODEL_KEY ?? "not-needed"
      })
  })
