/**
 * The support desk for `colony runner --agents`: every support agent type, with the shop's
 * tables in the colony's own database (`DATABASE_URL`).
 *
 * ```sh
 * DATABASE_URL=… COLONY_RUNNER_SECRET=… colony runner --agents packages/apps/src/support/RunnerAgents.ts
 * ```
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import * as Support from "./Support.js"

export default Support.layer.pipe(Layer.provide(Support.layerStore()))
