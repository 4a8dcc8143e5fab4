/**
 * @colony/runtime — the actor runtime for LLM agents.
 *
 * @since 0.1.0
 */
export * as Agent from "./Agent.js"
export * as AgentError from "./AgentError.js"
export * as AgentMemory from "./AgentMemory.js"
export * as Colony from "./Colony.js"
export * as ColonyError from "./ColonyError.js"
export * as Events from "./Events.js"
export * as LanguageModel from "./LanguageModel.js"
export * as Mcp from "./Mcp.js"
export * as Migrations from "./Migrations.js"
export * as ModelRegistry from "./ModelRegistry.js"
export * as SkillModel from "./SkillModel.js"
export * as Supervision from "./Supervision.js"
