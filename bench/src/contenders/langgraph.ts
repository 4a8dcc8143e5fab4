/**
 * LangGraph.js, as its docs write it: a `StateGraph` over `MessagesAnnotation` with one model
 * node calling `ChatOpenAI` (quickstart, Graph API) for the single agent; for the team, the
 * orchestrator-worker workflow ("Workflows and agents"): an orchestrator node splits the task,
 * the `Send` API fans the subtasks out to parallel worker nodes, and a synthesizer node combines
 * their answers.
 *
 * The orchestrator splits with the same pure function Colony's `MasterSlave` uses
 * (`Decompose.byClauses`) instead of a planning model call, so both make the same five calls (four
 * workers, one synthesis). `createSupervisor` (@langchain/langgraph-supervisor) is not used:
 * it routes with a model call per hand-off and runs workers one after another (2n + 1 calls), which
 * is different work, not a different framework doing the same work.
 */
import { Aggregate, Decompose } from "@colony/agents"
import { HumanMessage, SystemMessage } from "@langchain/core/messages"
import { Annotation, END, MessagesAnnotation, Send, START, StateGraph } from "@langchain/langgraph"
import { ChatOpenAI } from "@langchain/openai"
import { COORDINATOR_INSTRUCTIONS, INSTRUCTIONS, MODEL_ID, versions, WORKER_INSTRUCTIONS } from "../lib/workload.js"
import type { Contender, Options } from "./Contender.js"

const chatModel = (options: Options) =>
  new ChatOpenAI({
    model: MODEL_ID,
    apiKey: "x",
    configuration: { baseURL: options.baseUrl },
    maxConcurrency: options.maxConcurrency
  })

const text = (content: unknown): string => (typeof content === "string" ? content : JSON.stringify(content))

interface Part {
  readonly index: number
  readonly subtask: string
  readonly text: string
}

const TeamState = Annotation.Root({
  task: Annotation<string>,
  subtasks: Annotation<Array<string>>,
  parts: Annotation<Array<Part>>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  answer: Annotation<string>
})

const WorkerState = Annotation.Root({
  index: Annotation<number>,
  subtask: Annotation<string>,
  parts: Annotation<Array<Part>>({ reducer: (a, b) => a.concat(b), default: () => [] })
})

export const langgraph: Contender = {
  id: "langgraph",
  label: "LangGraph StateGraph",
  version: `@langchain/langgraph ${versions["@langchain/langgraph"]}, @langchain/openai ${versions["@langchain/openai"]}`,
  singleAgent: async (options) => {
    const model = chatModel(options)
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("agent", async (state) => ({
        messages: [await model.invoke([new SystemMessage(INSTRUCTIONS), ...state.messages])]
      }))
      .addEdge(START, "agent")
      .addEdge("agent", END)
      .compile()
    return {
      call: async (prompt) => {
        const out = await graph.invoke({ messages: [new HumanMessage(prompt)] })
        return text(out.messages.at(-1)?.content)
      },
      close: async () => {}
    }
  },
  team: async (options) => {
    const model = chatModel(options)
    const graph = new StateGraph(TeamState)
      .addNode("orchestrator", (state) => ({ subtasks: [...Decompose.byClauses(state.task)] }))
      .addNode("worker", async (state: typeof WorkerState.State) => {
        const reply = await model.invoke([new SystemMessage(WORKER_INSTRUCTIONS), new HumanMessage(state.subtask)])
        return { parts: [{ index: state.index, subtask: state.subtask, text: text(reply.content) }] }
      })
      .addNode("synthesizer", async (state) => {
        const parts = [...state.parts].sort((a, b) => a.index - b.index)
        const reply = await model.invoke([
          new SystemMessage(COORDINATOR_INSTRUCTIONS),
          new HumanMessage(Aggregate.synthesisPrompt(state.task, parts))
        ])
        return { answer: text(reply.content) }
      })
      .addEdge(START, "orchestrator")
      .addConditionalEdges(
        "orchestrator",
        (state) => state.subtasks.map((subtask, index) => new Send("worker", { subtask, index })),
        ["worker"]
      )
      .addEdge("worker", "synthesizer")
      .addEdge("synthesizer", END)
      .compile()
    return {
      run: async (task) => (await graph.invoke({ task })).answer,
      close: async () => {}
    }
  }
}
