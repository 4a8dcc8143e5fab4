/**
 * Does collaboration pay? An evaluation runs task sets with checkable answers (`TaskSet`) through
 * collaboration patterns and measures, per pattern, accuracy with its 95 % interval, model calls,
 * tokens, cost, latency and the answers that could not be read.
 *
 * @since 0.1.0
 */

/**
 * The Wilson score interval for a proportion: `successes` of `trials`, at 95 % by default
 * (z = 1.96). Unlike the normal approximation it stays inside [0, 1] and is sound for small
 * samples and proportions near 0 or 1 (Wilson, 1927).
 *
 * @since 0.1.0
 */
export const wilson = (successes: number, trials: number, z = 1.959964): { readonly low: number; readonly high: number } => {
  if (trials === 0) return { low: 0, high: 1 }
  const p = successes / trials
  const z2 = z * z
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
  const half = (z / (1 + z2 / trials)) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

/**
 * The `q` quantile (0..1) of `values` by the nearest-rank method; 0 for no values.
 *
 * @since 0.1.0
 */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
