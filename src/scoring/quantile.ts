/**
 * Quantiles with numpy's default `linear` method: with n values sorted ascending and
 * h = (n - 1)·q, the q-quantile interpolates between sorted[floor h] and sorted[ceil h]. The
 * selection runs in expected linear time (no full sort).
 */

/** Where the q-quantile of n values falls: the two ranks and the interpolation weight. */
export interface QuantileRank {
  /** floor((n - 1)·q). */
  readonly lower: number;
  /** ceil((n - 1)·q), at most n - 1. */
  readonly upper: number;
  /** Weight of the upper value, h - floor h, in [0, 1). */
  readonly t: number;
}

/** The ranks of the q-quantile of `n` values (n >= 1, q in [0, 1]). */
export function quantileRank(n: number, q: number): QuantileRank {
  const h = (n - 1) * q;
  const lower = Math.floor(h);
  return { lower, upper: Math.min(lower + 1, n - 1), t: h - lower };
}

/**
 * numpy's `_lerp`: a + (b - a)·t, evaluated from the nearer end so that t = 1 gives b exactly;
 * equal ends (±Infinity included) give that value.
 */
export function lerp(a: number, b: number, t: number): number {
  if (a === b) return a;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The linear-interpolation q-quantile of values already sorted ascending (n >= 1). */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const { lower, upper, t } = quantileRank(sorted.length, q);
  return lerp(sorted[lower] as number, sorted[upper] as number, t);
}

function swap(a: Float32Array | Float64Array, i: number, j: number): void {
  const v = a[i] as number;
  a[i] = a[j] as number;
  a[j] = v;
}

function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/**
 * Reorders `values` in place so that values[k] is the k-th smallest, everything before it is
 * <= values[k] and everything after it >= values[k] (Hoare/Wirth selection, median-of-three
 * pivot; falls back to sorting the remaining range when the partitions stay unbalanced, so the
 * worst case is O(n log n)). `values` must hold no NaN.
 */
export function selectInPlace(values: Float32Array | Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  let budget = 2 * Math.ceil(Math.log2(values.length + 1)) + 8;
  while (lo < hi) {
    if (budget-- === 0) {
      values.subarray(lo, hi + 1).sort();
      break;
    }
    const pivot = medianOfThree(
      values[lo] as number,
      values[(lo + hi) >>> 1] as number,
      values[hi] as number,
    );
    let i = lo;
    let j = hi;
    do {
      while ((values[i] as number) < pivot) i++;
      while (pivot < (values[j] as number)) j--;
      if (i <= j) {
        swap(values, i, j);
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) lo = i;
    if (k < i) hi = j;
  }
  return values[k] as number;
}

/**
 * The linear-interpolation q-quantile of `values` (numpy `np.quantile(values, q)`), reordering
 * `values` in place. `values` must be non-empty and hold no NaN.
 *
 * @example
 * ```ts
 * quantileInPlace(Float32Array.of(4, 1, 3, 2), 0.5) // 2.5
 * ```
 */
export function quantileInPlace(values: Float32Array | Float64Array, q: number): number {
  const { lower, upper, t } = quantileRank(values.length, q);
  const a = selectInPlace(values, lower);
  if (upper === lower || t === 0) return a;
  // After the selection every value right of `lower` is >= a: the next order statistic is their minimum.
  let b = Number.POSITIVE_INFINITY;
  for (let i = lower + 1; i < values.length; i++) if ((values[i] as number) < b) b = values[i] as number;
  return lerp(a, b, t);
}

/** {@link quantileInPlace} on a copy: `values` is left as it is. */
export function quantileOf(values: Float32Array | Float64Array, q: number): number {
  return quantileInPlace(values.slice(), q);
}
