/**
 * `colony eval`: does collaboration pay on these tasks and this model? Runs a task set (generated,
 * or a JSONL file of `{"task", "answer"}` lines) through each pattern on an embedded colony and
 * prints one row per pattern: accuracy with its 95 % interval, model calls, tokens, cost, latency
 * and the answers that could not be read; the same as JSON is written to a file beside it.
 *
 * With `--model-url` every agent asks that OpenAI-compatible endpoint (with `COLONY_MODEL_KEY`
 * as its key, and `--model-id` as the model, else each agent's own model name); with `--registry`
 * the agents ask the models the environment configures, each agent by its own name. Without it the agents ask
 * the skill model (`SkillModel`), a simulated model whose agents are right with a set probability
 * per domain, served by an in-process fake endpoint so the calls take the same path; its tables
 * are labelled simulated.
 *
 * With `DATABASE_URL` (and `COLONY_RUNNER_SECRET`) set, unless `--embedded`, this process is a
 * client of the colony's runners: the eval's agents run on runners started with
 * `colony runner --agents` and the `@colony/agents` module `EvalAgents`, asking the models the
 * runners configure, and calls, tokens and cost are summed from their answers. Before the first
 * task it asks the runners what they host (`EvalAgents.check`) and stops, saying which setting to
 * change, when they lack a solver or an expert the patterns and tasks need.
 *
 * @since 0.1.0
 */
import { Eval, TaskSet } from "@colony/agents"
import * as EvalAgents from "@colony/agents/EvalAgents"
import { Colony, LanguageModel, ModelRegistry } from "@colony/runtime"
import * as SkillModel from "@colony/runtime/SkillModel"
import { FakeOpenAI } from "@colony/runtime/testing"
import { Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { Config, Console, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import * as Application from "../Application.js"
import * as Gateway from "../Gateway.js"
import * as ModelOptions from "./ModelOptions.js"

/** `--tasks`, listing the sets there are: the generated ones, then the applications'. */
const tasksOption = (sets: Application.TaskSets) =>
  Options.text("tasks").pipe(
    Options.withDefault("arithmetic:50"),
    Options.withDescription(
      `<set>:<count> with set one of ${Object.keys(sets).join(", ")}, or a .jsonl file of {"task", "answer"} lines` +
        Object.entries(sets)
          .filter(([name]) => !Object.hasOwn(TaskSet.generators, name))
          .map(([name, set]) => `; ${name}: ${set.description}`)
          .join("")
    )
  )

const options = {
  patterns: Options.text("patterns").pipe(
    Options.withDefault("single,peer:5x2,master-slave,hybrid"),
    Options.withDescription("comma-separated: single, peer:NxR, master-slave, hybrid:TxP[xR]")
  ),
  modelUrl: ModelOptions.modelUrl,
  modelId: ModelOptions.modelId,
  registry: Options.boolean("registry").pipe(
    Options.withDescription(
      "use the model registry configured in the environment (COLONY_MODEL_URL, COLONY_MODELS): each agent asks the model " +
        "named after it (solver-1, expert-<domain>, coordinator), so agents can have models of their own"
    )
  ),
  embedded: Options.boolean("embedded").pipe(
    Options.withDescription("host the eval's agents in this process (the default when DATABASE_URL is not set)")
  ),
  json: Options.boolean("json").pipe(Options.withDescription("print the report as JSON instead of a table")),
  out: Options.text("out").pipe(Options.withDefault("colony-eval.json"), Options.withDescription("where the JSON report is written")),
  prices: Options.text("prices").pipe(
    Options.optional,
    Options.withDescription("input,output prices in USD per million tokens, e.g. 0.15,0.6, for the cost column")
  ),
  concurrency: Options.integer("concurrency").pipe(Options.withDefault(4), Options.withDescription("tasks run at a time")),
  seed: Options.integer("seed").pipe(Options.withDefault(1), Options.withDescription("seed of the generated tasks and the skill model")),
  skill: Options.float("skill").pipe(
    Options.withDefault(0.6),
    Options.withDescription("skill model: the probability an agent answers right (simulated; ignored with --model-url)")
  ),
  expertSkill: Options.float("expert-skill").pipe(
    Options.withDefault(0.8),
    Options.withDescription("skill model: an expert's probability in its own domain")
  ),
  correlation: Options.float("correlation").pipe(
    Options.withDefault(0),
    Options.withDescription("skill model: 0 independent errors … 1 every agent errs together")
  ),
  persuasion: Options.float("persuasion").pipe(
    Options.withDefault(0.5),
    Options.withDescription("skill model: chance a wrong agent takes a right answer it sees in a debate")
  )
}

type Settings = Command.Command.ParseConfig<typeof options>

const loadTasks = (spec: string, seed: number, sets: Application.TaskSets) =>
  Effect.gen(function*() {
    const generated = TaskSet.parseSpec(spec, seed, sets)
    if (generated !== undefined) return generated
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(spec))) return yield* new TaskSet.UnknownTaskSet({ spec, names: Object.keys(sets) })
    const text = yield* fs.readFileString(spec)
    return yield* Either.match(TaskSet.fromJsonl(text, spec), { onLeft: Effect.fail, onRight: Effect.succeed })
  })

