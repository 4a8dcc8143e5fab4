/**
 * The simulated provider: deterministic answers derived from the request, so that demos and tests
 * run without a model. It answers chat, tool calls and structured output; every text it makes is
 * labelled `SIMULATED_LABEL`.
 */
import { Arbitrary, Effect, Either, FastCheck, Schema, Stream } from "effect"
import type { ChatRequest, ResponseFormat, ToolDefinition } from "./model/messages.js"
import { ChatResponse, ToolCall, Usage } from "./model/messages.js"
import { jsonSchemaOf, type Provider, toolParametersOf, type WireEvent } from "./provider.js"
import { neutralAnswer, partsAnswer, toolResultSentence } from "./simulatedText.js"

/** See `LanguageModel.SIMULATED_LABEL`. */
export const SIMULATED_LABEL = "[simulated]"

const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * Rough token count used by the simulated provider: about four characters per token, as for
 * English text with common tokenizers.
 */
const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

type JsonSchemaNode = { readonly [key: string]: unknown }

const asNode = (value: unknown): JsonSchemaNode | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as JsonSchemaNode : undefined

const numberField = (node: JsonSchemaNode, key: string): number | undefined =>
  typeof node[key] === "number" ? node[key] as number : undefined

/** See `LanguageModel.sampleJson`. */
export const sampleJson = (
  schema: unknown,
  options: {
    readonly label?: string | undefined
    readonly seed?: number | undefined
    /**
     * The request's text. Given, choices (`enum`, `anyOf` of `const`s) go to the option whose
     * value, title or description shares the most words with it, function words ("the", "for")
     * aside (an array of choices gets every option that shares any; none sharing, the first),
     * and a string with a `pattern` gets the first part of the text that matches it.
     */
    readonly prompt?: string | undefined
    /** with `prompt`: other strings are the prompt itself (tool arguments) instead of a label */
    readonly stringsFromPrompt?: boolean | undefined
  } = {}
): unknown => {
  const label = options.label ?? SIMULATED_LABEL
  const seed = options.seed ?? 0
  const prompt = options.prompt
  const asked = prompt === undefined ? undefined : new Set(words(prompt))
  const root = asNode(schema) ?? {}
  const definitions = asNode(root["$defs"]) ?? asNode(root["definitions"]) ?? {}
  const resolve = (value: unknown, depth = 0): JsonSchemaNode | undefined => {
    const node = asNode(value)
    const ref = node?.["$ref"]
    if (typeof ref !== "string" || depth > 8) return node
    return resolve(definitions[ref.replace(/^#\/(\$defs|definitions)\//, "")], depth + 1)
  }
  // The options of a choice node, each with how many words it shares with the prompt.
  const scoredChoices = (node: JsonSchemaNode): Array<{ value: unknown; score: number }> | undefined => {
    if (asked === undefined) return undefined
    const score = (text: string) => words(text).filter((w) => asked.has(w)).length
    if (Array.isArray(node["enum"]) && node["enum"].length > 0) {
      return node["enum"].map((value) => ({ value, score: score(String(value)) }))
    }
    for (const union of ["anyOf", "oneOf"] as const) {
      const members = node[union]
      if (!Array.isArray(members) || members.length === 0) continue
      // a member is one value: `{ const }`, or `{ enum: [value] }` as Effect writes a literal
      const valueOf = (m: JsonSchemaNode | undefined): { value: unknown } | undefined =>
        m === undefined
          ? undefined
          : "const" in m
          ? { value: m["const"] }
          : Array.isArray(m["enum"]) && m["enum"].length === 1
          ? { value: m["enum"][0] }
          : undefined
      const resolved = members.map((m) => resolve(m))
      const values = resolved.map(valueOf)
      if (!values.every((v) => v !== undefined)) return undefined
      return resolved.map((m, i) => ({
        value: values[i]!.value,
        score: score([values[i]!.value, m!["title"], m!["description"]].filter((t) => typeof t === "string").join(" "))
      }))
    }
    return undefined
  }
  const go = (value: unknown, key: string, depth: number): unknown => {
    const node = asNode(value)
    if (node === undefined) return `${label} ${key}`
    const ref = node["$ref"]
    if (typeof ref === "string") {
      const target = definitions[ref.replace(/^#\/(\$defs|definitions)\//, "")]
      return depth > 8 ? null : go(target, key, depth + 1)
    }
    if ("const" in node) return node["const"]
    const choices = scoredChoices(node)
    if (choices !== undefined) {
      const best = choices.reduce((a, b) => (b.score > a.score ? b : a))
      if (best.score > 0) return best.value
    }
    if (Array.isArray(node["enum"]) && node["enum"].length > 0) return node["enum"][seed % node["enum"].length]
    for (const union of ["anyOf", "oneOf"] as const) {
      const members = node[union]
      if (Array.isArray(members) && members.length > 0) {
        const preferred = members.find((m) => asNode(m)?.["type"] !== "null") ?? members[0]
        return go(preferred, key, depth + 1)
      }
    }
    if (Array.isArray(node["allOf"]) && node["allOf"].length > 0) return go(node["allOf"][0], key, depth + 1)
    const declared = node["type"]
    const type = Array.isArray(declared) ? declared.find((t) => t !== "null") ?? declared[0] : declared
    switch (type) {
      case "string": {
        const max = numberField(node, "maxLength") ?? Number.POSITIVE_INFINITY
        const min = numberField(node, "minLength") ?? 0
        const pattern = node["pattern"]
        if (prompt !== undefined && typeof pattern === "string") {
          const found = matchIn(prompt, pattern)
          if (found !== undefined) return found
        }
        const base = prompt !== undefined && options.stringsFromPrompt === true && prompt.trim().length > 0
          ? prompt.replace(/\s+/g, " ").trim()
          : `${label} ${key}`
        const fitted = base.length > max ? base.slice(0, max) : base
        return fitted.length < min ? fitted.padEnd(min, ".") : fitted
      }
      case "integer":
      case "number": {
        const low = numberField(node, "minimum") ??
          (numberField(node, "exclusiveMinimum") === undefined ? undefined : numberField(node, "exclusiveMinimum")! + 1)
        const high = numberField(node, "maximum") ??
          (numberField(node, "exclusiveMaximum") === undefined ? undefined : numberField(node, "exclusiveMaximum")! - 1)
        const wanted = (seed % 9) + 1
        const clamped = Math.min(high ?? wanted, Math.max(low ?? wanted, wanted))
        return type === "integer" ? Math.ceil(clamped) : clamped
      }
      case "boolean":
        return seed % 2 === 0
      case "null":
        return null
      case "array": {
        if (depth > 8) return []
        const items = node["items"]
        if (Array.isArray(items)) return items.map((item, i) => go(item, `${key}[${i}]`, depth + 1))
        const itemNode = resolve(items)
        const itemChoices = itemNode === undefined ? undefined : scoredChoices(itemNode)
        const mentioned = (itemChoices ?? []).filter((c) => c.score > 0).map((c) => c.value)
        if (mentioned.length > 0) return mentioned.slice(0, numberField(node, "maxItems") ?? mentioned.length)
        const count = Math.min(numberField(node, "maxItems") ?? 1, Math.max(numberField(node, "minItems") ?? 0, 1))
        return Array.from({ length: count }, (_, i) => go(items, `${key} ${i + 1}`, depth + 1))
      }
      case "object": {
        if (depth > 8) return {}
        const properties = asNode(node["properties"]) ?? {}
        return Object.fromEntries(
          Object.entries(properties).map(([name, property]) => [name, go(property, name, depth + 1)])
        )
      }
      default:
        return `${label} ${key}`
    }
  }
  return go(root, "value", 0)
}

/** The first part of `text` that `pattern` (a JSON Schema regular expression) matches. */
const matchIn = (text: string, pattern: string): string | undefined => {
  try {
    const unanchored = pattern.replace(/^\^/, "").replace(/\$$/, "")
    return new RegExp(unanchored).exec(text)?.[0]
  } catch {
    return undefined
  }
}

/**
 * A value (in its JSON form) that `schema` decodes: the readable `sampleJson` example when it
 * fits, otherwise a seeded arbitrary value, which satisfies refinements the sampler ignores.
 * `jsonSchema` is what the sampler reads when the wire contract is not derived from `schema`
 * (a tool that carries its own JSON Schema).
 */
const exampleFor = (
  schema: Schema.Schema.AnyNoContext,
  seed: number,
  fromPrompt?: { readonly prompt: string; readonly stringsFromPrompt: boolean },
  jsonSchema?: Record<string, unknown>
): unknown => {
  const readable = readableFor(schema, seed, fromPrompt, jsonSchema)
  if (readable !== undefined) return readable
  try {
    const [value] = FastCheck.sample(Arbitrary.make(schema), { seed, numRuns: 1 })
    return Schema.encodeSync(schema)(value)
  } catch {
    return {}
  }
}

/** The readable `sampleJson` example of `schema`, when it fits. */
const readableFor = (
  schema: Schema.Schema.AnyNoContext,
  seed: number,
  fromPrompt?: { readonly prompt: string; readonly stringsFromPrompt: boolean },
  jsonSchema?: Record<string, unknown>
): unknown => {
  try {
    const readable = sampleJson(jsonSchema ?? jsonSchemaOf(schema), { seed, ...fromPrompt })
    return Either.isRight(Schema.decodeUnknownEither(schema)(readable)) ? readable : undefined
  } catch {
    // Schemas without a JSON Schema form still have an Arbitrary (see exampleFor).
    return undefined
  }
}

/**
 * What a tool needs that the request does not say: its parameters with a `pattern` nothing in
 * `prompt` matches, by their descriptions (or names).
 */
const missingDetails = (parameters: Record<string, unknown>, prompt: string): ReadonlyArray<string> => {
  const properties = asNode(parameters["properties"]) ?? {}
  return Object.entries(properties).flatMap(([name, value]) => {
    const node = asNode(value)
    const pattern = node?.["pattern"]
    if (typeof pattern !== "string" || matchIn(prompt, pattern) !== undefined) return []
    return [typeof node?.["description"] === "string" ? node["description"] as string : name]
  })
}

// Words that say nothing about what a text is about: counted, "the" or "for" would tie every
// choice with every request.
const functionWords = new Set([
  "about", "again", "all", "also", "and", "any", "are", "been", "being", "but", "can", "could", "did", "does",
  "doing", "each", "for", "from", "had", "has", "have", "her", "him", "his", "how", "into", "its", "just", "more",
  "most", "not", "off", "only", "other", "our", "out", "over", "own", "same", "she", "should", "some", "such",
  "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "too", "under", "very",
  "was", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "yet", "you",
  "your"
])

const words = (text: string): ReadonlyArray<string> =>
  text
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 2 && !functionWords.has(w))
    // a plural matches its singular ("orders" and "order")
    .map((w) => w.length > 3 && w.endsWith("s") && !w.endsWith("ss") ? w.slice(0, -1) : w)

/** The tools, those sharing most words with the prompt first (ties keep their order). */
const rankTools = (tools: ReadonlyArray<ToolDefinition>, prompt: string): ReadonlyArray<ToolDefinition> => {
  const asked = new Set(words(prompt))
  return tools
    .map((tool, index) => ({
      tool,
      index,
      score: words(`${tool.name} ${tool.description}`).filter((w) => asked.has(w)).length
    }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((ranked) => ranked.tool)
}

/** See `LanguageModel.simulate`. */
export const simulate = (request: ChatRequest): ChatResponse => {
  const lastUserIndex = request.messages.map((m) => m.role).lastIndexOf("user")
  const lastUser = lastUserIndex === -1 ? "" : request.messages[lastUserIndex]!.content
  const toolResults = request.messages.slice(lastUserIndex + 1).filter((m) => m.role === "tool")
  const transcript = request.messages.map((m) => `${m.role}:${m.content}`).join("\n")
  const hash = fnv1a(transcript)
  const respond = (text: string, extra: { toolCalls?: ReadonlyArray<ToolCall>; finishReason?: string } = {}) => {
    const promptTokens = estimateTokens(transcript)
    const completionTokens = estimateTokens(text + (extra.toolCalls ?? []).map((c) => c.arguments).join(""))
    return new ChatResponse({
      text,
      model: request.model,
      modelId: "simulated",
      simulated: true,
      usage: new Usage({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }),
      ...extra
    })
  }

  const answerInFormat = (format: ResponseFormat) =>
    respond(JSON.stringify(exampleFor(format.schema, hash, { prompt: lastUser, stringsFromPrompt: false }, format.jsonSchema)))

  const tools = request.tools ?? []
  if (tools.length > 0 && request.toolChoice !== "none" && toolResults.length === 0) {
    // Like a model, call the most relevant tool whose arguments the request supplies; when none
    // can be called, ask for what is missing instead of inventing it (unless a call is required).
    const fromPrompt = { prompt: lastUser, stringsFromPrompt: true }
    const call = (tool: ToolDefinition, args: unknown) =>
      respond("", {
        toolCalls: [new ToolCall({ id: `call_sim_${hash.toString(16)}`, name: tool.name, arguments: JSON.stringify(args) })],
        finishReason: "tool_calls"
      })
    const ranked = rankTools(tools, lastUser)
    for (const tool of ranked) {
      const args = readableFor(tool.parameters, hash, fromPrompt, toolParametersOf(tool))
      if (args !== undefined) return call(tool, args)
    }
    const best = ranked[0]!
    if (request.toolChoice === "required") {
      return call(best, exampleFor(best.parameters, hash, fromPrompt, toolParametersOf(best)))
    }
    const missing = missingDetails(toolParametersOf(best), lastUser)
    // held to a response format, a model answers in it rather than asking back in prose
    if (request.responseFormat !== undefined) return answerInFormat(request.responseFormat)
    return respond(
      `${SIMULATED_LABEL} To ${best.description.charAt(0).toLowerCase()}${best.description.slice(1)}, I need ` +
        `${missing.length > 0 ? missing.join("; ") : "a few more details"}. Could you tell me?`
    )
  }
  if (request.responseFormat !== undefined) return answerInFormat(request.responseFormat)
  if (toolResults.length > 0) {
    const toolNames = new Map(
      request.messages.flatMap((m) => m.toolCalls ?? []).map((call) => [call.id, call.name] as const)
    )
    const said = toolResults.map((m) =>
      toolResultSentence(m.toolCallId === undefined ? undefined : toolNames.get(m.toolCallId), m.content)
    )
    return respond(`${SIMULATED_LABEL} ${said.join(" ")}`)
  }
  const parts = partsAnswer(lastUser, SIMULATED_LABEL)
  return respond(`${SIMULATED_LABEL} ${parts ?? neutralAnswer(hash, request.messages.length)}`)
}

/** The simulated provider: `simulate`, and for streams its text in word-sized pieces. */
export const simulatedProvider: Provider = {
  complete: (_resolved, request) => Effect.sync(() => simulate(request)),
  open: (_resolved, request) =>
    Effect.sync(() => {
      const response = simulate(request)
      const pieces = response.text.match(/\S+\s*|\s+/g) ?? []
      const events: Array<WireEvent> = pieces.map((text) => ({ text }))
      events.push({
        toolCalls: response.toolCalls.map((call, index) => ({ index, id: call.id, name: call.name, arguments: call.arguments })),
        finishReason: response.finishReason,
        usage: response.usage,
        modelId: response.modelId
      })
      return Stream.fromIterable(events)
    })
}
