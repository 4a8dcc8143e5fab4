/**
 * A simulated model with skill, for measuring what collaboration buys without a hosted model.
 * It is given the answer key of a task set and, per simulated agent (one model name each), the
 * probability of answering right in each task domain; everything else is a seeded draw. It is a
 * model of the *statistics* of agents, not of reasoning, and every reply says it is simulated.
 *
 * - A wrong answer is the task's one plausible mistake (a nearby number, another option), so
 *   wrong agents agree with each other: the hard case for a vote, and the one Condorcet's jury
 *   theorem describes (independent voters each right with p > 1/2: the majority is right more often).
 * - `correlation` (0..1) is the chance that an agent's draw on a task is the task's shared draw
 *   instead of its own: 0 gives independent errors, 1 identical ones, and votes gain nothing.
 * - In a later round of a debate (the prompt shows earlier answers), an agent that was right keeps
 *   its answer, and one that was wrong takes the right answer with probability `persuasion` when
 *   another agent gave it — debate helps exactly as far as right answers persuade.
 *
 * `answer` is the model itself, a pure function the statistical tests call directly; `respond`
 * serves it from the fake OpenAI-compatible server, so a colony reaches it through the real
 * `openai` client like any endpoint.
 *
 * @since 0.1.0
 */
import { SIMULATED_LABEL } from "./internal/simulated.js"

/**
 * A task as the skill model sees it: its text, its answer and its domain (the options, if any,
 * are where wrong answers come from).
 *
 * @since 0.1.0
 * @category models
 */
export interface Task {
  readonly task: string
  readonly answer: string
  readonly domain: string
  readonly options?: ReadonlyArray<string> | undefined
}

/**
 * One agent's probability of answering right, by domain; `"*"` for any other domain.
 *
 * @since 0.1.0
 * @category models
 */
export type Skill = Readonly<Record<string, number>>

/**
 * The skill model: its agents (by model name), seed and knobs.
 *
 * @since 0.1.0
 * @category models
 */
export interface SkillModel {
  readonly agents: Readonly<Record<string, Skill>>
  readonly seed: number
  readonly correlation: number
  readonly persuasion: number
}

/**
 * A skill model. `correlation` defaults to 0 (independent errors), `persuasion` to 0.5.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly agents: Readonly<Record<string, Skill>>
  readonly seed?: number | undefined
  readonly correlation?: number | undefined
  readonly persuasion?: number | undefined
}): SkillModel => {
  const unit = (name: string, value: number) => {
    if (!(value >= 0 && value <= 1)) throw new Error(`SkillModel.make: ${name} must be in [0, 1], got ${value}`)
    return value
  }
  for (const [agent, skill] of Object.entries(options.agents)) {
    for (const [domain, p] of Object.entries(skill)) unit(`the skill of ${agent} on ${domain}`, p)
  }
  return {
    agents: options.agents,
    seed: options.seed ?? 1,
    correlation: unit("correlation", options.correlation ?? 0),
    persuasion: unit("persuasion", options.persuasion ?? 0.5)
  }
}

/**
 * The same skill for `count` agents named `<prefix>-1` … `<prefix>-<count>`.
 *
 * @since 0.1.0
 */
