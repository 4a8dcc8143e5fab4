/**
 * Every contender, in the order the tables list them. The raw client comes first: the others
 * are measured against it.
 */
import { colony, colonyWarm } from "./colony.js"
import type { Contender } from "./Contender.js"
import { langgraph } from "./langgraph.js"
import { mastra } from "./mastra.js"
import { openaiAgents } from "./openaiAgents.js"
import { raw } from "./raw.js"

export const contenders: ReadonlyArray<Contender> = [raw, colony, colonyWarm, langgraph, openaiAgents, mastra]
