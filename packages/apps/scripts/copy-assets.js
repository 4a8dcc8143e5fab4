// tsc emits only JavaScript: the support desk's pages are read at run time next to the module
// that serves them, so they are copied into the build beside it.
import { cpSync } from "node:fs"

cpSync(new URL("../src/support/web/pages", import.meta.url), new URL("../dist/support/web/pages", import.meta.url), {
  recursive: true
})
