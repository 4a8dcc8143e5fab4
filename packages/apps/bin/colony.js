#!/usr/bin/env node
// Installed from npm, the CLI runs the compiled build in dist/. In a checkout of the Colony
// repository (src/ beside bin/, and no build) it runs the TypeScript sources through tsx, and
// resolves the Colony packages to their sources too, through their "@colony/source" export
// condition: working in the repository needs no build step.
import { existsSync } from "node:fs"

const source = new URL("../src/main.ts", import.meta.url)

if (existsSync(source)) {
  const { register } = await import("node:module")
  const { register: registerTsx } = await import("tsx/esm/api")
  registerTsx()
  // Registered after tsx, so it runs first and tsx resolves with the condition added.
  register(
    "data:text/javascript," + encodeURIComponent(
      "export const resolve = (specifier, context, next) =>" +
        " next(specifier, { ...context, conditions: [\"@colony/source\", ...context.conditions] })"
    )
  )
  await import(source.href)
} else {
  await import("../dist/main.js")
}
