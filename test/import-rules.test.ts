/**
 * The import rules of .dependency-cruiser.cjs (apps → agents → runtime, generic apps code knows no
 * application, no circles), checked over the real sources, and shown to catch each kind of breach
 * on a small fixture that breaks every rule once.
 */
import { cruise, type ICruiseResult } from "dependency-cruiser"
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options"
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const fixture = fileURLToPath(new URL("fixtures/import-rules", import.meta.url))

const check = async (paths: Array<string>, baseDir: string) => {
  const options = await extractDepcruiseOptions(`${root}/.dependency-cruiser.cjs`)
  const tsConfig = extractTSConfig(`${root}/tsconfig.json`)
  const result = await cruise(paths, { ...options, baseDir, validate: true, outputType: "json" }, undefined, { tsConfig })
  const output: ICruiseResult = typeof result.output === "string" ? JSON.parse(result.output) : result.output
  // a relative import the check could not follow is one no rule could see
  const unresolved = output.modules.flatMap((m) =>
    m.dependencies.filter((d) => d.couldNotResolve && d.module.startsWith(".")).map((d) => `${m.source} → ${d.module}`)
  )
  return {
    cruised: output.summary.totalCruised,
    unresolved,
    violations: output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)
  }
}

describe("import rules", () => {
  it("runtime imports neither agents nor apps, agents does not import apps, and neither has a circle", async () => {
    const { cruised, unresolved, violations } = await check(["packages/runtime", "packages/agents"], root)
    expect(unresolved).toEqual([])
    expect(cruised).toBeGreaterThan(50)
    expect(violations).toEqual([])
  })

  it("the gateway, the runner, the CLI and the top-level modules of apps import no application, and apps has no circle", async () => {
    const { cruised, unresolved, violations } = await check(["packages/apps/src"], root)
    expect(unresolved).toEqual([])
    expect(cruised).toBeGreaterThan(50)
    expect(violations).toEqual([])
  })

  it("the check reports an upward import from each library package, an edge importing an application, and circles", async () => {
    const { violations } = await check(["packages"], fixture)
    expect(violations).toEqual(expect.arrayContaining([
      "runtime-imports-upward: packages/runtime/src/Leak.js → packages/agents/src/Pattern.js",
      "agents-imports-apps: packages/agents/src/Pattern.js → packages/apps/src/Route.js",
      expect.stringMatching(/^no-circular-in-libraries: packages\/runtime\/src\/P[io]ng\.js → packages\/runtime\/src\/P[io]ng\.js$/),
      "generic-apps-imports-application: packages/apps/src/gateway/Home.js → packages/apps/src/shop/Page.js",
      expect.stringMatching(/^no-circular-in-apps: packages\/apps\/src\/runner\/St(art|op)\.js → packages\/apps\/src\/runner\/St(art|op)\.js$/)
    ]))
    // main.js wires the application in, and the application uses the edges below it: both allowed
    expect(violations.filter((v) => v.includes("main.js") || v.includes("shop/Page.js →"))).toEqual([])
  })
})
