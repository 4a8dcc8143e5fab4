/**
 * The first draft of a reply, by the pattern the router chose: one specialist (`single`), a
 * specialist's draft debated by the critic and the reviewer (`peer-review`), the lead over one
 * specialist per intent or per question (`master-slave`), or teams of specialists and reviewers
 * deliberating under the lead (`hybrid`).
 */
import { Collaboration } from "@colony/agents"
import { Colony } from "@colony/runtime"
import { Effect } from "effect"
import * as Agents from "./Agents.js"
import type { Intent } from "./Desk.js"
import { combine, dedupe, fromAnswer, fromResult } from "./Outcome.js"
import * as Policy from "./Policy.js"
import { questionsIn } from "./Routing.js"

const ORDER_ID = /\bA-\d{5}\b/

const specialistFor = (intent: Intent): "orders" | "faq" => intent === "orders" ? "orders" : "faq"

// A message naming an order goes to the orders specialist, who can act on it; without an order
// number even an order question is a help-centre one (delivery times, how to change an address):
// the orders specialist could only ask for the number.
export const primaryFor = (text: string): "orders" | "faq" => ORDER_ID.test(text) ? "orders" : "faq"

/** Asking the conversation's specialists, on behalf of the desk. */
export const specialists = (conversation: string, self: string) =>
  Effect.gen(function*() {
    const clients = { orders: yield* Colony.client(Agents.Orders), faq: yield* Colony.client(Agents.Faq) }
    return (name: "orders" | "faq", prompt: string) =>
      Effect.map(clients[name](conversation).Ask({ prompt, from: self }), (answer) => fromAnswer(`${name}/${conversation}`, answer))
  })

/** What a draft is written for: the message, its route, and the conversation's specialists. */
export interface Drafting {
  readonly conversation: string
  /** the message's number in the conversation, for the collaborations' session ids */
  readonly number: number
  readonly text: string
  readonly route: Agents.Route
  readonly ask: Effect.Effect.Success<ReturnType<typeof specialists>>
}

const peerReview = ({ ask, conversation, number, text }: Drafting, primary: "orders" | "faq") =>
  Effect.gen(function*() {
    const first = yield* ask(primary, text)
    const review = yield* Collaboration.run(
      Collaboration.Peer.make({
        peers: [ref(conversation)("critic"), ref(conversation)("reviewer")],
        rounds: 1,
        stop: "fixed-rounds",
        options: ["approve", "revise"]
      }),
      `A customer of Northwind Goods wrote:\n${text}\n\nThe draft reply:\n${first.text}\n\n` +
        `The support policy:\n${Policy.text}\n\nShould the draft be sent as it is (approve) or revised (revise)?`,
      { session: session(conversation, number, "peer-review") }
    )
    const reviewed = combine(first, { ...fromResult(review, first.by), text: first.text, by: first.by })
    // Only a reviewer who clearly asked for a revision gets one: a vote read by the
    // fallback (an answer naming no option, or both) is no judgement of the draft.
    const objections = review.votes.filter((vote) => vote.choice === "revise" && vote.how !== "fallback")
    if (objections.length === 0) return reviewed
    const comments = review.contributions.map((c) => `- ${c.by.agent}: ${c.text}`).join("\n")
    const revised = yield* ask(
      primary,
      `Reviewers asked for a revision of your reply to "${text}":\n${comments}\nWrite the revised reply.`
    )
    return combine(reviewed, revised)
  })

const masterSlave = ({ conversation, number, route, text }: Drafting, primary: "orders" | "faq") =>
  Effect.gen(function*() {
    const names = dedupe(route.intents.map(specialistFor))
    // several topics: one part per intent, to its specialist; several questions on one
    // topic: one part per question, all to that topic's specialist
    const byTopic = route.intents.length > 1
    const questions = questionsIn(text)
    const result = yield* Collaboration.run(
      Collaboration.MasterSlave.make({
        coordinator: ref(conversation)("lead"),
        workers: (byTopic ? names : [primary]).map(ref(conversation)) as [Collaboration.AgentRef, ...Array<Collaboration.AgentRef>],
        decompose: byTopic || questions.length < 2
          ? { _tag: "Vertical", functions: route.intents as [Intent, ...Array<Intent>] }
          : { _tag: "Horizontal", items: questions as [string, ...Array<string>], blocks: questions.length },
        assign: byTopic ? "capability" : "round-robin",
        aggregate: "synthesis"
      }),
      text,
      { session: session(conversation, number, "master-slave") }
    )
    return fromResult(result, `lead/${conversation}`)
  })

const hybrid = ({ conversation, number, text }: Drafting, primary: "orders" | "faq") =>
  Effect.gen(function*() {
    const resolvers = dedupe([primary, "faq" as const])
    const result = yield* Collaboration.run(
      Collaboration.Hybrid.make({
        coordinator: ref(conversation)("lead"),
        teams: [
          new Collaboration.Team({ name: "resolution", peers: resolvers.map(ref(conversation)) as [Collaboration.AgentRef], rounds: 1 }),
          new Collaboration.Team({ name: "review", peers: [ref(conversation)("critic"), ref(conversation)("reviewer")], rounds: 1 })
        ],
        decompose: "replicate",
        aggregate: "synthesis"
      }),
      `${text}\n\nThe support policy:\n${Policy.text}`,
      { session: session(conversation, number, "hybrid") }
    )
    return fromResult(result, `lead/${conversation}`)
  })

/** The first draft of the reply to `drafting.text`, by its route's pattern. */
export const draft = (drafting: Drafting) => {
  const primary = primaryFor(drafting.text)
  switch (drafting.route.pattern) {
    case "single":
      return drafting.ask(primary, drafting.text)
    case "peer-review":
      return peerReview(drafting, primary)
    case "master-slave":
      return masterSlave(drafting, primary)
    case "hybrid":
      return hybrid(drafting, primary)
  }
}

const ref = (conversation: string) => (name: string) => new Collaboration.AgentRef({ agent: name, id: conversation })

const session = (conversation: string, number: number, pattern: string) => `${conversation}.${number}-${pattern}`
