/**
 * Type-checks the TypeScript blocks of Markdown files (issue 18: the README's snippets are checked).
 *
 * Every block fenced with ```ts or ```typescript becomes a module of its own, and all modules are
 * checked in one TypeScript program with the repo's compiler options (tsconfig.json), placed in
 * `test/` so that they import the packages as a user does (`@colony/runtime`, `@colony/apps/...`,
 * resolved to their sources). How a block becomes a module:
 *
 * - A block with `import` lines of its own is a whole module, checked as written.
 * - A block without imports is a fragment of the surrounding text. It gets every namespace of
 *   `@colony/runtime` and `@colony/agents` (`Agent`, `Colony`, `Collaboration`, ...) and
 *   `Console, Effect, Layer, Schema, Stream` from `effect` imported before it.
 * - A block with `yield*` at the start of a top-level line (column 0, or after `const x =`) runs in
 *   an `Effect.gen(function*() { ... })`: its lines, less its imports, are the generator's body.
 * - What a block assumes from the text around it (a value defined in an earlier block, a service
 *   of the reader's own) is written in an HTML comment on the line right before the fence, which
 *   Markdown viewers do not show and which is placed before the block:
 *
 *       <!-- snippet: declare const messages: ReadonlyArray<LanguageModel.ChatMessage> -->
 *
 *   The comment may span lines; its text after `snippet:` is TypeScript.
 * - Unused locals and parameters are allowed: a snippet shows a result without using it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import ts from "typescript"

/** One fenced block, as a module, with the README line of each of its lines. */
export interface Snippet {
  readonly readme: string
  readonly line: number
  readonly fileName: string
  readonly text: string
  /** README line (1-based) of each module line, or undefined for the lines the convention adds. */
  readonly lines: ReadonlyArray<number | undefined>
}

/** A type error in a snippet, located in its README. */
export interface SnippetError {
  readonly readme: string
  readonly blockLine: number
  readonly line: number | undefined
  readonly message: string
}

const repoRoot = path.resolve(import.meta.dirname, "../..")

const namespaces = (indexFile: string): ReadonlyArray<string> =>
  [...readFileSync(path.join(repoRoot, indexFile), "utf8").matchAll(/^export \* as (\w+) from/gm)].map((m) => m[1]!)

const fragmentImports = (): ReadonlyArray<string> => [
  `import { ${namespaces("packages/runtime/src/index.ts").join(", ")} } from "@colony/runtime"`,
  `import { ${namespaces("packages/agents/src/index.ts").join(", ")} } from "@colony/agents"`,
  `import { Console, Effect, Layer, Schema, Stream } from "effect"`
]

const isImport = (line: string) => /^import\s/.test(line)
const topLevelYield = (line: string) => /^(yield\*|(const|let) [^=]+= yield\*)/.test(line)

/** The ```ts / ```typescript blocks of a Markdown file, each turned into a module. */
export const extract = (readme: string): ReadonlyArray<Snippet> => {
  const source = readFileSync(readme, "utf8").split("\n")
  const relative = path.relative(repoRoot, readme)
  const snippets: Array<Snippet> = []
  for (let i = 0; i < source.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(source[i]!)) continue
    const start = i + 1
    let end = start
    while (end < source.length && !/^```\s*$/.test(source[end]!)) end++
    const block = source.slice(start, end).map((text, k) => ({ text, line: start + k + 1 }))
    const lines: Array<{ text: string; line: number | undefined }> = []
    const context = contextBefore(source, i)
    const fragment = !block.some((l) => isImport(l.text))
    if (fragment) for (const text of fragmentImports()) lines.push({ text, line: undefined })
    const generator = block.some((l) => topLevelYield(l.text))
    lines.push(...block.filter((l) => generator && isImport(l.text)))
    lines.push(...context)
    if (generator) {
      if (!fragment) lines.push({ text: `import { Effect as Effect$ } from "effect"`, line: undefined })
      lines.push({ text: `export const snippet = ${fragment ? "Effect" : "Effect$"}.gen(function*() {`, line: undefined })
      lines.push(...block.filter((l) => !isImport(l.text)))
      lines.push({ text: "})", line: undefined })
    } else {
      lines.push(...block)
    }
    lines.push({ text: "export {}", line: undefined })
    const name = `${relative.replace(/[^A-Za-z0-9]+/g, "_")}_${i + 1}.ts`
    snippets.push({
      readme: relative,
      line: i + 1,
      fileName: path.join(repoRoot, "test", "readme-snippets", name),
      text: lines.map((l) => l.text).join("\n"),
      lines: lines.map((l) => l.line)
    })
    i = end
  }
  return snippets
}

// The `<!-- snippet: ... -->` comment that ends on the line before the fence, as TypeScript lines.
const contextBefore = (source: ReadonlyArray<string>, fence: number) => {
  const last = fence - 1
  if (last < 0 || !source[last]!.trimEnd().endsWith("-->")) return []
  let first = last
  while (first >= 0 && !source[first]!.startsWith("<!-- snippet:")) {
    if (first < last && source[first]!.includes("-->")) return []
    first--
  }
  if (first < 0) return []
  return source.slice(first, last + 1).map((text, k) => ({
    text: text.replace(/^<!-- snippet:/, "").replace(/-->\s*$/, ""),
    line: first + k + 1
  }))
}

const compilerOptions = (): ts.CompilerOptions => {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
    }
  })
  return { ...config!.options, noUnusedLocals: false, noUnusedParameters: false }
}

/** Type-checks the snippets of the given Markdown files in one program; returns their errors. */
export const check = (readmes: ReadonlyArray<string>): {
  readonly snippets: ReadonlyArray<Snippet>
  readonly errors: ReadonlyArray<SnippetError>
} => {
  const snippets = readmes.flatMap(extract)
  const byFile = new Map(snippets.map((s) => [s.fileName, s]))
  const options = compilerOptions()
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const snippet = byFile.get(path.resolve(fileName))
    return snippet
      ? ts.createSourceFile(fileName, snippet.text, languageVersion, true)
      : getSourceFile.call(host, fileName, languageVersion, onError, shouldCreate)
  }
  const fileExists = host.fileExists
  host.fileExists = (fileName) => byFile.has(path.resolve(fileName)) || fileExists.call(host, fileName)
  const readFile = host.readFile
  host.readFile = (fileName) => byFile.get(path.resolve(fileName))?.text ?? readFile.call(host, fileName)
  const program = ts.createProgram({ rootNames: [...byFile.keys()], options, host })
  const errors = snippets.flatMap((snippet) => {
    const file = program.getSourceFile(snippet.fileName)!
    return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map((d) => {
      const at = d.start === undefined ? undefined : file.getLineAndCharacterOfPosition(d.start).line
      return {
        readme: snippet.readme,
        blockLine: snippet.line,
        line: at === undefined ? undefined : snippet.lines[at],
        message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
      }
    })
  })
  return { snippets, errors }
}

/** One line per error: the README, the block's line, the line in the README and the error. */
export const format = (error: SnippetError) =>
  `${error.readme}:${error.line ?? error.blockLine} (block at line ${error.blockLine}): ${error.message}`

/** The Markdown files whose snippets document the public API: the repo's, each package's and each app's. */
export const readmes = (): ReadonlyArray<string> => {
  const within = (dir: string) =>
    readdirSync(path.join(repoRoot, dir)).map((name) => path.join(repoRoot, dir, name, "README.md"))
  return [path.join(repoRoot, "README.md"), ...within("packages"), ...within("packages/apps/src")].filter(existsSync)
}