/** The skill model's agents: every solver and the coordinator at `skill`, each expert higher in its domain. */
const skillModel = (settings: Settings, patterns: ReadonlyArray<Eval.PatternSpec>, tasks: ReadonlyArray<TaskSet.Task>) => {
  const plain = { "*": settings.skill }
  const agents: Record<string, SkillModel.Skill> = { coordinator: plain, ...SkillModel.uniform("solver", Eval.solversNeeded(patterns), plain) }
  for (const domain of new Set(tasks.map((t) => t.domain))) {
    agents[Eval.expertName(domain)] = { "*": settings.skill, [domain]: settings.expertSkill }
  }
  return SkillModel.make({ agents, seed: settings.seed, correlation: settings.correlation, persuasion: settings.persuasion })
}

/** The model the agents ask, and how the report names it. */
const modelFor = (settings: Settings, patterns: ReadonlyArray<Eval.PatternSpec>, tasks: ReadonlyArray<TaskSet.Task>) => {
  const prices = Option.getOrUndefined(Option.map(settings.prices, (text) => {
    const [input = 0, output = 0] = text.split(",").map(Number)
    return { input, output }
  }))
  if (settings.registry) {
    return Effect.map(ModelRegistry.fromConfig, (registry) => ({
      layer: LanguageModel.layerRegistry(registry),
      label: `the configured model registry (${ModelRegistry.names(registry).join(", ") || "one endpoint"})`,
      simulated: false
    }))
  }
  if (Option.isSome(settings.modelUrl)) {
    const baseUrl = settings.modelUrl.value
    return Effect.map(Config.option(Config.redacted("COLONY_MODEL_KEY")), (key) => ({
      layer: LanguageModel.layerOpenAI({
        baseUrl,
        apiKey: Option.getOrElse(key, () => Redacted.make("not-needed")),
        ...Option.match(settings.modelId, { onNone: () => ({}), onSome: (modelId) => ({ modelId }) }),
        prices
      }),
      label: `${Option.getOrElse(settings.modelId, () => "each agent's model name")} at ${baseUrl}`,
      simulated: false
    }))
  }
  return Effect.map(
    Effect.acquireRelease(
      Effect.promise(() => FakeOpenAI.start({ respond: SkillModel.respond(skillModel(settings, patterns, tasks), tasks) })),
      (server) => Effect.promise(() => server.close())
    ),
    (server) => ({
      layer: LanguageModel.layerOpenAI({ baseUrl: server.url, apiKey: "simulated", prices }),
      label: `skill model (agents right with p ${settings.skill}, experts ${settings.expertSkill} in their domain, ` +
        `correlation ${settings.correlation}, persuasion ${settings.persuasion}, seed ${settings.seed})`,
      simulated: true
    })
  )
}

/**
 * `--model-url`, `--model-id`, `--registry` or a skill model knob given to an eval on runners:
 * the runners' own model configuration answers there.
 *
 * @since 0.1.0
 * @category errors
 */
export class ModelOptionOnRunners extends Schema.TaggedError<ModelOptionOnRunners>()("ModelOptionOnRunners", {
  option: Schema.String
}) {
  override get message() {
    return `${this.option} does not apply to an eval on runners (DATABASE_URL is set): the runners' agents ask the models ` +
      `the runners configure (COLONY_MODEL_URL, COLONY_MODELS). Configure them there, or pass --embedded to run here`
  }
}

/** The eval's agents hosted here, asking the model `modelFor` chooses. */
const embeddedColony = (settings: Settings, patterns: ReadonlyArray<Eval.PatternSpec>, tasks: ReadonlyArray<TaskSet.Task>) =>
  Effect.map(modelFor(settings, patterns, tasks), (model) => ({
    model,
    colony: Eval.agents(patterns, tasks).pipe(Layer.provideMerge(Colony.layerEmbedded({ languageModel: model.layer })))
  }))

