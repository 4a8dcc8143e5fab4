// The customer chat: send a message, show the desk's answer with how it was reached, and follow
// the conversation live so an operator's answer to an escalation appears without a reload.
"use strict"
;(() => {
  const { api, h, link, follow, renderTurns } = Support
  const stored = localStorage.getItem("colony.support.conversation")
  const conversation = Support.params.get("conversation") || stored || Support.newConversationId()
  localStorage.setItem("colony.support.conversation", conversation)

  const transcript = document.getElementById("transcript")
  const status = document.getElementById("status")
  const form = document.getElementById("composer")
  const input = document.getElementById("message")
  const sendButton = document.getElementById("send")
  const suggestions = document.getElementById("suggestions")

  document.getElementById("conversation-label").textContent = conversation
  document.getElementById("dashboard-link").href = link("/support/dashboard", { conversation })
  document.getElementById("new-conversation").addEventListener("click", () => {
    localStorage.removeItem("colony.support.conversation")
    location.href = link("/support/", { conversation: Support.newConversationId() })
  })

  const state = { turns: [], ticket: null, pending: null, replies: new Map() }
  const path = `/conversations/${encodeURIComponent(conversation)}`

  const say = (text, isError = false) => {
    status.textContent = text
    status.classList.toggle("error", isError)
  }

  const render = () => {
    renderTurns(transcript, state.turns, {
      replies: state.replies,
      pending: state.pending,
      ticket: state.ticket,
      empty: h("p", { class: "empty" }, "Hello! Ask us anything about your orders, billing or our products. ",
        "A team of assistants will work on it; a person steps in when they should.")
    })
    suggestions.hidden = state.turns.length > 0 || state.pending !== null
  }

  const refresh = async () => {
    try {
      const found = await api(path)
      state.turns = found.turns
      state.ticket = found.ticket
    } catch (error) {
      if (error.status !== 404) say(`Could not load the conversation: ${error.message}`, true)
    }
    render()
  }

  const send = async (text) => {
    state.pending = text
    sendButton.disabled = true
    say("")
    render()
    try {
      const reply = await api(`${path}/messages`, { method: "POST", body: { text, messageId: crypto.randomUUID() } })
      state.replies.set(reply.text, reply)
      input.value = ""
    } catch (error) {
      say(`Your message was not answered: ${error.message}`, true)
    } finally {
      state.pending = null
      sendButton.disabled = false
      await refresh()
      input.focus()
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const text = input.value.trim()
    if (text && state.pending === null) send(text)
  })
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault()
      form.requestSubmit()
    }
  })

  for (const example of [
    "Where is my order A-10023, and how do I change the delivery address?",
    "I was charged twice for order A-10021. Can I get a refund?",
    "My smart kettle keeps disconnecting from the Wi-Fi."
  ]) {
    suggestions.append(h("button", { type: "button", onclick: () => { input.value = example; input.focus() } }, example))
  }

  // Someone else changed the conversation (an operator answered a ticket): read it again. Reads
  // (this page's own included) change nothing and are skipped, or each read would cause the next.
  let timer = null
  follow(conversation, (event) => {
    if (event._tag !== "MessageHandled" || event.agent !== "desk" || event.rpc === "GetTranscript") return
    if (state.pending !== null) return
    clearTimeout(timer)
    timer = setTimeout(refresh, 150)
  }, () => {})

  refresh()
})()
