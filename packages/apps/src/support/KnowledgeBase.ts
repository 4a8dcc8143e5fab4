/**
 * Search over the shop's help-centre articles, with MiniSearch: BM25 ranking, prefix and fuzzy
 * matching (so "refunded" finds "refund" and a typo still finds its article), titles weighted
 * above bodies. The index is built once per process; it is small (about a hundred articles).
 *
 * @since 0.1.0
 */
import MiniSearch from "minisearch"
import { type Article, articles, type Category } from "./articles.js"

/**
 * @since 0.1.0
 */
export type { Article, Category }

/**
 * @since 0.1.0
 */
export { articles }

/**
 * One search hit.
 *
 * @since 0.1.0
 */
export interface Hit {
  readonly id: string
  readonly title: string
  readonly category: Category
  readonly score: number
  readonly body: string
}

// words too common in questions to say anything about which article is meant
const stopWords = new Set([
  "a", "an", "and", "are", "at", "be", "can", "do", "does", "for", "from", "how", "i", "if", "in", "is", "it",
  "me", "my", "of", "on", "or", "the", "to", "what", "when", "where", "which", "why", "will", "with", "you", "your"
])

let index: MiniSearch<Article> | undefined

const build = (): MiniSearch<Article> => {
  const search = new MiniSearch<Article>({
    fields: ["title", "body", "category"],
    storeFields: ["title", "category", "body"],
    processTerm: (term) => {
      const lower = term.toLowerCase()
      return stopWords.has(lower) ? null : lower
    },
    searchOptions: { boost: { title: 2 }, prefix: true, fuzzy: 0.2, combineWith: "OR" }
  })
  search.addAll(articles as Array<Article>)
  return search
}

/**
 * The articles that best match `query`, best first; `category` keeps only that category.
 *
 * @since 0.1.0
 */
export const search = (
  query: string,
  options: { readonly limit?: number | undefined; readonly category?: Category | undefined } = {}
): ReadonlyArray<Hit> => {
  index ??= build()
  const category = options.category
  return index
    .search(query, category === undefined ? {} : { filter: (result) => result["category"] === category })
    .slice(0, options.limit ?? 3)
    .map((result) => ({
      id: String(result.id),
      title: String(result["title"]),
      category: result["category"] as Category,
      score: Math.round(result.score * 100) / 100,
      body: String(result["body"])
    }))
}

/**
 * An article by id.
 *
 * @since 0.1.0
 */
export const article = (id: string): Article | undefined => articles.find((a) => a.id === id)
