/**
 * The support pages as single HTML documents: each page's stylesheet and scripts (files next to
 * it in `pages/`) are inlined when the gateway starts. A browser opening a page on a gateway with
 * API keys passes the key once in the page's URL (`?access_token=`); a page that loaded its
 * assets with further requests would have to pass it on each of them.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"

/**
 * @since 0.1.0
 * @category models
 */
export interface Pages {
  readonly chat: string
  readonly dashboard: string
}

const read = (name: string) => readFileSync(new URL(`./pages/${name}`, import.meta.url), "utf8")

/**
 * Replace `<link rel="stylesheet" href="x.css">` and `<script src="x.js"></script>` with their
 * files' contents.
 *
 * @since 0.1.0
 */
export const inline = (html: string, file: (name: string) => string): string =>
  html
    .replace(/<link rel="stylesheet" href="([\w.-]+\.css)">/g, (_, name: string) => `<style>\n${file(name)}</style>`)
    .replace(/<script src="([\w.-]+\.js)"><\/script>/g, (_, name: string) => {
      const source = file(name)
      // a script containing "</script" would end the element early
      if (/<\/script/i.test(source)) throw new Error(`pages/${name} contains "</script", which cannot be inlined`)
      return `<script>\n${source}</script>`
    })

/**
 * The pages, read once. A missing file is a broken installation: a defect.
 *
 * @since 0.1.0
 */
export const load: Effect.Effect<Pages> = Effect.sync(() => ({
  chat: inline(read("chat.html"), read),
  dashboard: inline(read("dashboard.html"), read)
}))
