/**
 * Issue 18: the READMEs' TypeScript snippets are type-checked, and so are the ```ts examples in
 * the doc comments of the packages' sources. How a block becomes a module (whole modules,
 * fragments with the packages' namespaces imported, `yield*` run in `Effect.gen`, and the
 * `<!-- snippet: ... -->` comment for what a fragment assumes) is described in
 * `support/readmeSnippets.ts`.
 */
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as ReadmeSnippets from "./support/readmeSnippets.js"

const fixtures = path.join(import.meta.dirname, "fixtures/readme-snippets")
const fixtureReadme = "test/fixtures/readme-snippets/README.md"
const fixtureSource = "test/fixtures/readme-snippets/docComments.ts"

// One TypeScript program, the costly part, for the docs and the fixtures alike, made by the first
// test that reads it.
let checked: ReturnType<typeof ReadmeSnippets.check> | undefined
const snippetsAndErrors = (file: (name: string) => boolean) => {
  checked ??= ReadmeSnippets.check([
    ...ReadmeSnippets.readmes(),
    ...ReadmeSnippets.sources(),
    path.join(fixtures, "README.md"),
    path.join(fixtures, "docComments.ts")
  ])
  return {
    snippets: checked.snippets.filter((s) => file(s.file)),
    errors: checked.errors.filter((e) => file(e.file)).map(ReadmeSnippets.format)
  }
}

const isFixture = (name: string) => name.startsWith("test/fixtures/")

describe("README snippets", () => {
  it("every TypeScript block of the READMEs compiles against today's API", () => {
    const { errors, snippets } = snippetsAndErrors((name) => name.endsWith(".md") && !isFixture(name))
    expect(snippets.length).toBeGreaterThan(20)
    expect(errors).toEqual([])
  })

  it("every ts example in a doc comment of the packages' sources compiles against today's API", () => {
    const { errors, snippets } = snippetsAndErrors((name) => name.startsWith("packages/"))
    expect(snippets.map((s) => s.file)).toEqual(
      expect.arrayContaining(["packages/runtime/src/Agent.ts", "packages/runtime/src/Colony.ts"])
    )
    expect(errors).toEqual([])
  })

  it("a block with a type error is reported with its README, its line and the TypeScript error", () => {
    const { errors, snippets } = snippetsAndErrors((name) => name === fixtureReadme)
    expect(snippets.map((s) => s.line)).toEqual([7, 14])
    expect(errors).toEqual([
      expect.stringMatching(
        /^test\/fixtures\/readme-snippets\/README\.md:17 \(block at line 14\): TS2322: Type 'string' is not assignable to type 'Duration'/
      )
    ])
  })

  it("a doc comment example with a type error is reported with its source file, its line and the TypeScript error", () => {
    const { errors, snippets } = snippetsAndErrors((name) => name === fixtureSource)
    expect(snippets.map((s) => s.line)).toEqual([6, 15])
    expect(errors).toEqual([
      expect.stringMatching(
        /^test\/fixtures\/readme-snippets\/docComments\.ts:18 \(block at line 15\): TS2322: Type 'string' is not assignable to type 'Duration'/
      )
    ])
  })
})
