/**
 * Issue 18: the READMEs' TypeScript snippets are type-checked. How a block becomes a module (whole
 * modules, fragments with the packages' namespaces imported, `yield*` run in `Effect.gen`, and the
 * `<!-- snippet: ... -->` comment for what a fragment assumes) is described in
 * `support/readmeSnippets.ts`.
 */
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as ReadmeSnippets from "./support/readmeSnippets.js"

describe("README snippets", () => {
  it("every TypeScript block of the READMEs compiles against today's API", () => {
    const { errors, snippets } = ReadmeSnippets.check(ReadmeSnippets.readmes())
    expect(snippets.length).toBeGreaterThan(20)
    expect(errors.map(ReadmeSnippets.format)).toEqual([])
  })

  it("a block with a type error is reported with its README, its line and the TypeScript error", () => {
    const readme = path.join(import.meta.dirname, "fixtures/readme-snippets/README.md")
    const { errors, snippets } = ReadmeSnippets.check([readme])
    expect(snippets.map((s) => s.line)).toEqual([7, 14])
    expect(errors.map(ReadmeSnippets.format)).toEqual([
      expect.stringMatching(
        /^test\/fixtures\/readme-snippets\/README\.md:17 \(block at line 14\): TS2322: Type 'string' is not assignable to type 'Duration'/
      )
    ])
  })
})
