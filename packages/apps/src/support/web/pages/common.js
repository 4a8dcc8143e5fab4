// Shared by the chat page and the dashboard: the API, the event stream, and rendering of turns.
// Plain browser JavaScript, inlined into each page by the gateway (no build step).
"use strict"

const Support = (() => {
  // A customer opens the page as /support/#token=TOKEN (a token minted for them): the fragment
  // never reaches a server nor a Referer; the token is kept for this tab and the fragment dropped.
  // Without one, the page relies on the gateway's sign-in cookie.
  const params = new URLSearchParams(location.search)
  const fragment = new URLSearchParams(location.hash.slice(1))
  if (fragment.has("token")) {
    sessionStorage.setItem("colony.token", fragment.get("token"))
    history.replaceState(null, "", location.pathname + location.search)
  }
  const token = sessionStorage.getItem("colony.token") || ""

  class ApiError extends Error {
    constructor(message, status) {
      super(message)
      this.status = status
    }
  }

  const request = async (url, options = {}) => {
    const headers = {}
    if (token) headers.authorization = `Bearer ${token}`
    if (options.body !== undefined) headers["content-type"] = "application/json"
    let response
    try {
      response = await fetch(url, {
        method: options.method || "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body)
      })
    } catch (cause) {
      throw new ApiError(`the gateway cannot be reached (${cause.message})`, 0)
    }
    const body = await response.json().catch(() => null)
    if (response.status === 401 && !token) await signIn()
    if (!response.ok) {
      throw new ApiError(body && body.error ? body.error.message : `HTTP ${response.status}`, response.status)
    }
    return body
  }

  const api = (path, options = {}) => request(`/support/api${path}`, options)

  /**
   * Staff sign in once with a key, sent in a header; the gateway answers with an HttpOnly cookie,
   * so the key is kept neither by the page nor in a URL.
   */
  let signingIn = null
  const signIn = () => {
    signingIn = signingIn || (async () => {
      const key = window.prompt("This page needs to sign in: paste an operator API key of this gateway")
      if (!key) return
      const response = await fetch("/auth/session", {
        method: "POST",
        headers: { authorization: `Bearer ${key.trim()}`, "content-type": "application/json" },
        body: "{}"
      })
      if (response.ok) location.reload()
    })()
    return signingIn
  }

  /** A page of this app with the given query parameters (never a credential). */
  const link = (path, query = {}) => {
    const text = new URLSearchParams(query).toString()
    return text ? `${path}?${text}` : path
  }

  /**
   * Follow a conversation's events; `onState(true|false)` tells whether the stream is connected.
   * An `EventSource` cannot send a header: with a token, each connection takes a one-use ticket,
   * and a lost connection is reopened with a new one, after the last event seen.
   */
  const follow = (conversation, onEvent, onState) => {
    let source = null
    let closed = false
    let last = 0
    const open = async () => {
      const query = new URLSearchParams({ after: String(last) })
      if (token) {
        try {
          query.set("ticket", (await request("/auth/tickets", { method: "POST", body: {} })).ticket)
        } catch (error) {
          onState(false)
          if (!closed) setTimeout(open, 2000)
          return
        }
      }
      if (closed) return
      source = new EventSource(`/support/api/conversations/${encodeURIComponent(conversation)}/events?${query}`)
      source.onopen = () => onState(true)
      source.onerror = () => {
        onState(false)
        source.close()
        if (!closed) setTimeout(open, 2000)
      }
      source.onmessage = (message) => {
        if (message.lastEventId) last = Number(message.lastEventId) || last
        try {
          onEvent(JSON.parse(message.data))
        } catch (error) {
          console.error("unreadable event", error)
        }
      }
    }
    open()
    return { close: () => { closed = true; if (source) source.close() } }
  }

  /** An element: `h("p", { class: "x" }, "text", child)`. Text is always set as text, never as HTML. */
  const h = (tag, attributes = {}, ...children) => {
    const element = document.createElement(tag)
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue
      if (name.startsWith("on")) element.addEventListener(name.slice(2), value)
      else element.setAttribute(name, value === true ? "" : String(value))
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue
      element.append(child instanceof Node ? child : document.createTextNode(String(child)))
    }
    return element
  }

  const newConversationId = () => {
    const random = crypto.getRandomValues(new Uint32Array(2))
    return `c-${Date.now().toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`.slice(0, 40)
  }

  const time = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
  const money = (usd) => `$${usd < 0.01 && usd > 0 ? usd.toFixed(6) : usd.toFixed(usd === 0 ? 2 : 4)}`
  const number = (n) => n.toLocaleString("en-US")

  const whoOf = (turn) =>
    turn.role === "customer" ? "You" : turn.role === "human" ? "Support team (a person)" : `Assistant · ${turn.by}`

  /** The badges under an answer: its route, pattern, tools, escalation and the simulated label. */
  const badges = (reply) => {
    const list = [
      ...reply.intents.map((intent) => h("span", { class: "badge route", title: "route chosen by triage" }, `route: ${intent}`)),
      h("span", { class: "badge pattern", title: "how the agents worked on it" }, `pattern: ${reply.pattern}`),
      ...reply.tools.map((tool) =>
        h("span", { class: "badge tool", title: tool.ok ? tool.output : `failed: ${tool.output}` }, `tool: ${tool.name}${tool.ok ? "" : " ✗"}`)
      ),
      reply.escalation ? h("span", { class: "badge escalated" }, `escalated: ticket ${reply.escalation.id}`) : null,
      reply.simulated ? h("span", { class: "badge simulated", title: "no model endpoint is configured: a deterministic simulated model answered" }, "simulated") : null,
      h("span", { class: "badge cost" }, `${number(reply.totalTokens)} tokens · ${money(reply.cost)}`)
    ]
    return h("div", { class: "badges", "data-testid": "reply-badges" }, list)
  }

  /**
   * Render a transcript into `container`. `replies` maps an answer's text to the `Reply` it came
   * with (known for answers this page received), for its badges.
   */
  const renderTurns = (container, turns, options = {}) => {
    const replies = options.replies || new Map()
    const items = turns.map((turn) => {
      const reply = turn.role === "agent" ? replies.get(turn.text) : undefined
      return h(
        "article",
        { class: `turn ${turn.role}`, "data-role": turn.role, "aria-label": `${whoOf(turn)} at ${time(turn.at)}` },
        h("span", { class: "who" }, `${whoOf(turn)} · ${time(turn.at)}`),
        h("div", { class: "bubble" }, turn.text),
        reply ? badges(reply) : null
      )
    })
    if (options.pending) {
      items.push(h("article", { class: "turn customer pending" }, h("span", { class: "who" }, "You · sending…"), h("div", { class: "bubble" }, options.pending)))
      items.push(h("article", { class: "turn typing", "aria-label": "the assistant is answering" }, h("div", { class: "bubble" }, "The team is working on it…")))
    }
    if (options.ticket) {
      items.push(h("p", { class: "notice", role: "note" }, `Handed to a person (ticket ${options.ticket.id}): their answer will appear here.`))
    }
    if (items.length === 0 && options.empty) items.push(options.empty)
    container.replaceChildren(...items)
    container.scrollTop = container.scrollHeight
  }

  return { api, ApiError, link, follow, h, newConversationId, time, money, number, renderTurns, badges, params }
})()
