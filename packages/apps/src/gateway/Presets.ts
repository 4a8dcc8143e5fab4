/**
 * What an OpenAI model name (or a `RunCollaboration` preset name) means on a gateway: an agent
 * type (`agent:support` or plain `support`) or a named collaboration (`team:launch`).
 *
 * @since 0.1.0
 */
import { Collaboration } from "@colony/agents"
import type { Agent } from "@colony/runtime"

/**
 * @since 0.1.0
 * @category models
 */
export type Target =
  | { readonly _tag: "Agent"; readonly agent: string }
  | { readonly _tag: "Preset"; readonly name: string; readonly collaboration: Collaboration.Collaboration }

const ref = (agent: string, id: string) => new Collaboration.AgentRef({ agent, id })

/**
 * The built-in presets, over the demo team (coordinator, researcher, writer, analyst). Each run
 * uses the session id as the agents' instance id, so concurrent runs do not share memory.
 *
 * @since 0.1.0
 */
export const builtIn = (session: string): Readonly<Record<string, Collaboration.Collaboration>> => {
  const workers = [ref("researcher", session), ref("writer", session), ref("analyst", session)] as const
  return {
    "master-slave": Collaboration.MasterSlave.make({ coordinator: ref("coordinator", session), workers }),
    peer: Collaboration.Peer.make({ peers: workers }),
    hybrid: Collaboration.Hybrid.make({
      coordinator: ref("coordinator", session),
      teams: [
        new Collaboration.Team({ name: "research", peers: [ref("researcher", session), ref("analyst", session)] }),
        new Collaboration.Team({ name: "writing", peers: [ref("writer", session)] })
      ]
    })
  }
}

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
 * The presets of a gateway: built-in ones for the demo team when it serves it, then configured
 * ones (which win on a name clash).
 *
 * @since 0.1.0
 */
export const presets = (
  agents: ReadonlyArray<Agent.Any>,
  configured: Readonly<Record<string, Collaboration.Collaboration>>,
  session: string
): Readonly<Record<string, Collaboration.Collaboration>> => {
  const served = new Set<string>(agents.map((agent) => agent.type))
  const demo = ["coordinator", "researcher", "writer", "analyst"].every((name) => served.has(name))
  // callers name presets: a name like "__proto__" or "constructor" must find nothing
  return Object.assign(Object.create(null), demo ? builtIn(session) : {}, configured)
}

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
