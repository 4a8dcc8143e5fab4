/**
 * The support pages as single HTML documents: each page's stylesheet and scripts (files next to
 * it in `pages/`) are inlined when the gateway starts, and the page's Content-Security-Policy
 * allows exactly those scripts (by hash) and requests to the gateway itself. A page holds no
 * credential: it is signed in by the gateway's cookie, or given a token in its URL's fragment
 * (`#token=`), which browsers never send to a server nor in a `Referer`.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"

/**
 * @since 0.1.0
 * @category models
 */
export interface Pages {
  readonly chat: Page
  readonly dashboard: Page
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Page {
  readonly html: string
  /** the page's response headers: its Content-Security-Policy, no referrer, no framing */
  readonly headers: Readonly<Record<string, string>>
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
 * The Content-Security-Policy of a page: its inline scripts by hash, requests to this origin only.
 *
 * @since 0.1.0
 */
export const contentSecurityPolicy = (html: string): string => {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) =>
    `'sha256-${createHash("sha256").update(match[1]!, "utf8").digest("base64")}'`
  )
  return [
    "default-src 'none'",
    `script-src ${hashes.join(" ")}`,
    // the pages set colours and sizes in style attributes; styles cannot run code
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; ")
}

const page = (name: string): Page => {
  const html = inline(read(name), read)
  return {
    html,
    headers: {
      "content-security-policy": contentSecurityPolicy(html),
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "cache-control": "no-store"
    }
  }
}

/**
 * The pages, read once. A missing file is a broken installation: a defect.
 *
 * @since 0.1.0
 */
export const load: Effect.Effect<Pages> = Effect.sync(() => ({
  chat: page("chat.html"),
  dashboard: page("dashboard.html")
}))
