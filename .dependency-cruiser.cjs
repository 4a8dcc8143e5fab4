/**
 * Import rules (see ARCHITECTURE.md): dependencies point one way, apps → agents → runtime; inside
 * apps the generic edges know no application; no package has an import circle. Checked in
 * `npm test` by test/import-rules.test.ts; by hand: `npx depcruise packages`.
 *
 * Packages may reach each other by name (`@colony/agents`, which resolves to the workspace) or by
 * a relative path, so each rule names both.
 */
/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "runtime-imports-upward",
      comment: "@colony/runtime knows nothing of the collaboration patterns or the edges built on it",
      severity: "error",
      from: { path: "^packages/runtime/" },
      to: { path: ["^packages/(agents|apps)/", "^node_modules/@colony/(agents|apps)(/|$)", "^@colony/(agents|apps)(/|$)"] }
    },
    {
      name: "agents-imports-apps",
      comment: "@colony/agents knows nothing of HTTP, the CLI or any application",
      severity: "error",
      from: { path: "^packages/agents/" },
      to: { path: ["^packages/apps/", "^node_modules/@colony/apps(/|$)", "^@colony/apps(/|$)"] }
    },
    {
      name: "no-circular-in-libraries",
      comment: "a circle in runtime or agents means a concept split across modules that need each other",
      severity: "error",
      from: { path: "^packages/(runtime|agents)/src/" },
      to: { circular: true }
    },
    {
      name: "generic-apps-imports-application",
      comment: "the gateway, the runner, the CLI and the top-level modules of apps take applications as " +
        "arguments: only main.ts wires one in. Every folder of apps/src other than the generic ones is an application",
      severity: "error",
      from: {
        path: "^packages/apps/src/((cli|gateway|runner|interop)/|[^/]+$)",
        pathNot: "^packages/apps/src/main\\.[jt]s$"
      },
      to: { path: "^packages/apps/src/(?!(cli|gateway|runner|interop)/)[^/]+/" }
    },
    {
      name: "no-circular-in-apps",
      comment: "a circle in apps is an edge and an application (or two edges) that need each other",
      severity: "error",
      from: { path: "^packages/apps/src/" },
      to: { circular: true }
    }
  ],
  options: {
    // type-only imports count: a circle through types is still two modules that need each other
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" }
  }
}
