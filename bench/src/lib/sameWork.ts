/**
 * Evidence that contenders do the same work: what each one actually sent to the model endpoint,
 * reduced to the number of calls and the messages' roles, compared with what the raw client sent.
 */
import type { FakeServer, SentRequest } from "./fakeServer.js"

export interface Work {
  /** chat requests one operation made */
  readonly calls: number
  /** streamed requests among them */
  readonly streamed: number
  /** the requests as sent, in arrival order (may interleave for parallel calls) */
  readonly requests: ReadonlyArray<SentRequest>
}

/** Run one operation alone against the server and record what it sent. */
export const observe = async (server: FakeServer, operation: () => Promise<unknown>): Promise<Work> => {
  await server.reset()
  await operation()
  const stats = await server.stats()
  return { calls: stats.chatRequests, streamed: stats.streamRequests, requests: await server.requests(stats.chatRequests) }
}

const key = (request: SentRequest) =>
  JSON.stringify({ model: request.model, stream: request.stream, messages: request.messages, tools: request.tools })

/** "same as raw", or what differs: call count, streaming, or message content. */
export const compare = (work: Work, reference: Work): string => {
  if (work.calls !== reference.calls) return `${work.calls} calls vs ${reference.calls}`
  if (work.streamed !== reference.streamed) return `${work.streamed} streamed vs ${reference.streamed}`
  const ours = work.requests.map(key).sort()
  const theirs = reference.requests.map(key).sort()
  const differing = ours.filter((k, i) => k !== theirs[i]).length
  return differing === 0 ? "same requests" : `${differing} of ${work.calls} requests differ`
}

/** The messages' roles of the first request, e.g. "system+user". */
export const shape = (work: Work): string => work.requests[0]?.messages.map((m) => m.role).join("+") ?? "–"
