import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticsError } from '../../src/model/model-errors.js';
import { pinvSymmetric, whiteningOf } from '../../src/model/pinv.js';
import { symmetricEigen } from '../../src/model/symmetric-eigen.js';

function multiply(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * m + j]!;
      out[i * m + j] = s;
    }
  return out;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!;
  return out;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function norm(a: Float64Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

const symmetricMatrix = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc
    .array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n * n, maxLength: n * n })
    .map((values) => {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = values[i * n + j]!;
      return { a, n };
    }),
);

/** A random positive semi-definite matrix of rank `rank`: B Bᵀ with B n x rank. */
function lowRank(n: number, rank: number, seed: number): Float64Array {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const b = Float64Array.from({ length: n * rank }, next);
  return multiply(b, transpose(b, n, rank), n, rank, n);
}

describe('symmetricEigen', () => {
  it('returns ascending eigenvalues with orthonormal eigenvectors: A V = V Λ', () => {
    fc.assert(
      fc.property(symmetricMatrix, ({ a, n }) => {
        const { values, vectors } = symmetricEigen(a, n);
        const scale = Math.max(norm(a), 1e-300) * n;
        for (let j = 1; j < n; j++) expect(values[j]!).toBeGreaterThanOrEqual(values[j - 1]!);
        const av = multiply(a, vectors, n, n, n);
        const vl = Float64Array.from(vectors, (v, idx) => v * values[idx % n]!);
        expect(maxAbsDiff(av, vl)).toBeLessThanOrEqual(1e-13 * scale);
        const identity = Float64Array.from({ length: n * n }, (_, idx) => (idx % (n + 1) === 0 ? 1 : 0));
        expect(
          maxAbsDiff(multiply(transpose(vectors, n, n), vectors, n, n, n), identity),
        ).toBeLessThanOrEqual(1e-13 * n);
      }),
      { numRuns: 1000 },
    );
  });

  it('handles the zero matrix, subnormal and huge scales, repeated eigenvalues and 1x1', () => {
    const zero = symmetricEigen(new Float64Array(9), 3);
    expect(Array.from(zero.values)).toEqual([0, 0, 0]);
    expect(Array.from(zero.vectors)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const tiny = symmetricEigen(Float64Array.of(0, 0, 5e-324, 0, 0, 0, 5e-324, 0, 0), 3);
    expect(Array.from(tiny.values)).toEqual([-5e-324, 0, 5e-324]);
    const huge = symmetricEigen(Float64Array.of(1e300, 0, 0, 1e300), 2);
    expect(Array.from(huge.values)).toEqual([1e300, 1e300]);
    const diag = symmetricEigen(Float64Array.of(3, 0, 0, 0, 1, 0, 0, 0, 3), 3);
    expect(Array.from(diag.values)).toEqual([1, 3, 3]);
    expect(Array.from(symmetricEigen(Float64Array.of(-2), 1).values)).toEqual([-2]);
    const two = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect(two.values[0]).toBeCloseTo(1, 14);
    expect(two.values[1]).toBeCloseTo(3, 14);
    expect(Math.abs(two.vectors[0]! * two.vectors[2]! + two.vectors[1]! * two.vectors[3]!)).toBeLessThan(
      1e-15,
    );
  });

  it('stays finite and orthogonal on strongly graded matrices (entries from 1e-266 to 1)', () => {
    // A fast-check counterexample of the textbook tql2, which returned NaN here.
    const n = 6;
    const a = new Float64Array(n * n);
    const set = (i: number, j: number, v: number): void => {
      a[i * n + j] = v;
      a[j * n + i] = v;
    };
    set(0, 0, -0.6709251421060697);
    set(0, 1, 4.360150876168336e-104);
    set(0, 2, -1.573861040863924e-70);
    set(1, 2, -6.619057507012488e-12);
    set(1, 3, 6.970412780383098e-266);
    set(1, 4, -4.1285834575483554e-51);
    set(3, 3, 1.0596357426108123e-176);
    const { values, vectors } = symmetricEigen(a, n);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values[0]).toBeCloseTo(-0.6709251421060697, 15);
    const identity = Float64Array.from({ length: n * n }, (_, idx) => (idx % (n + 1) === 0 ? 1 : 0));
    expect(maxAbsDiff(multiply(transpose(vectors, n, n), vectors, n, n, n), identity)).toBeLessThan(1e-14);
  });

  it('reads only the lower triangle', () => {
    const lower = Float64Array.of(4, 999, 1, 3);
    const full = Float64Array.of(4, 1, 1, 3);
    expect(symmetricEigen(lower, 2).values).toEqual(symmetricEigen(full, 2).values);
  });

  it('rejects a non-square size or a non-finite element', () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(
      new StatisticsError('symmetricEigen: matrix of 5 values is not 2 x 2'),
    );
    expect(() => symmetricEigen(Float64Array.of(1, 0, Number.NaN, 1), 2)).toThrow('element 2 is NaN');
  });
});

describe('pinvSymmetric', () => {
  it('inverts a well-conditioned matrix and zeroes the null space of a singular one', () => {
    const { inverse, rank } = pinvSymmetric(Float64Array.of(2, 0, 0, 0), 2);
    expect(Array.from(inverse)).toEqual([0.5, 0, 0, 0]);
    expect(rank).toBe(1);
    const a = Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2);
    const identity = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    expect(maxAbsDiff(multiply(a, pinvSymmetric(a, 3).inverse, 3, 3, 3), identity)).toBeLessThan(1e-14);
  });

  it('satisfies the Moore-Penrose conditions on rank-deficient matrices (numpy cutoff 1e-15)', () => {
    for (const [n, r] of [
      [6, 3],
      [20, 7],
      [61, 30],
    ] as const) {
      const a = lowRank(n, r, n * 31 + r);
      const { inverse: p, rank } = pinvSymmetric(a, n);
      expect(rank).toBe(r);
      const scale = norm(a);
      expect(maxAbsDiff(multiply(multiply(a, p, n, n, n), a, n, n, n), a)).toBeLessThan(1e-10 * scale);
      expect(maxAbsDiff(multiply(multiply(p, a, n, n, n), p, n, n, n), p)).toBeLessThan(1e-10 * norm(p));
      expect(maxAbsDiff(p, transpose(p, n, n))).toBeLessThan(1e-12 * norm(p));
    }
  });

  it('drops eigenvalues at or below rcond·max|λ|', () => {
    const a = Float64Array.of(1, 0, 0, 1e-3);
    expect(pinvSymmetric(a, 2, { rcond: 1e-2 }).rank).toBe(1);
    expect(pinvSymmetric(a, 2, { rcond: 1e-4 }).rank).toBe(2);
  });
});

describe('whiteningOf', () => {
  it('gives W with WᵀW = P, so xᵀPx = ||Wx||²', () => {
    const p = lowRank(8, 5, 7);
    const { matrix, rank } = whiteningOf(p, 8);
    expect(rank).toBe(5);
    expect(maxAbsDiff(multiply(transpose(matrix, rank, 8), matrix, 8, rank, 8), p)).toBeLessThan(
      1e-12 * norm(p),
    );
  });
});