export const uniform = (prefix: string, count: number, skill: Skill): Readonly<Record<string, Skill>> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}-${i + 1}`, skill]))

/**
 * An agent's probability of answering a task of `domain` right (0.5 for an unknown agent).
 *
 * @since 0.1.0
 */
export const skillOf = (model: SkillModel, agent: string, domain: string): number => {
  const skill = model.agents[agent]
  return skill?.[domain] ?? skill?.["*"] ?? 0.5
}

// A uniform draw in [0, 1) from the seed and the names of what is drawn (FNV-1a, then a
// murmur-style finaliser so that nearby strings give unrelated draws).
const draw = (...parts: ReadonlyArray<string | number>): number => {
  let h = 0x811c9dc5
  const text = parts.join("\u0000")
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return (h >>> 0) / 4294967296
}

/**
 * The task's one plausible wrong answer: another option, or a nearby number (one of a list).
 *
 * @since 0.1.0
 */
export const mistake = (model: SkillModel, task: Task): string => {
  const u = draw(model.seed, "mistake", task.task)
  const others = (task.options ?? []).filter((o) => o.trim().toLowerCase() !== task.answer.trim().toLowerCase())
  if (others.length > 0) return others[Math.floor(u * others.length)]!
  const numbers = [...task.answer.matchAll(/-?\d+(?:\.\d+)?/g)]
  if (numbers.length === 0) return `not ${task.answer}`
  const target = numbers[Math.floor(u * numbers.length)]!
  const offsets = [1, -1, 2, -2, 10, -10]
  const changed = String(Number(target[0]) + offsets[Math.floor(draw(model.seed, "offset", task.task) * offsets.length)]!)
  return task.answer.slice(0, target.index) + changed + task.answer.slice(target.index! + target[0].length)
}

/**
 * What an agent has seen before answering: nothing in a first answer; in a later round of a
 * debate, its own previous answer and the others'.
 *
 * @since 0.1.0
 * @category models
 */
export interface Seen {
  readonly round: number
  readonly own?: string | undefined
  readonly others: ReadonlyArray<string>
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase()

/**
 * The answer `agent` gives to `task`, and whether it is right.
 *
 * @since 0.1.0
 */
export const answer = (
  model: SkillModel,
  agent: string,
  task: Task,
  seen: Seen = { round: 1, others: [] }
): { readonly answer: string; readonly correct: boolean } => {
  const right = { answer: task.answer, correct: true }
  const wrong = { answer: mistake(model, task), correct: false }
  if (seen.round > 1 && seen.own !== undefined) {
    if (same(seen.own, task.answer)) return right
    const persuaded = seen.others.some((o) => same(o, task.answer)) &&
      draw(model.seed, "persuade", agent, task.task, seen.round) < model.persuasion
    return persuaded ? right : { answer: seen.own, correct: false }
  }
  const shared = draw(model.seed, "follows", agent, task.task) < model.correlation
  const u = shared ? draw(model.seed, "task", task.task) : draw(model.seed, "own", agent, task.task)
  return u < skillOf(model, agent, task.domain) ? right : wrong
}

// --- served over HTTP ---

const statedAnswer = /\{\s*"answer"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)\s*\}/g

/** The answers a prompt shows (earlier rounds of a debate), in order; the agent's own is last. */
const shownAnswers = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(statedAnswer)].map((m) => {
    const raw = m[1]!
    return raw.startsWith("\"") ? String(JSON.parse(raw)) : raw
  })

const asksForAnswer = (format: unknown): boolean => {
  const schema = (format as { readonly json_schema?: { readonly schema?: { readonly properties?: unknown } } })
    ?.json_schema?.schema
  const properties = schema?.properties
  return typeof properties === "object" && properties !== null && Object.hasOwn(properties, "answer")
}

/**
 * What the skill model replies to an OpenAI-style chat request: the agent is the request's model
 * name, the task is the one of `tasks` whose text the last user message holds (the longest, if
 * several), and a later debate round is read from the answers the message shows. The reply is
 * labelled simulated and ends with the answer as JSON; asked for structured output whose schema
 * has an `answer` property (a final answer or a vote), it is that JSON alone. `undefined` when the
 * message holds no known task or asks for another structured output: the server's default reply
 * then.
 *
 * @since 0.1.0
 */
export const respond = (model: SkillModel, tasks: ReadonlyArray<Task>) => {
  const byLength = [...tasks].sort((a, b) => b.task.length - a.task.length)
  return (body: {
    readonly model?: string | undefined
    readonly messages?: ReadonlyArray<{ readonly role?: string | undefined; readonly content?: unknown }> | undefined
    readonly response_format?: unknown
  }): { readonly text: string } | undefined => {
    const structured = body.response_format !== undefined
    if (structured && !asksForAnswer(body.response_format)) return undefined
    const user = [...(body.messages ?? [])].reverse().find((m) => m.role === "user")
    const text = typeof user?.content === "string" ? user.content : ""
    const task = byLength.find((t) => text.includes(t.task))
    if (task === undefined) return undefined
    const agent = body.model ?? "model"
    const shown = shownAnswers(text.slice(text.indexOf(task.task) + task.task.length))
    const round = shown.length === 0 ? 1 : Number(/\bround (\d+)\b/.exec(text)?.[1] ?? 2)
    const seen: Seen = shown.length === 0 ? { round, others: [] } : { round, own: shown.at(-1), others: shown.slice(0, -1) }
    const given = answer(model, agent, task, seen)
    if (structured) return { text: JSON.stringify({ answer: given.answer }) }
    return {
      text: `${SIMULATED_LABEL} ${agent}, skill ${skillOf(model, agent, task.domain)} on ${task.domain}` +
        `${round > 1 ? `, round ${round}` : ""}.\n${JSON.stringify({ answer: given.answer })}`
    }
  }
}
