/**
 * Aggregation strategies: combine the participants' answers. Pure functions over plain data.
 *
 * Text answers are combined by `concatenate` or by a coordinator's synthesis (`synthesisPrompt`).
 * Choices are combined by votes: `weightedVote` (and `majorityVote`, its unweighted case) and
 * `quorum`; numbers by `weightedAverage`. Reading a choice or a number out of free text is
 * `readChoice` / `readNumber`: deterministic, and each says how it read the answer, so a result
 * built on a fallback reading is visible as such.
 *
 * @since 0.1.0
 */
import { Hash } from "effect"

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
 * How a choice or number was read from an answer: from an explicit `CHOICE:`/`VALUE:` line, from
 * the only option the answer mentions, or — when neither is there — by a deterministic fallback.
 *
 * @since 0.1.0
 * @category models
 */
export type Reading = "explicit" | "mention" | "fallback"

/**
 * The instruction appended to a question with options, so a model answers in a readable way.
 *
 * @since 0.1.0
 */
export const choiceInstruction = (options: ReadonlyArray<string>): string =>
  `Options: ${options.join(" | ")}. End your answer with a line "CHOICE: " followed by exactly one option.`

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
const normalize = (text: string) => text.trim().replace(/\s+/g, " ").toLowerCase()

/**
 * Read which of `options` an answer chose: the last `CHOICE: x` line naming an option wins;
 * otherwise the single option the answer mentions; otherwise (no option or several mentioned, as
 * in a simulated answer that echoes the question) a choice derived from a hash of the answer, so
 * the same answer always reads the same. `options` must not be empty.
 *
 * @since 0.1.0
 */
export const readChoice = (
  answer: string,
  options: ReadonlyArray<string>
): { readonly choice: string; readonly how: Reading } => {
  if (options.length === 0) throw new Error("Aggregate.readChoice: no options")
  const byName = new Map(options.map((option) => [normalize(option), option]))
  const explicit = [...answer.matchAll(/\bCHOICE\s*:\s*([^\n]+)/gi)]
    .map((m) => byName.get(normalize(m[1]!.replace(/^["'*`]+|["'*`.!]+$/g, ""))))
    .filter((option): option is string => option !== undefined)
  if (explicit.length > 0) return { choice: explicit[explicit.length - 1]!, how: "explicit" }
  const mentioned = options.filter((option) =>
    new RegExp(`(^|[^\\p{L}\\p{N}])${escape(option)}($|[^\\p{L}\\p{N}])`, "iu").test(answer)
  )
  if (mentioned.length === 1) return { choice: mentioned[0]!, how: "mention" }
  return { choice: options[(Hash.string(answer) >>> 0) % options.length]!, how: "fallback" }
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
