/**
 * The support desk's task set for `colony eval` (`--tasks support-kb:<count>`): which help-centre
 * article answers a customer? Each task quotes a sentence of one article's body and offers that
 * article and three others (two from the same category where it has them, so the choice is not
 * given away by the topic alone) as `<id>: <title>`; the answer is the quoted article. It is what
 * the FAQ agent does on every help-centre question, as a measurable choice.
 *
 * @since 0.1.0
 */
import { TaskSet } from "@colony/agents"
import { type Article, articles } from "../articles.js"

/**
 * The domain of these tasks, for the skill model and for `master-slave`'s expert (`expert-support`).
 *
 * @since 0.1.0
 */
export const domain = "support"

/**
 * How an article is offered as an option: `kb-010: Delivery to a pickup point or locker`.
 *
 * @since 0.1.0
 */
export const option = (article: Article): string => `${article.id}: ${article.title}`

// A sentence that leans on the one before it ("It is not available…", "Below that it costs…")
// says nothing on its own, so it is not quoted.
const leansOnContext = /^(It|Its|This|That|These|Those|They|Their|Them|Below|Above|Then|There|Here|Otherwise|Both|Such|Either|If so)\b/

const sentencesOf = (article: Article): ReadonlyArray<string> =>
  article.body
    .split(/(?<=[.!?])\s+(?=[A-Z0-9])/)
    .map((sentence) => sentence.trim().replace(/[.!]$/, ""))
    .filter((sentence) => sentence.length >= 30 && sentence.length <= 240 && !leansOnContext.test(sentence))

/** Every sentence that can be quoted, with its article, in the order of the articles. */
const quotable: ReadonlyArray<{ readonly article: Article; readonly sentence: string }> = articles.flatMap((article) =>
  sentencesOf(article).map((sentence) => ({ article, sentence }))
)

const questions: ReadonlyArray<(sentence: string) => string> = [
  (s) => `Which help-centre article tells a customer: “${s}”?`,
  (s) => `A customer should be sent the article that explains: “${s}”. Which article is it?`,
  (s) => `Which help-centre article answers a customer with: “${s}”?`
]

const pick = <A>(next: () => number, from: ReadonlyArray<A>): A => from[Math.floor(next() * from.length)]!

/** Three other articles: up to two of the same category, the rest from the others. */
const distractors = (next: () => number, right: Article): ReadonlyArray<Article> => {
  const chosen: Array<Article> = []
  const sameCategory = articles.filter((a) => a.category === right.category && a.id !== right.id)
  while (chosen.length < 2 && chosen.length < sameCategory.length) {
    const candidate = pick(next, sameCategory)
    if (!chosen.includes(candidate)) chosen.push(candidate)
  }
  const elsewhere = articles.filter((a) => a.category !== right.category)
  while (chosen.length < 3) {
    const candidate = pick(next, elsewhere)
    if (!chosen.includes(candidate)) chosen.push(candidate)
  }
  return chosen
}

const taskFor = (seed: number, index: number): TaskSet.Task => {
  const { article, sentence } = quotable[index]!
  // one draw per quoted sentence, so a set larger than the sentences repeats its tasks exactly
  const next = TaskSet.random(seed * 7919 + index)
  const options = distractors(next, article).map(option)
  options.splice(Math.floor(next() * 4), 0, option(article))
  return new TaskSet.Task({
    task: pick(next, questions)(sentence),
    answer: option(article),
    domain,
    options: options as [string, ...Array<string>]
  })
}

/**
 * `count` questions, each a sentence of one article to be matched to its article among four; the
 * same for the same seed. The quoted sentences are drawn without repeats until every one has been
 * used.
 *
 * @since 0.1.0
 */
export const make = (count: number, seed = 1): ReadonlyArray<TaskSet.Task> => {
  const next = TaskSet.random(seed)
  // a seeded shuffle of the quotable sentences (Fisher–Yates)
  const order = quotable.map((_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return Array.from({ length: count }, (_, i) => taskFor(seed, order[i % order.length]!))
}

/**
 * The set as the support desk offers it to `colony eval`.
 *
 * @since 0.1.0
 */
export const taskSets = {
  "support-kb": {
    description: "which help-centre article answers a customer (four articles to choose from)",
    make
  }
} satisfies Readonly<Record<string, TaskSet.Generator>>
