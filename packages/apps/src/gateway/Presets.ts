/**
 * What an OpenAI model name (or a `RunCollaboration` preset name) means on a gateway: an agent
 * type (`agent:triage` or plain `triage`) or a named collaboration (`team:launch`).
 *
 * @since 0.1.0
 */
import { Collaboration } from "@colony/agents"

/**
 * @since 0.1.0
 * @category models
 */
export type Target =
  | { readonly _tag: "Agent"; readonly agent: string }
  | { readonly _tag: "Preset"; readonly name: string; readonly collaboration: Collaboration.Collaboration }

/**
 * The model names a gateway serves, as `/v1/models` lists them.
 *
 * @since 0.1.0
 */
export const modelNames = (agents: ReadonlyArray<string>, presets: ReadonlyArray<string>): ReadonlyArray<string> => [
  ...agents.map((name) => `agent:${name}`),
  ...presets.map((name) => `team:${name}`)
]

/**
 * The presets of a gateway: those of the applications it serves (`offered`), then configured
 * ones (which win on a name clash).
 *
 * @since 0.1.0
 */
export const presets = (
  offered: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>,
  configured: Readonly<Record<string, Collaboration.Collaboration>>,
  session: string
): Readonly<Record<string, Collaboration.Collaboration>> =>
  // callers name presets: a name like "__proto__" or "constructor" must find nothing
  Object.assign(Object.create(null), offered(session), configured)

/**
 * The preset called `name`, if there is one (never a property of `Object.prototype`).
 *
 * @since 0.1.0
 */
export const lookup = (
  presets: Readonly<Record<string, Collaboration.Collaboration>>,
  name: string
): Collaboration.Collaboration | undefined => Object.hasOwn(presets, name) ? presets[name] : undefined

/**
 * Resolve a model name.
 *
 * @since 0.1.0
 */
export const resolve = (
  model: string,
  agents: ReadonlyArray<string>,
  presetsFor: (session: string) => Readonly<Record<string, Collaboration.Collaboration>>,
  session: string
): Target | undefined => {
  const [prefix, rest] = model.includes(":") ? [model.slice(0, model.indexOf(":")), model.slice(model.indexOf(":") + 1)] : ["", model]
  if ((prefix === "agent" || prefix === "") && agents.includes(rest)) return { _tag: "Agent", agent: rest }
  if (prefix === "team" || prefix === "") {
    const collaboration = lookup(presetsFor(session), rest)
    if (collaboration !== undefined) return { _tag: "Preset", name: rest, collaboration }
  }
  return undefined
}
