/**
 * Structured output: ask a model for JSON matching a `Schema`, decode it, and give a malformed
 * answer one chance to be repaired.
 */
import { Effect, Either, Option, ParseResult, Schema, SchemaAST } from "effect"
import { MalformedModelOutput, type ModelError } from "./errors.js"
import { type ChatRequest, ChatMessage, type ChatResponse, type ResponseFormat, Usage } from "./messages.js"
import { LanguageModel } from "./service.js"

/**
 * A request for structured output: `schema` describes the JSON the model must answer with.
 *
 * @since 0.1.0
 */
export interface ObjectRequest<A, I> extends Omit<ChatRequest, "responseFormat"> {
  readonly schema: Schema.Schema<A, I, never>
  readonly name?: string | undefined
  readonly description?: string | undefined
}

/**
 * A decoded structured answer, with the response it came from and the tokens and cost of every
 * call it took (two when it needed a repair).
 *
 * @since 0.1.0
 */
export interface ObjectResponse<A> {
  readonly value: A
  readonly response: ChatResponse
  readonly usage: Usage
  readonly cost: number
  readonly repaired: boolean
}

/** A decoding failure as text a model can read and act on. */
export const formatError = (error: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(error)

// Models often wrap JSON in a Markdown fence even when told not to; that is not worth a repair.
const unfence = (text: string) => {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(text)
  return fenced === null ? text : fenced[1]!
}

const decodeOutput = <A, I>(schema: Schema.Schema<A, I, never>, text: string): Either.Either<A, string> =>
  Schema.decodeUnknownEither(Schema.parseJson(schema))(unfence(text)).pipe(Either.mapLeft(formatError))

/**
 * Ask for JSON matching `schema` and decode it. An answer that is not valid gets one repair
 * attempt (the model sees its answer and the decoding error); a second invalid answer is a
 * `MalformedModelOutput`.
 *
 * @since 0.1.0
 */
export const generateObject = <A, I>(
  request: ObjectRequest<A, I>
): Effect.Effect<ObjectResponse<A>, ModelError | MalformedModelOutput, LanguageModel> =>
  Effect.gen(function*() {
    const model = yield* LanguageModel
    const { description, name, schema, ...rest } = request
    const identifier = Option.getOrUndefined(
      Option.orElse(
        SchemaAST.getIdentifierAnnotation(schema.ast),
        () => SchemaAST.getTitleAnnotation(schema.ast)
      )
    )
    const responseFormat: ResponseFormat = {
      name: name ?? identifier ?? "output",
      schema: schema as Schema.Schema.AnyNoContext,
      ...(description === undefined ? {} : { description })
    }
    const first = yield* model.chat({ ...rest, responseFormat })
    const decoded = decodeOutput(schema, first.text)
    if (Either.isRight(decoded)) {
      return { value: decoded.right, response: first, usage: first.usage, cost: first.cost, repaired: false }
    }
    const second = yield* model.chat({
      ...rest,
      responseFormat,
      messages: [
        ...rest.messages,
        ChatMessage.assistant(first.text),
        ChatMessage.user(
          `That reply is not valid: ${decoded.left}\nReply again with only the corrected JSON value, ` +
            `without prose or code fences.`
        )
      ]
    })
    const usage = Usage.add(first.usage, second.usage)
    const repaired = decodeOutput(schema, second.text)
    if (Either.isRight(repaired)) {
      return { value: repaired.right, response: second, usage, cost: first.cost + second.cost, repaired: true }
    }
    return yield* new MalformedModelOutput({
      model: request.model,
      schema: responseFormat.name,
      reason: repaired.left,
      output: second.text.length > 500 ? `${second.text.slice(0, 497)}...` : second.text
    })
  })
