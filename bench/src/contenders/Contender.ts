/**
 * A contender is one way to make the same single-agent call: the raw `openai` client, Colony,
 * or a peer framework, each written the way its own documentation recommends. Adding a framework
 * is one file in this folder plus one line in `index.ts`.
 */

export interface Options {
  /** the fake server's base URL, ending in /v1 */
  readonly baseUrl: string
  /** requests in flight the contender must allow (its own limits, if any, are raised to this) */
  readonly maxConcurrency: number
}

/** A set-up single agent. `session` names the conversation: frameworks without state ignore it. */
export interface SingleAgent {
  readonly call: (prompt: string, session: string) => Promise<string>
  readonly close: () => Promise<void>
}

/** A set-up team: a coordinator and workers that answer a task master-slave style. */
export interface Team {
  /** run the task; `run` names the request (a fresh one each time) */
  readonly run: (task: string, run: string) => Promise<string>
  readonly close: () => Promise<void>
}

export interface Contender {
  readonly id: string
  readonly label: string
  /** the package and version measured, for the tables */
  readonly version: string
  /** one agent answering one prompt; absent for a contender that only takes part in the team suite */
  readonly singleAgent?: ((options: Options) => Promise<SingleAgent>) | undefined
  /** coordinator + workers, when the suite compares collaborations */
  readonly team?: ((options: Options & { readonly workers: number }) => Promise<Team>) | undefined
  /** why this contender cannot run here (e.g. it needs a newer Node); undefined when it can */
  readonly unavailable?: (() => string | undefined) | undefined
}
