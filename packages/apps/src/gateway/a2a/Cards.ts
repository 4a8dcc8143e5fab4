/**
 * What the gateway serves over A2A (an agent, a collaboration preset, an application) and the
 * agent card that describes each, in the protocol's 1.0 shape and the v0.3 one.
 */
import { Collaboration } from "@colony/agents"
import { Agent, type Colony } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { A2A_PROTOCOL_VERSION, type AgentCard, type AgentSkill } from "@a2a-js/sdk"
import type { ServerCallContext } from "@a2a-js/sdk/server"
import type { Effect } from "effect"
import type * as Auth from "../Auth.js"
import type { Settings } from "../GatewayConfig.js"
import type * as Presets from "../Presets.js"

/**
 * Where the A2A endpoints are served.
 *
 * @since 0.1.0
 */
export const basePath = "/a2a"

export const cardPath = "/.well-known/agent-card.json"
export const legacyVersion = "0.3"

/**
 * An application served over A2A next to the agents and presets: its
 * own answer to a message, with the A2A context id as its conversation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Application {
  /** the path segment and card name */
  readonly name: string
  readonly description: string
  readonly tags: ReadonlyArray<string>
  readonly examples?: ReadonlyArray<string> | undefined
  readonly answer: (
    conversation: string,
    text: string,
    caller: Auth.Caller
  ) => Effect.Effect<string, { readonly _tag: string; readonly message: string }, Colony.Services | Sharding>
}

/**
 * The gateway's caller as the A2A SDK's user: tasks are kept per user (`BoundedTaskStore`).
 *
 * @since 0.1.0
 * @category models
 */
export class GatewayUser {
  constructor(readonly caller: Auth.Caller) {}
  get isAuthenticated() {
    return true
  }
  get userName() {
    return this.caller.subject
  }
}

export const callerOf = (context: ServerCallContext | undefined): Auth.Caller => {
  const user = context?.user
  // every request reaches the SDK through `rpc`, which sets the user: anything else is a bug
  if (!(user instanceof GatewayUser)) throw new Error("an A2A request without the gateway's caller")
  return user.caller
}

export type Target = Presets.Target | { readonly _tag: "Application"; readonly application: Application }

export interface Served {
  /** the path segment the target is served under */
  readonly name: string
  readonly target: Target
}

const describeAgent = (definition: Agent.Definition) => {
  const instructions = definition.instructions.trim()
  return instructions.length > 0 ? instructions : `The colony agent "${definition.name}".`
}

const skillOf = (served: Served, agents: ReadonlyArray<Agent.Any>): AgentSkill => {
  const base = { examples: [], inputModes: [], outputModes: [], securityRequirements: [] }
  if (served.target._tag === "Application") {
    const { application } = served.target
    return {
      ...base,
      examples: [...(application.examples ?? [])],
      id: application.name,
      name: application.name,
      description: application.description,
      tags: ["colony", "application", ...application.tags]
    }
  }
  if (served.target._tag === "Agent") {
    const name = served.target.agent
    const agent = agents.find((a) => a.type === name)
    const definition = agent === undefined ? undefined : Agent.definition(agent)
    return {
      ...base,
      id: name,
      name,
      description: definition === undefined ? `The colony agent "${name}".` : describeAgent(definition),
      tags: ["colony", "agent", ...(definition?.capabilities ?? [])]
    }
  }
  const collaboration = served.target.collaboration
  const members = [...new Set(Collaboration.participants(collaboration).map((ref) => ref.agent))]
  return {
    ...base,
    id: served.name,
    name: served.target.name,
    description: `A ${collaboration._tag} collaboration of the colony agents ${members.join(", ")}: ` +
      `the task is worked on together and answered with one synthesis.`,
    tags: ["colony", "collaboration", collaboration._tag]
  }
}

/**
 * The agent card of a served agent or preset, at `url` (its JSON-RPC endpoint). With API keys
 * configured the card declares bearer authentication.
 *
 * @since 0.1.0
 */
export const card = (
  served: Served,
  agents: ReadonlyArray<Agent.Any>,
  settings: Settings,
  url: string
): AgentCard => {
  const skill = skillOf(served, agents)
  const secured = settings.keys.length > 0
  return {
    name: served.target._tag === "Agent"
      ? served.target.agent
      : served.target._tag === "Application"
      ? served.target.application.name
      : `team:${served.target.name}`,
    description: skill.description,
    // One endpoint answers both protocol versions; clients pick 1.0 when they can.
    supportedInterfaces: [A2A_PROTOCOL_VERSION, legacyVersion].map((protocolVersion) => ({
      url,
      protocolBinding: "JSONRPC",
      tenant: "",
      protocolVersion
    })),
    provider: undefined,
    version: "0.1.0",
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: secured
      ? {
        bearer: {
          scheme: {
            $case: "httpAuthSecurityScheme",
            value: { description: "a gateway API key (COLONY_GATEWAY_KEYS)", scheme: "Bearer", bearerFormat: "" }
          }
        }
      }
      : {},
    securityRequirements: secured ? [{ schemes: { bearer: { list: [] } } }] : [],
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [skill],
    signatures: []
  }
}

/**
 * The same card in the v0.3 shape, for clients that ask for the card without naming a protocol
 * version (as v0.3 clients do); the SDK's own client asks for 1.0.
 *
 * @since 0.1.0
 */
export const legacyCard = (card: AgentCard, url: string, secured: boolean) => ({
  protocolVersion: "0.3.0",
  name: card.name,
  description: card.description,
  url,
  preferredTransport: "JSONRPC",
  additionalInterfaces: [{ url, transport: "JSONRPC" }],
  version: card.version,
  capabilities: { streaming: true, pushNotifications: false, stateTransitionHistory: false },
  securitySchemes: secured
    ? { bearer: { type: "http", scheme: "bearer", description: "a gateway API key (COLONY_GATEWAY_KEYS)" } }
    : {},
  security: secured ? [{ bearer: [] }] : [],
  defaultInputModes: card.defaultInputModes,
  defaultOutputModes: card.defaultOutputModes,
  skills: card.skills.map(({ description, id, name, tags }) => ({ id, name, description, tags }))
})
