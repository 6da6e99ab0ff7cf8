import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  interpolateRank,
  lerp,
  nearestRank,
  quantileInPlace,
  quantileOf,
  quantileRank,
  selectInPlace,
  selectPairInPlace,
  sortedPercentile,
  sortedQuantile,
} from '../../src/core/quantile.js';

/** numpy's linear quantile, the slow way: sort a float64 copy. */
function reference(values: ArrayLike<number>, q: number): number {
  return sortedQuantile(Float64Array.from(values).sort(), q);
}

describe('quantileRank / lerp', () => {
  it('places the quantile at h = (n-1)q', () => {
    expect(quantileRank(96, 0.995)).toEqual({ lower: 94, upper: 95, t: expect.closeTo(0.525, 12) });
    expect(quantileRank(1, 0.7)).toEqual({ lower: 0, upper: 0, t: 0 });
    expect(quantileRank(5, 1)).toEqual({ lower: 4, upper: 4, t: 0 });
  });

  it('interpolates from the nearer end and keeps equal infinities', () => {
    expect(lerp(1, 3, 0.25)).toBe(1.5);
    expect(lerp(1, 3, 1)).toBe(3);
    expect(lerp(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0.5)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('quantileOf', () => {
  it('matches numpy on small cases, ties and n = 1', () => {
    // np.quantile([1, 3, 7, 15], 0.995) = 7 + 8 * 0.985
    expect(quantileOf(Float32Array.of(15, 1, 7, 3), 0.995)).toBeCloseTo(14.88, 10);
    expect(quantileOf(Float32Array.of(4, 1, 3, 2), 0.5)).toBe(2.5);
    expect(quantileOf(Float32Array.of(2, 2, 2, 2), 0.9)).toBe(2);
    expect(quantileOf(Float32Array.of(5, 5, 1, 5), 0.1)).toBeCloseTo(2.2, 6);
    expect(quantileOf(Float32Array.of(42), 0.995)).toBe(42);
    expect(quantileOf(Float32Array.of(3, 9, 1), 0)).toBe(1);
    expect(quantileOf(Float32Array.of(3, 9, 1), 1)).toBe(9);
  });

  it('leaves its input alone', () => {
    const values = Float32Array.of(3, 1, 2);
    quantileOf(values, 0.5);
    expect(Array.from(values)).toEqual([3, 1, 2]);
  });

  it('equals the sort-based quantile on any data (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.float({ noNaN: true }), fc.integer({ min: 0, max: 3 })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (raw, q) => {
          const values = Float32Array.from(raw);
          const got = quantileOf(values, q);
          const want = reference(values, q);
          // Same value: -0 and +0 are the same quantile (which one comes back depends on the
          // selection order), NaN from interpolating -Infinity and +Infinity on both sides.
          expect(got === want || Object.is(got, want), `${got} vs ${want}`).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stays exact on inputs that unbalance a naive quickselect (sorted, reversed, organ pipe, all equal)', () => {
    const n = 50_001;
    const shapes = {
      sorted: Float32Array.from({ length: n }, (_, i) => i),
      reversed: Float32Array.from({ length: n }, (_, i) => n - i),
      organPipe: Float32Array.from({ length: n }, (_, i) => Math.min(i, n - i)),
      equal: new Float32Array(n).fill(7),
      twoValues: Float32Array.from({ length: n }, (_, i) => i % 2),
    };
    for (const [name, values] of Object.entries(shapes)) {
      for (const q of [0, 0.5, 0.995, 1])
        expect(quantileOf(values, q), `${name} q=${q}`).toBe(reference(values, q));
    }
  });
});

describe('selectInPlace', () => {
  it('puts the k-th smallest at k with smaller values before and larger after (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        (raw, seed) => {
          const values = Float64Array.from(raw);
          const k = seed % values.length;
          const kth = selectInPlace(values, k);
          expect(kth).toBe(Float64Array.from(raw).sort()[k]);
          for (let i = 0; i < k; i++) expect(values[i]).toBeLessThanOrEqual(kth);
          for (let i = k + 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(kth);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('quantileInPlace reorders only', () => {
    const values = Float32Array.of(5, 4, 3, 2, 1);
    expect(quantileInPlace(values, 0.5)).toBe(3);
    expect(Array.from(values).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('interpolateRank / selectPairInPlace', () => {
  it('returns the lower value at a whole rank, even next to an infinity', () => {
    expect(interpolateRank(quantileRank(3, 0.5), 2, Number.POSITIVE_INFINITY)).toBe(2);
    expect(interpolateRank(quantileRank(4, 0.5), 2, 3)).toBe(2.5);
    // t = 0.77: numpy evaluates from the upper end
    expect(interpolateRank({ lower: 0, upper: 1, t: 0.77 }, 0.1, 0.7)).toBe(lerp(0.1, 0.7, 0.77));
    expect(interpolateRank({ lower: 0, upper: 1, t: 0.77 }, 0.1, 0.7)).toBe(0.7 - 0.6 * (1 - 0.77));
  });

  it('selects the two order statistics around a rank (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 1, maxLength: 100 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (raw, q) => {
          const sorted = Float64Array.from(raw).sort();
          const rank = quantileRank(raw.length, q);
          expect(selectPairInPlace(Float64Array.from(raw), rank)).toEqual({
            lower: sorted[rank.lower],
            upper: sorted[rank.upper],
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('sortedPercentile', () => {
  it('is sortedQuantile at p / 100, and 0 for no values', () => {
    const sorted = Float32Array.of(1, 2, 3, 4);
    expect(sortedPercentile(sorted, 50)).toBe(2.5);
    expect(sortedPercentile(sorted, 98)).toBe(sortedQuantile(sorted, 0.98));
    expect(sortedPercentile(sorted, 100)).toBe(4);
    expect(sortedPercentile(new Float32Array(0), 2)).toBe(0);
  });
});

describe('nearestRank', () => {
  it('is ceil(q·n) - 1 within [0, n - 1]', () => {
    expect(nearestRank(1, 0.99)).toBe(0);
    expect(nearestRank(100, 0.99)).toBe(98);
    expect(nearestRank(101, 0.99)).toBe(99);
    expect(nearestRank(1024, 0.99)).toBe(1013);
    expect(nearestRank(10, 0)).toBe(0);
    expect(nearestRank(10, 1)).toBe(9);
  });
});
