/**
 * The prose of the simulated model: what it says after tools ran, and what it says when it has
 * nothing to go on. Plain functions over strings, so that `simulate` stays about choosing what to
 * answer and these about how the answer reads.
 */

/** How many characters of one tool result an answer quotes at most. */
export const RESULT_BUDGET = 240

/**
 * The start of `text` in at most `max` characters, cut only between units (`; `-separated fields
 * or sentences), else between words, with an ellipsis when anything was left out. A text whose
 * first word alone exceeds `max` is named by its length: a cut word would read as a different word.
 */
export const excerpt = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  if (flat.length <= max) return flat
  let end = 0
  for (const boundary of unitEnds(flat)) {
    if (boundary > max) break
    end = boundary
  }
  if (end === 0) {
    for (const boundary of wordEnds(flat)) {
      if (boundary > max) break
      end = boundary
    }
  }
  if (end === 0) return `a text of ${flat.length} characters`
  const kept = flat.slice(0, end).replace(/[,;:]+$/, "")
  return /[.!?]$/.test(kept) ? `${kept} …` : `${kept}…`
}

// Where a field or sentence ends: before the space after `;` or after sentence punctuation.
const unitEnds = function*(text: string): Generator<number> {
  for (const match of text.matchAll(/[;.!?](?= )/g)) yield match.index! + 1
}

const wordEnds = function*(text: string): Generator<number> {
  for (const match of text.matchAll(/ /g)) yield match.index!
}

/**
 * A tool result as text with fields: a JSON object's fields as `name: value`, a JSON array's
 * items, one after the other, so that `excerpt` cuts between them rather than inside one.
 */
const readable = (content: string): string => {
  const trimmed = content.trim()
  if (!/^[[{]/.test(trimmed)) return content
  try {
    const parsed: unknown = JSON.parse(trimmed)
    const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value))
    if (Array.isArray(parsed)) return parsed.map(show).join("; ")
    if (typeof parsed === "object" && parsed !== null) {
      return Object.entries(parsed).map(([key, value]) => `${key}: ${show(value)}`).join("; ")
    }
  } catch {
    // not JSON after all: quoted as the text it is
  }
  return content
}

const sentence = (text: string): string => (/[.!?…]$/.test(text) ? text : `${text}.`)

/**
 * One sentence saying what a tool's result holds. Runtimes report a failed call as a result that
 * starts with `error: ` (see `internal/agent/tools.ts`), which reads as the tool having failed.
 */
export const toolResultSentence = (tool: string | undefined, content: string): string => {
  const who = tool === undefined ? "A tool" : `The ${tool} tool`
  const failure = /^error:\s*/.exec(content)
  const body = failure === null ? content : content.slice(failure[0].length)
  if (body.trim() === "") return failure === null ? `${who} returned nothing.` : `${who} failed.`
  const said = excerpt(readable(body), RESULT_BUDGET)
  return sentence(`${who} ${failure === null ? "returned" : "failed"}: ${said}`)
}

/** How many characters of one quoted answer a combined answer keeps at most. */
const PART_BUDGET = 400

/**
 * The answer to a request that quotes earlier simulated answers, each on a line of its own (the
 * parts a coordinator is asked to combine): what those parts said, one after the other, stand-in
 * parts left out. The simulator recognises only its own `label`, never a format of the caller's.
 */
export const partsAnswer = (prompt: string, label: string): string | undefined => {
  const said = new Set<string>()
  for (const line of prompt.split("\n")) {
    const start = line.trimStart()
    const at = start.startsWith(label) ? 0 : /^\d+[.)]\s+/.exec(start)?.[0].length
    if (at === undefined || !start.startsWith(label, at)) continue
    const part = start.slice(at + label.length).trim()
    if (part === "" || isNeutral(part)) continue
    said.add(sentence(excerpt(part, PART_BUDGET)))
  }
  return said.size === 0 ? undefined : [...said].join(" ")
}

const neutralOpenings = [
  "No model is configured, so this is a stand-in answer.",
  "This is a placeholder answer from the simulated model.",
  "The simulated model answers here in place of a real one.",
  "A simulated model wrote this, not a real one.",
  "This answer stands in for a real model's."
] as const

/**
 * The answer when there are no tool results to report: it says it is a stand-in and how much it
 * read, and nothing about the request, so that no reader of the answer (a router, a vote, a judge)
 * finds words in it that only the request put there. `seed` picks among phrasings and a reply
 * number, so answers to different transcripts differ.
 */
export const neutralAnswer = (seed: number, messages: number): string =>
  `${neutralOpenings[seed % neutralOpenings.length]} ` +
  `It read ${messages} ${messages === 1 ? "message" : "messages"} of context (reply ${(seed % 9000) + 1000}).`

const isNeutral = (text: string): boolean => neutralOpenings.some((opening) => text.startsWith(opening))
