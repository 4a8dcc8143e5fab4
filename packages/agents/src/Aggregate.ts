/**
 * Aggregation strategies: combine the participants' answers. Pure functions over plain data.
 *
 * Text answers are combined by `concatenate` or by a coordinator's synthesis (`synthesisPrompt`).
 * Choices are combined by votes: `weightedVote` (and `majorityVote`, its unweighted case) and
 * `quorum`; numbers by `weightedAverage`. Answers are read as data: a model is asked to end with a
 * JSON `{"answer": ...}` (`answerInstruction`), and `readAnswer` / `readChoice` / `readNumber`
 * decode it and say how they read it. An answer that states no readable choice is an abstention,
 * never a choice made up for it.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * One worker's part of a result.
 *
 * @since 0.1.0
 * @category models
 */
export interface Part {
  readonly subtask: string
  readonly text: string
}

/**
 * Concatenation: the parts in subtask order, each under its subtask.
 *
 * @since 0.1.0
 */
export const concatenate = (parts: ReadonlyArray<Part>): string =>
  parts.map((part, i) => `${i + 1}. ${part.subtask}\n   ${part.text}`).join("\n")

/**
 * The prompt a coordinator gets to synthesise the parts into one answer.
 *
 * @since 0.1.0
 */
export const synthesisPrompt = (task: string, parts: ReadonlyArray<Part>): string =>
  `Task: ${task}\n\nCombine these partial answers into one coherent answer:\n${concatenate(parts)}`

// --- votes ---

/**
 * @since 0.1.0
 * @category models
 */
export interface Vote {
  readonly choice: string
  readonly weight: number
}

/**
 * The outcome of a vote: every choice with its total weight (in order of first vote), and the
 * winner, absent only when nobody voted with positive weight.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tally {
  readonly winner: string | undefined
  readonly weight: number
  readonly counts: ReadonlyArray<Vote>
  /** another choice had the same total weight as the winner */
  readonly tie: boolean
}

/**
 * Weighted vote: the choice with the largest total weight wins; a tie goes to the choice that was
 * voted for first, so the outcome is deterministic given the voters' order.
 *
 * @since 0.1.0
 */
export const weightedVote = (votes: ReadonlyArray<Vote>): Tally => {
  const totals = new Map<string, number>()
  for (const vote of votes) {
    if (!(vote.weight > 0)) continue
    totals.set(vote.choice, (totals.get(vote.choice) ?? 0) + vote.weight)
  }
  const counts = [...totals].map(([choice, weight]) => ({ choice, weight }))
  let winner: Vote | undefined
  for (const count of counts) if (winner === undefined || count.weight > winner.weight) winner = count
  return {
    winner: winner?.choice,
    weight: winner?.weight ?? 0,
    counts,
    tie: winner !== undefined && counts.filter((c) => c.weight === winner!.weight).length > 1
  }
}

/**
 * Majority (plurality) vote: one vote each.
 *
 * @since 0.1.0
 */
export const majorityVote = (choices: ReadonlyArray<string>): Tally =>
  weightedVote(choices.map((choice) => ({ choice, weight: 1 })))

/**
 * The share of voters that hold the most common choice, 0 with no voters.
 *
 * @since 0.1.0
 */
export const agreement = (choices: ReadonlyArray<string>): number =>
  choices.length === 0 ? 0 : majorityVote(choices).weight / choices.length

/**
 * The smallest quorum that two disagreeing groups cannot both reach: a strict majority of `total`.
 * It tolerates `total - quorum` failed voters.
 *
 * @since 0.1.0
 */
export const majorityQuorum = (total: number): number => Math.floor(total / 2) + 1

/**
 * Quorum consensus among `total` voters of whom only `choices` answered: a choice held by at
 * least `quorum` voters is decided; otherwise the result says how far it got and how many voters
 * are missing. With `quorum > total / 2` no two choices can both be decided.
 *
 * @since 0.1.0
 */
