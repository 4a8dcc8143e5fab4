/**
 * Task sets with checkable answers, for measuring what a collaboration pattern buys (`Eval`).
 * Generated sets are seeded, so the same name, size and seed always give the same tasks:
 * arithmetic as used to test multi-agent debate (six two-digit numbers, `a+b*c+d-e*f`, after Du
 * et al., "Improving Factuality and Reasoning in Language Models through Multiagent Debate",
 * 2023), multi-step word problems with exact numeric answers, multiple choice, and decomposable
 * tasks (independent sub-questions, each checked). An application offers sets of its own as
 * `Generator`s by name. A user's own set is a JSONL file of `{ "task": ..., "answer": ... }` lines
 * (`fromJsonl`).
 *
 * @since 0.1.0
 */
import { Either, ParseResult, Schema } from "effect"

/**
 * One task and its answer. `domain` is what an agent must be good at to answer it (capability-based
 * assignment sends it to an expert); `options`, when given, are the choices the answer is one of.
 *
 * @since 0.1.0
 * @category models
 */
export class Task extends Schema.Class<Task>("@colony/agents/TaskSet/Task")({
  task: Schema.NonEmptyTrimmedString,
  answer: Schema.String,
  domain: Schema.optionalWith(Schema.String, { default: () => "general" }),
  options: Schema.optional(Schema.NonEmptyArray(Schema.String))
}) {}

/**
 * A task file that cannot be read: which line, and what is wrong with it.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskFileError extends Schema.TaggedError<TaskFileError>()("TaskFileError", {
  file: Schema.String,
  line: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return `${this.file} line ${this.line}: ${this.reason}. Each line must be a JSON object ` +
      `{"task": "...", "answer": "..."} (optional "domain" and "options"); fix the line or remove it.`
  }
}

/**
 * A name for a task set that `parseSpec` did not recognise.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownTaskSet extends Schema.TaggedError<UnknownTaskSet>()("UnknownTaskSet", {
  spec: Schema.String,
  /** the names of the sets there are (default: the generated sets, `generatedNames`) */
  names: Schema.optional(Schema.Array(Schema.String))
}) {
  override get message() {
    return `"${this.spec}" names no task set; write <set>:<count> with set one of ${(this.names ?? generatedNames).join(", ")} ` +
      `(e.g. arithmetic:200), or the path of a .jsonl file of {"task", "answer"} lines`
  }
}

// A task file's answer may be written as a number; it is compared as text after normalising.
const Line = Schema.Struct({
  task: Schema.NonEmptyTrimmedString,
  answer: Schema.Union(Schema.String, Schema.Number),
  domain: Schema.optional(Schema.String),
  options: Schema.optional(Schema.NonEmptyArray(Schema.String))
})
const decodeLine = Schema.decodeUnknownEither(Line, { onExcessProperty: "ignore" })

/**
 * The tasks of a JSONL text (blank lines are skipped); the first line that is not a task is an
 * error naming it, so a file is used whole or not at all.
 *
 * @since 0.1.0
 */
export const fromJsonl = (text: string, file: string): Either.Either<ReadonlyArray<Task>, TaskFileError> => {
  const tasks: Array<Task> = []
  const lines = text.split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === "") continue
    const fail = (reason: string) => Either.left(new TaskFileError({ file, line: i + 1, reason }))
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch (error) {
      return fail(`not JSON (${error instanceof Error ? error.message : String(error)})`)
    }
    const decoded = decodeLine(json)
    if (Either.isLeft(decoded)) {
      const issues = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
      return fail(issues.map((issue) => `${issue.path.length === 0 ? "" : `${issue.path.join(".")}: `}${issue.message}`).join("; "))
    }
    const { answer, domain, options, task } = decoded.right
    tasks.push(new Task({ task, answer: String(answer), ...(domain === undefined ? {} : { domain }), ...(options === undefined ? {} : { options }) }))
  }
  if (tasks.length === 0) return Either.left(new TaskFileError({ file, line: 1, reason: "the file holds no task" }))
  return Either.right(tasks)
}

// --- checking ---

const numbersIn = (text: string): ReadonlyArray<number> =>
  [...text.replace(/(\d),(\d{3})\b/g, "$1$2").matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]))

const isNumeric = (text: string) => /^\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*\s*$/.test(text)

