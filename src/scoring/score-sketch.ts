import { DDSketch } from '@datadog/sketches-js';

/**
 * DDSketch helpers for non-negative scores. A sketch stores each positive value v in the
 * logarithmic bucket (γ^(k-1), γ^k], γ = (1 + α)/(1 - α), and answers with the bucket's
 * representative, so every value it returns is within a relative error α of the true value at
 * that rank. Zeros (and negative scores, which squared distances cannot be; clamped to 0) go
 * to the sketch's exact zero count and come back as exactly 0; positive float32 values, down
 * to the smallest subnormal, all get a bucket (the dense store spans their log range: at most
 * about 6,000 buckets at α = 1% for the whole float32 range). +Infinity is stored as the
 * largest representable value.
 */

/** A new, empty sketch with relative accuracy α. */
export function emptySketch(relativeAccuracy: number): DDSketch {
  return new DDSketch({ relativeAccuracy });
}

/** Adds every score < `bar` to `sketch` (all of them when `bar` is +Infinity); returns how many. */
export function addScoresBelow(sketch: DDSketch, scores: ArrayLike<number>, bar: number): number {
  const top = sketch.mapping.maxPossible;
  const all = bar === Number.POSITIVE_INFINITY;
  let kept = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!(all || s < bar)) continue;
    sketch.accept(s > 0 ? Math.min(s, top) : 0);
    kept++;
  }
  return kept;
}

/**
 * Merges `source` into `target` bucket by bucket. Not `DDSketch.merge`: in sketches-js 2.1.1
 * that loses counts (and writes NaN bins) when the source's highest bucket key is 0 (values
 * just under 1) and the target's range lies below it, because `_extendRange(min, 0)` takes the
 * 0 for "no second key".
 */
export function mergeSketchInto(target: DDSketch, source: DDSketch): void {
  const { bins, offset } = source.store;
  for (let i = 0; i < bins.length; i++) {
    const count = bins[i] as number;
    if (count > 0) target.store.add(i + offset, count);
  }
  target.zeroCount += source.zeroCount;
  target.count += source.count;
  target.sum += source.sum;
  if (source.min < target.min) target.min = source.min;
  if (source.max > target.max) target.max = source.max;
}

/** Values held by a sketch built with {@link addScoresBelow} (zeros plus positive buckets). */
export function sketchSize(sketch: DDSketch): number {
  return sketch.zeroCount + sketch.store.count;
}

/**
 * The value of integer rank `rank` (0 = smallest) among the sketch's values: 0 inside the zero
 * count, else the representative of the bucket holding that rank (relative error <= α).
 */
export function sketchValueAtRank(sketch: DDSketch, rank: number): number {
  if (rank < sketch.zeroCount) return 0;
  return sketch.mapping.value(sketch.store.keyAtRank(rank - sketch.zeroCount, true));
}
