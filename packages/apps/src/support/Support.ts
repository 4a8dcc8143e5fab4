/**
 * The support desk hosted: every support agent type with its handlers and tools. `layer` goes
 * wherever the agents run (an embedded colony, or each runner through an `--agents` module); it
 * needs a Postgres `SqlClient` for the `orders` and `support_tickets` tables, which `layerStore`
 * makes from `DATABASE_URL` or an explicit URL.
 *
 * How a customer message is handled (the desk's `Send`):
 * 0. the conversation is bound to the sender's verified customer on its first message, and a
 *    message from anyone else is refused (`ConversationNotYours`); the order tools act only on
 *    the bound customer's orders (`OrderNotYours`, `CustomerNotVerified`);
 * 1. the router (`triage/<conversation>`) names the message's intents and whether it needs a person,
 *    and picks the pattern (or takes the one configuration forces);
 * 2. `single`: one specialist answers (orders for order questions, FAQ for the rest);
 *    `master-slave`: the lead coordinates one specialist per intent (the router's intents are the
 *    decomposition), or for several questions on one topic one part per question, and combines
 *    their parts; `peer-review`: a specialist drafts, the critic and
 *    the reviewer debate the draft; `hybrid` (hard cases): a team of specialists and a team of
 *    reviewers deliberate as peers under the lead;
 * 3. the critic checks the draft against the written policy; a rejected draft is revised once,
 *    then escalated;
 * 4. a case that needs a person opens a ticket (`escalation/<conversation>`); the operator's
 *    answer joins the conversation.
 *
 * @since 0.1.0
 */
import { Agent, type AgentError, type Colony, type LanguageModel } from "@colony/runtime"
import type { Sharding } from "@effect/cluster/Sharding"
import { PgClient } from "@effect/sql-pg"
import type * as SqlClient from "@effect/sql/SqlClient"
import { Config, Effect, Layer, Option, Redacted } from "effect"
import * as Agents from "./Agents.js"
import { CriticLive } from "./Critic.js"
import {
  type ConversationNotYours,
  DeskAgent,
  EscalationAgent,
  OwnershipAgent,
  type Pattern,
  Pattern as PatternSchema,
  queueId,
  SupportError
} from "./Desk.js"
import * as DeskLive from "./DeskLive.js"
import type { Options } from "./DeskLive.js"
import { EscalationLive, OwnershipLive } from "./Escalation.js"
import { TriageLive } from "./Routing.js"
import * as Store from "./Store.js"
import { FaqLive, OrdersLive } from "./Tools.js"

export { CustomerNotVerified, OrderNotYours } from "./Agents.js"
export { choosePattern, questionsIn } from "./Routing.js"
export type { Options } from "./DeskLive.js"

/**
 * Every support agent type, for `Colony.declare` in processes that call the desk without hosting it.
 *
 * @since 0.1.0
 */
export const agents = [
  DeskAgent,
  EscalationAgent,
  OwnershipAgent,
  Agents.Triage,
  Agents.Faq,
  Agents.Orders,
  Agents.Critic,
  Agents.Reviewer,
  Agents.Lead
] as const

/**
 * `COLONY_SUPPORT_PATTERN`: a pattern to force for every message (unset: the router chooses).
 *
 * @since 0.1.0
 * @category config
 */
export const patternConfig: Config.Config<Option.Option<Pattern>> = Config.option(
  Config.literal("single", "master-slave", "peer-review", "hybrid")("COLONY_SUPPORT_PATTERN")
)

/**
 * The support agents with explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: Options
): Layer.Layer<never, never, Agent.Requirements | Colony.Services | Sharding | SqlClient.SqlClient> =>
  Layer.mergeAll(
    DeskLive.layer(options),
    EscalationLive,
    OwnershipLive,
    TriageLive,
    FaqLive,
    OrdersLive,
    CriticLive,
    Agent.toLayer(Agents.Reviewer),
    Agent.toLayer(Agents.Lead)
  ).pipe(Layer.provide(Store.layer))

/**
 * The support agents, with the pattern from `COLONY_SUPPORT_PATTERN` (the router's choice when unset).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  never,
  SupportError,
  Agent.Requirements | Colony.Services | Sharding | SqlClient.SqlClient
> = Layer.unwrapEffect(
  Effect.map(
    Effect.mapError(patternConfig, (error) =>
      new SupportError({ reason: `invalid COLONY_SUPPORT_PATTERN: ${String(error)}; use one of ${PatternSchema.literals.join(", ")}` })),
    (pattern) => layerWith({ pattern: Option.getOrUndefined(pattern) })
  )
)

/**
 * The support tables' database: `url`, or `DATABASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore = (url?: string): Layer.Layer<SqlClient.SqlClient, SupportError> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const resolved = url === undefined
        ? Option.getOrUndefined(yield* Effect.orElseSucceed(Config.option(Config.redacted("DATABASE_URL")), () => Option.none()))
        : Redacted.make(url)
      if (resolved === undefined) {
        return Layer.fail(
          new SupportError({ reason: "DATABASE_URL is not set: the support desk keeps orders and tickets in Postgres" })
        )
      }
      return PgClient.layer({ url: resolved }).pipe(
        Layer.mapError((error) =>
          new SupportError({ reason: `cannot reach the support database: ${error.message}; check that Postgres is up` })
        )
      )
    })
  )

/**
 * The errors of a desk message, for callers that want to match on them.
 *
 * @since 0.1.0
 */
export type DeskError = SupportError | ConversationNotYours | AgentError.AgentError | LanguageModel.ModelError

/**
 * The ticket queue's instance id (see `Desk.escalations`).
 *
 * @since 0.1.0
 */
export { queueId }