const normalize = (text: string) => text.trim().replace(/\s+/g, " ").replace(/[.!]$/, "").toLowerCase()

/**
 * Whether `given` (a final answer, already read out of a reply) is the task's answer: numbers
 * (and lists of numbers, for decomposable tasks) compare by value and order, anything else as
 * text without regard to case or surrounding space.
 *
 * @since 0.1.0
 */
export const isCorrect = (task: Task, given: string): boolean => {
  if (isNumeric(task.answer)) {
    const expected = numbersIn(task.answer)
    const got = numbersIn(given)
    return got.length === expected.length && got.every((n, i) => Math.abs(n - expected[i]!) < 1e-9)
  }
  return normalize(given) === normalize(task.answer)
}

// --- generated sets ---

/**
 * A seeded pseudo-random source in [0, 1) (mulberry32): small, fast and the same on every platform.
 *
 * @since 0.1.0
 */
export const random = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const between = (next: () => number, low: number, high: number) => low + Math.floor(next() * (high - low + 1))

/**
 * `count` expressions `a+b*c+d-e*f` over two-digit numbers, answered exactly.
 *
 * @since 0.1.0
 */
export const arithmetic = (count: number, seed = 1): ReadonlyArray<Task> => {
  const next = random(seed)
  return Array.from({ length: count }, () => {
    const [a, b, c, d, e, f] = Array.from({ length: 6 }, () => between(next, 10, 99)) as [number, number, number, number, number, number]
    return new Task({
      task: `What is the result of ${a}+${b}*${c}+${d}-${e}*${f}?`,
      answer: String(a + b * c + d - e * f),
      domain: "arithmetic"
    })
  })
}

const wordTemplates: ReadonlyArray<(next: () => number) => { readonly task: string; readonly answer: number }> = [
  (next) => {
    const price = between(next, 2, 9)
    const count = between(next, 3, 12)
    const paid = Math.ceil((price * count + 1) / 10) * 10 + 10 * between(next, 0, 2)
    return {
      task: `A pen costs ${price} dollars. Maria buys ${count} pens and pays with ${paid} dollars. How many dollars of change does she get?`,
      answer: paid - price * count
    }
  },
  (next) => {
    const [v1, h1, v2, h2] = [between(next, 40, 90), between(next, 2, 5), between(next, 40, 90), between(next, 1, 4)]
    return {
      task: `A train runs at ${v1} km/h for ${h1} hours, then at ${v2} km/h for ${h2} hours. How many kilometres does it cover in all?`,
      answer: v1 * h1 + v2 * h2
    }
  },
  (next) => {
    const [perBox, boxes, rotten] = [between(next, 12, 30), between(next, 3, 9), between(next, 2, 11)]
    return {
      task: `A crate holds ${boxes} boxes of ${perBox} apples each, and ${rotten} of the apples are rotten. How many apples are good?`,
      answer: perBox * boxes - rotten
    }
  },
  (next) => {
    const [start, weekly, weeks, spent] = [between(next, 20, 90), between(next, 5, 15), between(next, 3, 10), between(next, 5, 40)]
    return {
      task: `Tom has ${start} dollars, saves ${weekly} dollars a week for ${weeks} weeks, then spends ${spent} dollars. How many dollars does he have?`,
      answer: start + weekly * weeks - spent
    }
  }
]

/**
 * `count` multi-step word problems, each with an exact whole-number answer.
 *
 * @since 0.1.0
 */
export const wordProblems = (count: number, seed = 1): ReadonlyArray<Task> => {
  const next = random(seed)
  return Array.from({ length: count }, (_, i) => {
    const { answer, task } = wordTemplates[i % wordTemplates.length]!(next)
    return new Task({ task, answer: String(answer), domain: "word-problems" })
  })
}

const isPrime = (n: number) => {
  if (n < 2) return false
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false
  return true
}

/** Four distinct two-digit numbers, exactly one of which has the property. */
const fourWithOne = (next: () => number, has: (n: number) => boolean): { readonly options: Array<string>; readonly answer: string } => {
  let right = between(next, 10, 99)
  while (!has(right)) right = between(next, 10, 99)
  const wrong = new Set<number>()
  while (wrong.size < 3) {
    const n = between(next, 10, 99)
    if (!has(n) && n !== right) wrong.add(n)
  }
  const options = [...wrong].map(String)
  options.splice(between(next, 0, 3), 0, String(right))
  return { options, answer: String(right) }
}

