import { defineConfig } from "vitest/config"

// Tests run on the packages' TypeScript sources (their "@colony/source" export condition), so no
// build is needed first; the other conditions are Vite's defaults for Node.
const conditions = ["@colony/source", "module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Chromium and openssl, installed when missing (or the run stops with the command to type)
    globalSetup: ["test/prerequisites.ts"]
  }
})
