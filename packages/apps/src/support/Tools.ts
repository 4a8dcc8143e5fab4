/**
 * The specialists' tools at work: the order tools act only on the conversation's own customer's
 * orders, and the knowledge-base search answers from the help centre. Their definitions (names,
 * schemas) are the agents' toolkits in `Agents.ts`.
 */
import { Agent } from "@colony/runtime"
import type * as Toolkit from "@effect/ai/Toolkit"
import { Effect, Option } from "effect"
import * as Agents from "./Agents.js"
import * as KnowledgeBase from "./KnowledgeBase.js"
import * as Store from "./Store.js"

const money = (cents: number) => (cents / 100).toFixed(2)

const describeOrder = (order: Store.Order) =>
  [
    `order ${order.id} (${order.items}, ${money(order.totalCents)}), placed ${order.placedOn}: ${order.status}`,
    order.carrier === null ? undefined : `carrier ${order.carrier}, tracking ${order.tracking}`,
    order.expectedOn === null ? undefined : `${order.status === "delivered" ? "delivered" : "expected"} ${order.expectedOn}`,
    `ships to ${order.address}`,
    order.refund === null ? undefined : order.refund
  ].filter((part) => part !== undefined).join("; ")

/**
 * The order, when it is the conversation's customer's. Tools are shared by every conversation;
 * the agent instance's id is its conversation's (every agent on a conversation uses it), and the
 * desk bound that conversation to its verified customer before any specialist ran.
 */
const ownOrder = (orderId: string) =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    const { id } = yield* Agent.CurrentAgent
    const customer = Option.getOrNull(yield* store.conversationOwner(id))
    // checked before the order is read, so an unverified sender learns nothing, not even whether it exists
    if (customer === null) return yield* new Agents.CustomerNotVerified({ orderId })
    const order = yield* store.order(orderId)
    if (order.email.toLowerCase() !== customer.toLowerCase()) return yield* new Agents.OrderNotYours({ orderId })
    return order
  })

const ordersTools = {
  lookup_order: ({ orderId }) => Effect.map(ownOrder(orderId), describeOrder),
  change_address: ({ newAddress, orderId }) =>
    Effect.gen(function*() {
      yield* ownOrder(orderId)
      const order = yield* Effect.flatMap(Store.Store, (store) => store.changeAddress(orderId, newAddress))
      return `the delivery address of order ${order.id} is now ${order.address}`
    }),
  request_refund: ({ orderId, reason }) =>
    Effect.gen(function*() {
      yield* ownOrder(orderId)
      const order = yield* Effect.flatMap(Store.Store, (store) => store.requestRefund(orderId, reason.slice(0, 300)))
      return `order ${order.id}: ${order.refund}`
    })
} satisfies Agent.ToolHandlers<Toolkit.Tools<typeof Agents.OrdersToolkit>>

const faqTools = {
  search_knowledge_base: ({ query }) => {
    const hits = KnowledgeBase.search(query, { limit: 3 })
    return Effect.succeed(
      hits.length === 0
        ? "no article matches"
        : hits.map((hit) => `[${hit.id}] ${hit.title} (${hit.category}): ${hit.body}`).join("\n\n")
    )
  }
} satisfies Agent.ToolHandlers<Toolkit.Tools<typeof Agents.FaqToolkit>>

export const FaqLive = Agent.toLayer(Agents.Faq, {}, { toolHandlers: faqTools })

export const OrdersLive = Agent.toLayer(Agents.Orders, {}, { toolHandlers: ordersTools })

