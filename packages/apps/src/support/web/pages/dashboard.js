// The operator dashboard: for one conversation, its transcript and a live graph of the agents
// working on it (nodes are agent addresses, edges the messages between them, drawn from the
// runtime's events); for the whole desk, the load of each agent type, tokens and cost, and the
// escalation queue with a reply box per ticket.
"use strict"
;(() => {
  const { api, h, link, follow, renderTurns, money, number, time } = Support
  const SVG = "http://www.w3.org/2000/svg"

  const $ = (id) => document.getElementById(id)
  const svg = $("graph")
  const input = $("conversation-input")
  const live = $("live")

  // --- the graph of one conversation ---

  const palette = {
    customer: "#3b5bdb", operator: "#12b76a", desk: "#0e9384", triage: "#7a5af8", faq: "#2e90fa",
    orders: "#f79009", billing: "#ee46bc", technical: "#15b79e", escalation: "#f04438", critic: "#6172f3"
  }
  const colorOf = (type) => {
    if (palette[type]) return palette[type]
    let hash = 0
    for (const c of type) hash = (hash * 31 + c.charCodeAt(0)) >>> 0
    return `hsl(${hash % 360} 60% 45%)`
  }

  // Reads do not change a conversation: the pages' own polling must not draw edges.
  const reads = new Set(["GetTranscript", "ListTickets", "FindTicket", "Describe"])
  // Who sends a message no agent sent: the customer's messages, and the operator's answers.
  const rootOf = (rpc) => (rpc === "AnswerTicket" || rpc === "HumanReply" ? "operator" : "customer")

  let graph
  const reset = () => {
    graph = { nodes: new Map(), edges: new Map(), active: [], sent: new Map(), hot: null, messages: 0 }
  }

  const node = (address) => {
    let found = graph.nodes.get(address)
    if (!found) {
      const slash = address.indexOf("/")
      found = {
        address,
        type: slash < 0 ? address : address.slice(0, slash),
        id: slash < 0 ? "" : address.slice(slash + 1),
        busy: 0, failed: false, tools: new Set(), tokens: 0, pattern: null, order: graph.nodes.size
      }
      graph.nodes.set(address, found)
    }
    return found
  }

  const edge = (from, to, reply = false) => {
    node(from)
    node(to)
    const key = `${from}\u2192${to}`
    const found = graph.edges.get(key) || { key, from, to, messages: 0, replies: 0 }
    if (reply) found.replies += 1
    else {
      found.messages += 1
      graph.messages += 1
    }
    graph.edges.set(key, found)
    graph.hot = { key, at: Date.now() }
  }

  /**
   * An agent's message says who sent it only when the sender put its address in the payload: an
   * agent asked by another while that one handles a message was, most likely, asked by it.
   */
  const senderOf = (address, rpc) => {
    for (let i = graph.active.length - 1; i >= 0; i--) if (graph.active[i] !== address) return graph.active[i]
    return rootOf(rpc)
  }

  // Agents become nodes when they work on a message (an agent woken by a read is not drawn).
  const apply = (event) => {
    const address = `${event.agent}/${event.id}`
    switch (event._tag) {
      case "MessageReceived": {
        if (reads.has(event.rpc)) break
        node(address).busy += 1
        const announced = graph.sent.get(address) || 0
        // a session's message was drawn when the session sent it
        if (announced > 0) graph.sent.set(address, announced - 1)
        else edge(event.from || senderOf(address, event.rpc), address)
        graph.active.push(address)
        break
      }
      case "MessageHandled": {
        if (reads.has(event.rpc)) break
        const found = node(address)
        found.busy = Math.max(0, found.busy - 1)
        if (event.outcome !== "success") found.failed = true
        const at = graph.active.lastIndexOf(address)
        if (at >= 0) graph.active.splice(at, 1)
        break
      }
      case "ModelCalled":
        node(address).tokens += event.usage.totalTokens
        break
      case "ToolCalled":
        node(address).tools.add(event.tool)
        break
      case "SessionStarted":
        // a session is started by the agent handling a message (the desk): draw who started it
        if (!graph.nodes.has(address)) edge(senderOf(address, "Send"), address)
        node(address).pattern = event.pattern
        break
      case "MessageSent":
        edge(address, event.to)
        graph.sent.set(event.to, (graph.sent.get(event.to) || 0) + 1)
        break
      case "ReplyReceived":
        edge(address, event.from, true)
        break
      case "SubtaskAssigned":
        // a hybrid session assigns parts to teams, which are not agents: their members appear when asked
        if (event.worker.includes("/")) node(event.worker)
        break
    }
  }

  const s = (tag, attributes = {}, text) => {
    const element = document.createElementNS(SVG, tag)
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
    if (text !== undefined) element.textContent = text
    return element
  }

  const W = 168, H = 54, GAP_X = 64, GAP_Y = 18, PAD = 20

  /**
   * Columns by the longest chain of messages from the customer (and the operator), so who asks
   * whom reads left to right. Answers that go back up a chain (an operator's reply reaching the
   * desk) are the back edges of a depth-first walk and do not count.
   */
  const layout = () => {
    const nodes = [...graph.nodes.values()].sort((a, b) => a.order - b.order)
    const targets = new Set([...graph.edges.values()].map((e) => e.to))
    const next = new Map()
    for (const e of graph.edges.values()) next.set(e.from, [...(next.get(e.from) || []), e.to])
    const state = new Map()
    const forward = []
    const visit = (at) => {
      state.set(at, "open")
      for (const to of next.get(at) || []) {
        if (state.get(to) === "open") continue
        forward.push([at, to])
        if (!state.has(to)) visit(to)
      }
      state.set(at, "done")
    }
    const roots = nodes.filter((n) => !targets.has(n.address))
    for (const n of [...roots, ...nodes]) if (!state.has(n.address)) visit(n.address)
    const depth = new Map(nodes.map((n) => [n.address, 0]))
    for (let round = 0; round < nodes.length; round++) {
      for (const [from, to] of forward) depth.set(to, Math.max(depth.get(to), depth.get(from) + 1))
    }
    const columns = []
    for (const n of nodes) {
      const d = depth.get(n.address)
      ;(columns[d] = columns[d] || []).push(n)
    }
    const tallest = Math.max(1, ...columns.map((c) => (c ? c.length : 0)))
    const position = new Map()
    columns.forEach((column, d) => {
      if (!column) return
      const offset = ((tallest - column.length) * (H + GAP_Y)) / 2
      column.forEach((n, i) => position.set(n.address, { x: PAD + d * (W + GAP_X), y: PAD + offset + i * (H + GAP_Y) }))
    })
    return { position, width: PAD * 2 + columns.length * (W + GAP_X) - GAP_X, height: PAD * 2 + tallest * (H + GAP_Y) - GAP_Y + 50 }
  }

  const truncate = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

  const drawGraph = () => {
    const { position, width, height } = layout()
    const defs = s("defs")
    for (const [id, color] of [["arrow", "#98a2b3"], ["arrow-hot", "#3b5bdb"]]) {
      const marker = s("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" })
      marker.append(s("path", { d: "M0,0 L10,5 L0,10 z", fill: color }))
      defs.append(marker)
    }
    const children = [defs]
    if (graph.nodes.size === 0) {
      children.push(s("text", { x: 24, y: 40, fill: "#667085", "font-size": 14 }, conversation ? `Waiting for the agents of ${conversation}…` : "Choose a conversation above."))
      svg.setAttribute("viewBox", "0 0 560 340")
      svg.replaceChildren(...children)
      $("graph-summary").textContent = ""
      return
    }
    const hot = graph.hot && Date.now() - graph.hot.at < 2500 ? graph.hot.key : null
    for (const e of graph.edges.values()) {
      const a = position.get(e.from), b = position.get(e.to)
      if (!a || !b) continue
      let d, mid
      if (b.x > a.x) {
        const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x - 2, y2 = b.y + H / 2, dx = (x2 - x1) / 2
        d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`
        mid = { x: (x1 + x2) / 2, y: (y1 + y2) / 2 }
      } else if (b.x === a.x) {
        // same column: a straight line between the boxes, each direction on its own side
        const down = b.y > a.y, side = down ? 14 : -14
        const x = a.x + W / 2 + side, y1 = down ? a.y + H : a.y, y2 = down ? b.y - 2 : b.y + H + 2
        d = `M${x},${y1} L${x},${y2}`
        mid = { x: x + (down ? 16 : -16), y: (y1 + y2) / 2 + 8 }
      } else {
        // backwards: a loop under the boxes
        const x1 = a.x + W / 2 + 10, y1 = a.y + H, x2 = b.x + W / 2 - 10, y2 = b.y + H + 2, drop = 46
        d = `M${x1},${y1} C${x1},${y1 + drop} ${x2},${y2 + drop} ${x2},${y2}`
        mid = { x: (x1 + x2) / 2, y: Math.max(y1, y2) + drop * 0.75 }
      }
      const isHot = e.key === hot
      const group = s("g", { class: `edge${isHot ? " hot" : ""}${e.messages === 0 ? " reply" : ""}`, "data-from": e.from, "data-to": e.to })
      group.append(s("title", {}, `${e.from} → ${e.to}: ${e.messages} message(s), ${e.replies} repl${e.replies === 1 ? "y" : "ies"}`))
      group.append(s("path", { d, "marker-end": `url(#${isHot ? "arrow-hot" : "arrow"})` }))
      const label = `×${e.messages}${e.replies > 0 ? ` ↩${e.replies}` : ""}`
      group.append(s("text", { x: mid.x, y: mid.y - 4, "text-anchor": "middle" }, label))
      children.push(group)
    }
    for (const n of graph.nodes.values()) {
      const at = position.get(n.address)
      const color = colorOf(n.type)
      const group = s("g", {
        class: `node${n.busy > 0 ? " busy" : ""}${n.failed ? " failed" : ""}`,
        "data-address": n.address,
        transform: `translate(${at.x},${at.y})`
      })
      const details = [n.pattern ? `pattern ${n.pattern}` : null, n.tokens > 0 ? `${number(n.tokens)} tokens` : null,
        n.tools.size > 0 ? `tools: ${[...n.tools].join(", ")}` : null].filter(Boolean)
      group.append(s("title", {}, [n.address, ...details].join("\n")))
      group.append(s("rect", { width: W, height: H, rx: 10, fill: "#fff", stroke: color }))
      group.append(s("rect", { width: 6, height: H - 16, x: 0, y: 8, rx: 3, fill: color }))
      group.append(s("text", { class: "type", x: 14, y: 20 }, truncate(n.type, 20)))
      group.append(s("text", { class: "sub", x: 14, y: 35 }, truncate(n.id || (n.type === "customer" ? "the person chatting" : "a person"), 24)))
      if (details.length > 0) group.append(s("text", { class: "sub", x: 14, y: 48 }, truncate(details.join(" · "), 27)))
      children.push(group)
    }
    svg.setAttribute("viewBox", `0 0 ${Math.max(width, 300)} ${height}`)
    const scale = Math.min(1.25, svg.clientWidth / Math.max(width, 300))
    svg.style.height = `${Math.max(300, Math.round(height * scale))}px`
    svg.replaceChildren(...children)
    $("graph-summary").textContent = `${graph.nodes.size} nodes · ${graph.messages} messages`
    $("legend").replaceChildren(...[...new Set([...graph.nodes.values()].map((n) => n.type))].map((type) =>
      h("span", { style: `--swatch: ${colorOf(type)}` }, type)))
  }

  let frame = 0
  const scheduleDraw = () => {
    if (frame) return
    frame = requestAnimationFrame(() => {
      frame = 0
      drawGraph()
    })
  }
  // the highlighted edge cools down even when nothing else happens
  setInterval(() => { if (graph.hot) scheduleDraw() }, 1000)

  // --- the event log ---

  const describe = (e) => {
    const who = `${e.agent}/${e.id}`
    switch (e._tag) {
      case "MessageReceived": return `${who} ← ${e.rpc}${e.from ? ` from ${e.from}` : ""}: ${e.summary}`
      case "MessageHandled": return `${who} ${e.rpc} ${e.outcome} in ${e.durationMs} ms`
      case "ModelCalled": return `${who} ${e.model}${e.simulated ? " (simulated)" : ""}: ${e.usage.totalTokens} tokens`
      case "ToolCalled": return `${who} ${e.tool} ${e.ok ? "ok" : "failed"}: ${e.summary}`
      case "SessionStarted": return `${who} ${e.pattern}: ${e.task}`
      case "MessageSent": return `${who} → ${e.to} ${e.rpc}`
      case "ReplyReceived": return `${who} ← ${e.from} ${e.outcome}`
      case "SessionCompleted": return `${who} completed, ${e.totalTokens} tokens`
      case "TicketOpened": return `${who} opened ticket ${e.ticketId}: ${e.reason}`
      default: return who
    }
  }
  const log = $("event-log")
  const logEvent = (event) => {
    if ((event._tag === "MessageReceived" || event._tag === "MessageHandled") && reads.has(event.rpc)) return
    log.prepend(h("li", { title: describe(event) }, h("span", { class: "tag" }, event._tag), ` ${time(event.at)} ${describe(event)}`))
    while (log.children.length > 80) log.lastChild.remove()
  }

  // --- the selected conversation ---

  let conversation = ""
  let source = null
  let transcriptTimer = null

  const loadTranscript = async () => {
    const container = $("transcript")
    if (!conversation) return renderTurns(container, [], { empty: h("p", { class: "empty" }, "No conversation selected.") })
    try {
      const found = await api(`/conversations/${encodeURIComponent(conversation)}`)
      renderTurns(container, found.turns, { ticket: found.ticket })
    } catch (error) {
      renderTurns(container, [], {
        empty: h("p", { class: "empty" }, error.status === 404 ? "No messages yet in this conversation." : `Could not load it: ${error.message}`)
      })
    }
  }
  const refreshTranscriptSoon = () => {
    clearTimeout(transcriptTimer)
    transcriptTimer = setTimeout(loadTranscript, 150)
  }

  const select = (id) => {
    conversation = id
    input.value = id
    $("transcript-id").textContent = id
    $("chat-link").href = link("/support/", id ? { conversation: id } : {})
    history.replaceState(null, "", link("/support/dashboard", id ? { conversation: id } : {}))
    if (source) source.close()
    source = null
    reset()
    log.replaceChildren()
    drawGraph()
    loadTranscript()
    refreshStats()
    if (!id) return
    live.textContent = "○ connecting"
    source = follow(id, (event) => {
      apply(event)
      logEvent(event)
      scheduleDraw()
      if (event._tag === "MessageHandled" && event.agent === "desk" && !reads.has(event.rpc)) {
        refreshTranscriptSoon()
        refreshEscalations()
      }
    }, (connected) => {
      live.textContent = connected ? "● live" : "○ reconnecting"
      live.classList.toggle("on", connected)
    })
  }

  $("picker").addEventListener("submit", (event) => {
    event.preventDefault()
    const id = input.value.trim()
    if (id && id !== conversation) select(id)
  })

  const refreshConversations = async () => {
    try {
      const { conversations } = await api("/conversations")
      $("conversations").replaceChildren(...conversations.map((c) => h("option", { value: c.id }, `${c.events} events, last ${time(c.lastAt)}`)))
      if (!conversation && conversations.length > 0) select(conversations[0].id)
    } catch {
      // the next round tries again
    }
  }

  // --- load, tokens and cost ---

  const refreshStats = async () => {
    try {
      const stats = await api(`/stats${conversation ? `?conversation=${encodeURIComponent(conversation)}` : ""}`)
      $("load").tBodies[0].replaceChildren(...stats.agents.map((a) =>
        h("tr", {},
          h("td", {}, h("span", { style: `color: ${colorOf(a.agent)}` }, "■ "), a.agent),
          h("td", { class: a.inFlight > 0 ? "busy" : "" }, number(a.inFlight)),
          h("td", {}, number(a.handled)),
          h("td", {}, number(a.tokens)),
          h("td", {}, money(a.cost)))))
      const mine = stats.conversation ? stats.conversation.agents : []
      const sum = (key) => mine.reduce((total, a) => total + a[key], 0)
      $("totals").replaceChildren(
        h("div", {}, h("strong", {}, number(stats.total.calls)), h("span", {}, "model calls")),
        h("div", {}, h("strong", {}, number(stats.total.tokens)), h("span", {}, "tokens")),
        h("div", {}, h("strong", {}, money(stats.total.cost)), h("span", {}, "cost")),
        h("div", { style: "grid-column: 1 / -1" },
          h("span", {}, conversation ? `this conversation: ${number(sum("tokens"))} tokens · ${money(sum("cost"))} · ${mine.length} agent instances` : "no conversation selected")))
    } catch {
      // shown as stale until the next round
    }
  }

  // --- the escalation queue ---

  const tickets = $("escalations")
  const renderTicket = (ticket) => {
    const status = h("p", { class: "status", role: "status" })
    const reply = h("textarea", { id: `reply-${ticket.id}`, rows: 2, maxlength: 8000, required: true, placeholder: "Your answer to the customer" })
    const button = h("button", { type: "submit" }, "Send reply")
    const form = h("form", {
      onsubmit: async (event) => {
        event.preventDefault()
        const text = reply.value.trim()
        if (!text) return
        button.disabled = true
        try {
          await api(`/escalations/${encodeURIComponent(ticket.id)}/reply`, { method: "POST", body: { text } })
          item.remove()
          updateCount()
          if (ticket.conversationId === conversation) refreshTranscriptSoon()
        } catch (error) {
          status.textContent = `Not sent: ${error.message}`
          status.classList.add("error")
          button.disabled = false
        }
      }
    }, h("label", { for: `reply-${ticket.id}`, class: "visually-hidden" }, `Reply to ticket ${ticket.id}`), reply, button)
    const item = h("li", { class: "ticket", "data-ticket": ticket.id, "data-conversation": ticket.conversationId },
      h("header", {},
        h("span", {}, `ticket ${ticket.id} · opened ${time(ticket.openedAt)}`),
        h("a", { href: link("/support/dashboard", { conversation: ticket.conversationId }), onclick: (event) => {
          event.preventDefault()
          select(ticket.conversationId)
        } }, ticket.conversationId)),
      h("div", { class: "question" }, ticket.question),
      h("div", { class: "reason" }, `why: ${ticket.reason}`),
      form, status)
    return item
  }
  const updateCount = () => {
    const count = tickets.children.length
    const badge = $("escalation-count")
    badge.textContent = String(count)
    badge.classList.toggle("zero", count === 0)
  }
  let escalationsBusy = false
  const refreshEscalations = async () => {
    if (escalationsBusy) return
    escalationsBusy = true
    try {
      const { tickets: open } = await api("/escalations")
      // keep the cards already shown (and what the operator is typing in them)
      const ids = new Set(open.map((t) => t.id))
      for (const item of [...tickets.children]) if (!ids.has(item.dataset.ticket)) item.remove()
      const shown = new Set([...tickets.children].map((item) => item.dataset.ticket))
      for (const ticket of open) if (!shown.has(ticket.id)) tickets.append(renderTicket(ticket))
      updateCount()
    } catch {
      // the next round tries again
    } finally {
      escalationsBusy = false
    }
  }

  reset()
  select(Support.params.get("conversation") || localStorage.getItem("colony.support.conversation") || "")
  refreshConversations()
  refreshEscalations()
  setInterval(refreshConversations, 5000)
  setInterval(refreshEscalations, 3000)
  setInterval(refreshStats, 2000)
})()
