/**
 * The one definition of a quantile in cubestream: numpy's default `linear` method. With n values
 * sorted ascending and h = (n - 1)·q, the q-quantile interpolates between sorted[floor h] and
 * sorted[ceil h] ({@link quantileRank}, {@link interpolateRank}). Calibration (the bundle's τ),
 * the per-frame and rolling thresholds, the robust whitening's trim and the colour stretches all
 * take their quantiles here; latency percentiles take the nearest rank ({@link nearestRank}).
 * The selection runs in expected linear time (no full sort).
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

/**
 * The ranks of the q-quantile of `n` values (n >= 1, q in [0, 1]).
 *
 * @example
 * ```ts
 * quantileRank(5, 0.5); // { lower: 2, upper: 3, t: 0 }
 * ```
 */
export function quantileRank(n: number, q: number): QuantileRank {
  const h = (n - 1) * q;
  const lower = Math.floor(h);
  return { lower, upper: Math.min(lower + 1, n - 1), t: h - lower };
}

/**
 * numpy's `_lerp`: a + (b - a)·t, evaluated from the nearer end so that t = 1 gives b exactly;
 * equal ends (±Infinity included) give that value.
 *
 * @example
 * ```ts
 * lerp(1, 3, 0.25); // 1.5
 * ```
 */
export function lerp(a: number, b: number, t: number): number {
  if (a === b) return a;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * The quantile at `rank` from its two order statistics: `lower` (the value at `rank.lower`) and
 * `upper` (at `rank.upper`); exactly `lower` when the rank is whole (t = 0).
 *
 * @example
 * ```ts
 * interpolateRank(quantileRank(4, 0.5), 2, 3); // 2.5
 * ```
 */
export function interpolateRank(rank: QuantileRank, lower: number, upper: number): number {
  return rank.t === 0 ? lower : lerp(lower, upper, rank.t);
}

/**
 * The linear-interpolation q-quantile of values already sorted ascending (n >= 1).
 *
 * @example
 * ```ts
 * sortedQuantile(Float32Array.of(1, 2, 3, 4), 0.5); // 2.5
 * ```
 */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const rank = quantileRank(sorted.length, q);
  return interpolateRank(rank, sorted[rank.lower] as number, sorted[rank.upper] as number);
}

/**
 * The index of the nearest-rank q-quantile among `n` values sorted ascending: ceil(q·n) - 1,
 * within [0, n - 1] (n >= 1). No interpolation: the value is one of the samples (latency p99s).
 *
 * @example
 * ```ts
 * nearestRank(100, 0.99); // 98: the 99th smallest of 100
 * ```
 */
export function nearestRank(n: number, q: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
}

/**
 * The p-th percentile (p in 0-100) of values sorted ascending, {@link sortedQuantile} at p / 100;
 * 0 for no values. Used for colour stretches.
 *
 * @example
 * ```ts
 * sortedPercentile(Float32Array.of(1, 2, 3, 4), 50); // 2.5
 * ```
 */
export function sortedPercentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length === 0 ? 0 : sortedQuantile(sorted, p / 100);
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
 *
 * @example
 * ```ts
 * selectInPlace(Float64Array.of(5, 1, 4, 2), 1); // 2
 * ```
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

/** The two order statistics a quantile interpolates between. */
export interface OrderPair {
  /** The value at `rank.lower`. */
  readonly lower: number;
  /** The value at `rank.upper` (equal to `lower` when the ranks are equal). */
  readonly upper: number;
}

/**
 * The order statistics at `rank.lower` and `rank.upper` of `values`, reordering it in place
 * ({@link selectInPlace}, then the smallest value right of `rank.lower`). `values` must be
 * non-empty and hold no NaN.
 *
 * @example
 * ```ts
 * selectPairInPlace(Float64Array.of(4, 1, 3, 2), quantileRank(4, 0.5)); // { lower: 2, upper: 3 }
 * ```
 */
export function selectPairInPlace(values: Float32Array | Float64Array, rank: QuantileRank): OrderPair {
  const lower = selectInPlace(values, rank.lower);
  if (rank.upper === rank.lower) return { lower, upper: lower };
  // After the selection every value right of `lower` is >= it: the next order statistic is their minimum.
  let upper = Number.POSITIVE_INFINITY;
  for (let i = rank.lower + 1; i < values.length; i++)
    if ((values[i] as number) < upper) upper = values[i] as number;
  return { lower, upper };
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
  const rank = quantileRank(values.length, q);
  if (rank.t === 0) return selectInPlace(values, rank.lower);
  const { lower, upper } = selectPairInPlace(values, rank);
  return interpolateRank(rank, lower, upper);
}

/**
 * {@link quantileInPlace} on a copy: `values` is left as it is.
 *
 * @example
 * ```ts
 * quantileOf(Float32Array.of(15, 1, 7, 3), 0.5); // 5
 * ```
 */
export function quantileOf(values: Float32Array | Float64Array, q: number): number {
  return quantileInPlace(values.slice(), q);
}
