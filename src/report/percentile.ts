/**
 * The q-th percentile (q in 0-100, linear interpolation between neighbouring ranks) of an array
 * sorted ascending; 0 for an empty array. Used for colour stretches.
 *
 * @example
 * ```ts
 * percentileOfSorted(Float32Array.of(1, 2, 3, 4), 50); // 2.5
 * ```
 */
export function percentileOfSorted(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const x = (q / 100) * (sorted.length - 1);
  const i = Math.floor(x);
  const a = sorted[i] as number;
  const b = sorted[Math.min(sorted.length - 1, i + 1)] as number;
  return a + (b - a) * (x - i);
}
