/**
 * Aggregation strategies: combine the workers' answers. Pure functions over plain data.
 *
 * @since 0.1.0
 */

/**
 * One worker's part of a result.
 *
 * @since 0.1.0
 */
export interface Part {
  readonly subtask: string
  readonly text: string
}

/**
 * Concatenation: the parts in subtask order, each under its subtask.
 *
 * @since 0.1.0
 */
export const concatenate = (parts: ReadonlyArray<Part>): string =>
  parts.map((part, i) => `${i + 1}. ${part.subtask}\n   ${part.text}`).join("\n")

/**
 * The prompt a coordinator gets to synthesise the parts into one answer.
 *
 * @since 0.1.0
 */
export const synthesisPrompt = (task: string, parts: ReadonlyArray<Part>): string =>
  `Task: ${task}\n\nCombine these partial answers into one coherent answer:\n${concatenate(parts)}`