export const quorum = (
  choices: ReadonlyArray<string>,
  options: { readonly total: number; readonly quorum?: number | undefined }
):
  | { readonly _tag: "Reached"; readonly choice: string; readonly count: number; readonly quorum: number }
  | {
    readonly _tag: "NotReached"
    readonly quorum: number
    readonly counts: ReadonlyArray<Vote>
    readonly missing: number
  } =>
{
  const needed = options.quorum ?? majorityQuorum(options.total)
  const tally = majorityVote(choices)
  if (tally.winner !== undefined && tally.weight >= needed && !tally.tie) {
    return { _tag: "Reached", choice: tally.winner, count: tally.weight, quorum: needed }
  }
  return { _tag: "NotReached", quorum: needed, counts: tally.counts, missing: Math.max(0, options.total - choices.length) }
}

/**
 * Weighted average of numbers; `undefined` when the weights sum to zero.
 *
 * @since 0.1.0
 */
export const weightedAverage = (
  values: ReadonlyArray<{ readonly value: number; readonly weight: number }>
): number | undefined => {
  let sum = 0
  let weights = 0
  for (const { value, weight } of values) {
    if (!(weight > 0) || !Number.isFinite(value)) continue
    sum += value * weight
    weights += weight
  }
  return weights === 0 ? undefined : sum / weights
}

// --- reading answers ---

/**
 * How a choice or number was read from an answer: from a JSON `{"answer": ...}` object
 * (`structured`, what `answerInstruction` asks for), from an `ANSWER:`/`CHOICE:`/`VALUE:` line
 * (`explicit`), from the only option the answer mentions (`mention`), or — for numbers only — the
 * first number in the text (`fallback`). A choice that cannot be read is no reading at all: the
 * voter abstains.
 *
 * @since 0.1.0
 * @category models
 */
export type Reading = "structured" | "explicit" | "mention" | "fallback"

/**
 * A final answer as structured output: what a model is asked to end its reply with, and what
 * `readAnswer` decodes.
 *
 * @since 0.1.0
 * @category models
 */
export const FinalAnswer = Schema.Struct({ answer: Schema.Union(Schema.String, Schema.Number) })

/**
 * The final answer as the structured output an agent is asked for (`Agent.AnswerFormat` fields):
 * `{"answer": ...}`, one of `options` when given. A model that supports JSON Schema output is held
 * to it; the text still passes through `readAnswer` / `readChoice`, so a reply that ignores it is
 * read as well as it can be, and abstains when it cannot.
 *
 * @since 0.1.0
 */
export const answerFormat = (options?: ReadonlyArray<string>) => ({
  name: "final_answer",
  description: options === undefined ? "the final answer" : "the final answer: exactly one of the options",
  jsonSchema: {
    type: "object",
    properties: {
      answer: options === undefined ? { type: ["string", "number"] } : { type: "string", enum: [...options] }
    },
    required: ["answer"],
    additionalProperties: false
  }
})

/**
 * The instruction appended to a question so a model answers in a readable way: its final answer
 * (one of `options`, when given) as a JSON object on the last line.
 *
 * @since 0.1.0
 */
export const answerInstruction = (options?: ReadonlyArray<string>): string =>
  (options === undefined ? "" : `Options: ${options.join(" | ")}. `) +
  `End your reply with one line of JSON, {"answer": <your final answer as a string>}, holding ` +
  (options === undefined ? "that answer alone." : "exactly one option.")

/**
 * The instruction appended to a question with options; see `answerInstruction`.
 *
 * @since 0.1.0
 */