/**
 * `count` multiple-choice questions with four options and one right one.
 *
 * @since 0.1.0
 */
export const multipleChoice = (count: number, seed = 1): ReadonlyArray<Task> => {
  const next = random(seed)
  const kinds = [
    { question: "Which of these numbers is prime?", has: isPrime },
    { question: "Which of these numbers is divisible by 7?", has: (n: number) => n % 7 === 0 },
    { question: "Which of these numbers is a perfect square?", has: (n: number) => Number.isInteger(Math.sqrt(n)) }
  ]
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length]!
    const { answer, options } = fourWithOne(next, kind.has)
    return new Task({ task: `${kind.question} Options: ${options.join(", ")}.`, answer, domain: "multiple-choice", options: options as [string, ...Array<string>] })
  })
}

/**
 * `count` tasks of three independent sub-questions; the answer is the three results in order.
 *
 * @since 0.1.0
 */
export const decomposable = (count: number, seed = 1): ReadonlyArray<Task> => {
  const next = random(seed)
  return Array.from({ length: count }, () => {
    const parts = Array.from({ length: 3 }, (_, k) => {
      const [x, y] = [between(next, 10, 99), between(next, 10, 99)]
      return k === 0 ? { q: `${x}+${y}`, a: x + y } : k === 1 ? { q: `${x}*${y % 10 + 2}`, a: x * (y % 10 + 2) } : { q: `${x}-${y}`, a: x - y }
    })
    return new Task({
      task: `Answer each part: (1) ${parts[0]!.q}, (2) ${parts[1]!.q}, (3) ${parts[2]!.q}. Give the three results in order, separated by commas.`,
      answer: parts.map((p) => p.a).join(", "),
      domain: "decomposable"
    })
  })
}

/**
 * Arithmetic, word problems and multiple choice in turn: a set where agents expert in different
 * domains complement each other.
 *
 * @since 0.1.0
 */
export const mixed = (count: number, seed = 1): ReadonlyArray<Task> => {
  const sets = [arithmetic, wordProblems, multipleChoice].map((make, k) => make(Math.ceil(count / 3), seed + k))
  return Array.from({ length: count }, (_, i) => sets[i % 3]![Math.floor(i / 3)]!)
}

/**
 * A named task set that makes its tasks on demand: `count` tasks, the same ones for the same seed.
 * The generated sets here are generators; an application contributes its own (`colony eval`
 * offers them by name beside these).
 *
 * @since 0.1.0
 * @category models
 */
export interface Generator {
  /** one line for `--tasks` help: what the tasks ask */
  readonly description: string
  readonly make: (count: number, seed: number) => ReadonlyArray<Task>
}

/**
 * The generated sets, by the name `parseSpec` knows them by.
 *
 * @since 0.1.0
 */
export const generators: Readonly<Record<string, Generator>> = {
  arithmetic: { description: "a+b*c+d-e*f over six two-digit numbers", make: arithmetic },
  "word-problems": { description: "multi-step word problems with whole-number answers", make: wordProblems },
  "multiple-choice": { description: "four numbers, one with the property asked", make: multipleChoice },
  decomposable: { description: "three sub-questions, answered in order", make: decomposable },
  mixed: { description: "arithmetic, word problems and multiple choice in turn", make: mixed }
}

/**
 * The names `parseSpec` knows.
 *
 * @since 0.1.0
 */
export const generatedNames: ReadonlyArray<string> = Object.keys(generators)

/**
 * A set from `<name>:<count>` (`arithmetic:200`; the count defaults to 100) among `sets` (default:
 * the generated sets), or `undefined` when the spec names none of them (it may be a file).
 *
 * @since 0.1.0
 */
export const parseSpec = (
  spec: string,
  seed = 1,
  sets: Readonly<Record<string, Generator>> = generators
): ReadonlyArray<Task> | undefined => {
  const match = /^([a-z][a-z0-9-]*)(?::(\d+))?$/.exec(spec.trim())
  if (match === null || !Object.hasOwn(sets, match[1]!)) return undefined
  const count = match[2] === undefined ? 100 : Number(match[2])
  return count > 0 ? sets[match[1]!]!.make(count, seed) : undefined
}
