/**
 * Every suite `npm run bench` runs, in order. Adding a suite is one file in this folder and one
 * line here.
 */
import type { Suite } from "../lib/Suite.js"
import { suite as collaboration } from "./collaboration.js"
import { suite as gateway } from "./gateway.js"
import { suite as hop } from "./hop.js"
import { suite as memory } from "./memory.js"
import { suite as postgres } from "./postgres.js"
import { suite as throughput } from "./throughput.js"

export const suites: ReadonlyArray<Suite> = [hop, collaboration, throughput, memory, postgres, gateway]