/** A client of the runners that host the eval's agents (`EvalAgents`), asking the runners' models. */
const runnersColony = (settings: Settings, patterns: ReadonlyArray<Eval.PatternSpec>, tasks: ReadonlyArray<TaskSet.Task>) =>
  Effect.gen(function*() {
    const given = [
      Option.isSome(settings.modelUrl) ? "--model-url" : undefined,
      Option.isSome(settings.modelId) ? "--model-id" : undefined,
      settings.registry ? "--registry" : undefined
    ].find((option) => option !== undefined)
    if (given !== undefined) return yield* new ModelOptionOnRunners({ option: given })
    const types = Eval.agentTypes(Eval.solversNeeded(patterns), Eval.domainsOf(tasks))
    return {
      model: { label: "the models of the colony's runners", simulated: false },
      colony: Colony.declare(...types).pipe(Layer.provideMerge(Colony.clientOnly))
    }
  })

const progressBar = (p: { readonly pattern: string; readonly done: number; readonly total: number }) =>
  Effect.sync(() => {
    const width = 30
    const filled = Math.round((p.done / p.total) * width)
    const line = `${p.pattern.padEnd(14)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.done}/${p.total}`
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${p.done === p.total ? "\n" : ""}`)
    else if (p.done === p.total || p.done % Math.max(1, Math.ceil(p.total / 4)) === 0) process.stderr.write(`${line}\n`)
  })

const failWith = (error: unknown) => {
  const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  return Effect.zipRight(Console.error(`error: ${message}`), Effect.sync(() => {
    process.exitCode = 1
  }))
}

/** One evaluation, as the command line asks for it. */
const evaluate = (settings: Settings & { readonly tasks: string }, sets: Application.TaskSets) =>
  Effect.gen(function*() {
    const local = settings.embedded || (yield* Gateway.embeddedByDefault)
    yield* evaluateOn(local, settings, sets).pipe(Effect.scoped, Effect.catchAll(failWith))
    // As a client of runners the process was seen to stay alive after the report (or the error),
    // held by a connection of the cluster client that its layer's release leaves open; the eval
    // is done, so the command ends the process itself.
    if (!local) yield* Effect.sync(() => process.exit(process.exitCode ?? 0))
  })

const evaluateOn = (local: boolean, settings: Settings & { readonly tasks: string }, sets: Application.TaskSets) =>
  Effect.gen(function*() {
    const patterns = yield* Either.match(Eval.parsePatterns(settings.patterns), { onLeft: Effect.fail, onRight: Effect.succeed })
    const tasks = yield* loadTasks(settings.tasks, settings.seed, sets)
    const { colony, model } = local ? yield* embeddedColony(settings, patterns, tasks) : yield* runnersColony(settings, patterns, tasks)
    const reports = yield* Effect.gen(function*() {
      // on runners, first whether they host what the patterns and tasks need: otherwise each task
      // that reaches an agent no runner hosts waits for it and fails on its own
      if (!local) yield* EvalAgents.check(patterns, tasks)
      yield* Console.error(`evaluating ${patterns.map(Eval.patternName).join(", ")} on ${tasks.length} tasks (${settings.tasks}), ${model.label}`)
      return yield* Eval.run({ tasks, patterns, concurrency: settings.concurrency, onProgress: progressBar })
    }).pipe(Effect.provide(colony))
    // on runners, only their answers tell whether their models are simulated
    const simulated = model.simulated || reports.some((p) => p.simulated === true)
    const report = new Eval.Report({ model: model.label, simulated, tasks: settings.tasks, patterns: reports })
    const json = JSON.stringify(Schema.encodeSync(Eval.Report)(report), null, 2)
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFileString(settings.out, `${json}\n`)
    yield* settings.json ? Console.log(json) : Console.log(Eval.formatTable(report))
    yield* Console.error(`wrote ${settings.out}`)
  })

/**
 * `colony eval`, offering the generated task sets and the `applications`' own
 * (`Application.taskSets`; on a name clash the generated set wins).
 *
 * @since 0.1.0
 */
export const make = (applications: ReadonlyArray<Application.Application>) => {
  const sets: Application.TaskSets = { ...Application.taskSets(applications), ...TaskSet.generators }
  return Command.make("eval", { ...options, tasks: tasksOption(sets) }, (settings) => evaluate(settings, sets)).pipe(
    Command.withDescription(
      "Measure accuracy, cost and latency per collaboration pattern on a task set (the skill model, simulated, unless --model-url)"
    )
  )
}