export const choiceInstruction = (options: ReadonlyArray<string>): string => answerInstruction(options)

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
const normalize = (text: string) => text.trim().replace(/\s+/g, " ").toLowerCase()
const decodeFinal = Schema.decodeUnknownOption(Schema.parseJson(FinalAnswer))
const unquote = (text: string) => text.trim().replace(/^["'*`]+|["'*`.!]+$/g, "").trim()

/** Every final answer the text states, in order: JSON objects and ANSWER/CHOICE lines. */
const statedAnswers = (text: string): ReadonlyArray<{ readonly answer: string; readonly how: "structured" | "explicit" }> => {
  const found: Array<{ at: number; answer: string; how: "structured" | "explicit" }> = []
  for (const m of text.matchAll(/\{[^{}]*\}/g)) {
    const decoded = decodeFinal(m[0])
    if (decoded._tag === "Some") found.push({ at: m.index, answer: String(decoded.value.answer).trim(), how: "structured" })
  }
  for (const m of text.matchAll(/\b(?:ANSWER|CHOICE)\s*:\s*([^\n{]+)/gi)) {
    found.push({ at: m.index, answer: unquote(m[1]!), how: "explicit" })
  }
  return found.filter((f) => f.answer !== "").sort((a, b) => a.at - b.at).map(({ answer, how }) => ({ answer, how }))
}

/**
 * Read the final answer a reply states: the last JSON `{"answer": ...}` object or `ANSWER:` line.
 * `undefined` when it states none: the reply holds no readable answer.
 *
 * @since 0.1.0
 */
export const readAnswer = (text: string): { readonly answer: string; readonly how: Reading } | undefined =>
  statedAnswers(text).at(-1)

/**
 * Read which of `options` an answer chose: the last stated answer (see `readAnswer`) that names
 * an option; otherwise the single option the answer mentions; otherwise `undefined` — the answer
 * names no option or several (as a reply that echoes the question does), and its voter abstains.
 * `options` must not be empty.
 *
 * @since 0.1.0
 */
export const readChoice = (
  answer: string,
  options: ReadonlyArray<string>
): { readonly choice: string; readonly how: Reading } | undefined => {
  if (options.length === 0) throw new Error("Aggregate.readChoice: no options")
  const byName = new Map(options.map((option) => [normalize(option), option]))
  const stated = statedAnswers(answer).flatMap((s) => {
    const choice = byName.get(normalize(s.answer))
    return choice === undefined ? [] : [{ choice, how: s.how }]
  })
  if (stated.length > 0) return stated.at(-1)!
  const mentioned = options.filter((option) =>
    new RegExp(`(^|[^\\p{L}\\p{N}])${escape(option)}($|[^\\p{L}\\p{N}])`, "iu").test(answer)
  )
  return mentioned.length === 1 ? { choice: mentioned[0]!, how: "mention" } : undefined
}

/**
 * Read a number from an answer: the last `VALUE: n` line, otherwise the first number in the text
 * (`fallback`), otherwise `undefined`.
 *
 * @since 0.1.0
 */
export const readNumber = (answer: string): { readonly value: number; readonly how: Reading } | undefined => {
  const explicit = [...answer.matchAll(/\bVALUE\s*:\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)/gi)]
  if (explicit.length > 0) return { value: Number(explicit[explicit.length - 1]![1]), how: "explicit" }
  const any = /-?\d+(?:\.\d+)?/.exec(answer)
  return any ? { value: Number(any[0]), how: "fallback" } : undefined
}

/**
 * The labels a judge picks among when the candidates are free-text answers.
 *
 * @since 0.1.0
 */
export const candidateLabels = (count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => `candidate-${i + 1}`)

/**
 * The prompt a judge agent gets: the question and the candidates, labelled.
 *
 * @since 0.1.0
 */
export const judgePrompt = (task: string, candidates: ReadonlyArray<{ readonly label: string; readonly text: string }>): string =>
  `You judge a debate. Question: ${task}\n\n` +
  candidates.map((c) => `${c.label}: ${c.text}`).join("\n") +
  `\n\nPick the best. ${choiceInstruction(candidates.map((c) => c.label))}`
