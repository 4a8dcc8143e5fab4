/**
 * Type-checks the TypeScript blocks of Markdown files (issue 18: the README's snippets are checked)
 * and the ```ts examples in the doc comments (`/** ... *\/`) of TypeScript sources, whose lines are
 * read as Markdown once their leading ` * ` is stripped.
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

/** One fenced block, as a module, with the line of its file (README or source) of each of its lines. */
export interface Snippet {
  /** the README or source file, relative to the repo */
  readonly file: string
  readonly line: number
  readonly fileName: string
  readonly text: string
  /** File line (1-based) of each module line, or undefined for the lines the convention adds. */
  readonly lines: ReadonlyArray<number | undefined>
}

/** A type error in a snippet, located in its file. */
export interface SnippetError {
  readonly file: string
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

/** A line of Markdown with its line (1-based) in the file it comes from. */
interface SourceLine {
  readonly text: string
  readonly line: number
}

/** The ```ts / ```typescript blocks of a Markdown file, each turned into a module. */
export const extract = (readme: string): ReadonlyArray<Snippet> =>
  blocks(readme, readFileSync(readme, "utf8").split("\n").map((text, k) => ({ text, line: k + 1 })))

/** The ```ts / ```typescript blocks of the doc comments of a TypeScript source, each turned into a module. */
export const extractDocComments = (source: string): ReadonlyArray<Snippet> =>
  docComments(source).flatMap((comment) => blocks(source, comment))

const blocks = (file: string, source: ReadonlyArray<SourceLine>): Array<Snippet> => {
  const relative = path.relative(repoRoot, file)
  const snippets: Array<Snippet> = []
  for (let i = 0; i < source.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(source[i]!.text)) continue
    const start = i + 1
    let end = start
    while (end < source.length && !/^```\s*$/.test(source[end]!.text)) end++
    const block = source.slice(start, end)
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
    const fence = source[i]!.line
    const name = `${relative.replace(/[^A-Za-z0-9]+/g, "_")}_${fence}.ts`
    snippets.push({
      file: relative,
      line: fence,
      fileName: path.join(repoRoot, "test", "readme-snippets", name),
      text: lines.map((l) => l.text).join("\n"),
      lines: lines.map((l) => l.line)
    })
    i = end
  }
  return snippets
}

// The `<!-- snippet: ... -->` comment that ends on the line before the fence, as TypeScript lines.
const contextBefore = (source: ReadonlyArray<SourceLine>, fence: number) => {
  const last = fence - 1
  if (last < 0 || !source[last]!.text.trimEnd().endsWith("-->")) return []
  let first = last
  while (first >= 0 && !source[first]!.text.startsWith("<!-- snippet:")) {
    if (first < last && source[first]!.text.includes("-->")) return []
    first--
  }
  if (first < 0) return []
  return source.slice(first, last + 1).map(({ line, text }) => ({
    text: text.replace(/^<!-- snippet:/, "").replace(/-->\s*$/, ""),
    line
  }))
}

/**
 * The doc comments (`/** ... *\/`) of a TypeScript source, as Markdown lines: the comment's
 * delimiters and each line's leading ` * ` removed. Comments are found by the parser, so a
 * `/**` inside a string or a template is not one.
 */
const docComments = (file: string): Array<Array<SourceLine>> => {
  const text = readFileSync(file, "utf8")
  // most sources have no example: spare them the parse
  if (!/```(ts|typescript)\s*$/m.test(text)) return []
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false)
  const starts = new Set<number>()
  const comments: Array<Array<SourceLine>> = []
  const visit = (node: ts.Node) => {
    for (const range of ts.getLeadingCommentRanges(text, node.pos) ?? []) {
      if (starts.has(range.pos) || !text.startsWith("/**", range.pos) || text.startsWith("/**/", range.pos)) continue
      starts.add(range.pos)
      const first = sourceFile.getLineAndCharacterOfPosition(range.pos).line + 1
      const lines = text.slice(range.pos + 3, range.end - 2).split("\n")
      comments.push(lines.map((line, k) => ({ text: line.replace(/^\s*\* ?/, "").trimEnd(), line: first + k })))
    }
    ts.forEachChild(node, visit)
  }
  visit(sourceFile)
  return comments
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

/**
 * Type-checks the snippets of the given files in one program (the blocks of Markdown files, the
 * doc comments' examples of `.ts` files); returns their errors.
 */
export const check = (files: ReadonlyArray<string>): {
  readonly snippets: ReadonlyArray<Snippet>
  readonly errors: ReadonlyArray<SnippetError>
} => {
  const snippets = files.flatMap((file) => file.endsWith(".ts") ? extractDocComments(file) : extract(file))
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
        file: snippet.file,
        blockLine: snippet.line,
        line: at === undefined ? undefined : snippet.lines[at],
        message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
      }
    })
  })
  return { snippets, errors }
}

/** One line per error: the file, the block's line, the line in the file and the error. */
export const format = (error: SnippetError) =>
  `${error.file}:${error.line ?? error.blockLine} (block at line ${error.blockLine}): ${error.message}`

/** The Markdown files whose snippets document the public API: the repo's, each package's and each app's. */
export const readmes = (): ReadonlyArray<string> => {
  const within = (dir: string) =>
    readdirSync(path.join(repoRoot, dir)).map((name) => path.join(repoRoot, dir, name, "README.md"))
  return [path.join(repoRoot, "README.md"), ...within("packages"), ...within("packages/apps/src")].filter(existsSync)
}

/** The TypeScript sources of the packages, whose doc comments' examples document the API too. */
export const sources = (): ReadonlyArray<string> =>
  readdirSync(path.join(repoRoot, "packages")).flatMap((pkg) => {
    const src = path.join(repoRoot, "packages", pkg, "src")
    if (!existsSync(src)) return []
    return readdirSync(src, { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
      .sort()
      .map((name) => path.join(src, name))
  })
