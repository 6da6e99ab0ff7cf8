import { describe, expect, it } from 'vitest';
import { ModelParamsError } from '../../src/model/model-errors.js';
import { fitRobustWhitening, whiteningAfterZscore } from '../../src/model/robust-whitening.js';
import { seededRandom } from '../../src/model/seeded-random.js';

/** Correlated Gaussian-ish background (sum of uniforms) plus a few far outliers. */
function scene(n: number, c: number, outliers: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const mix = Array.from({ length: c * c }, () => random() - 0.5);
  const data = new Float32Array(n * c);
  for (let p = 0; p < n; p++) {
    const g = Array.from({ length: c }, () => random() + random() + random() - 1.5);
    for (let i = 0; i < c; i++) {
      let v = 10 + i;
      for (let j = 0; j < c; j++) v += mix[i * c + j]! * g[j]! * (j + 1);
      data[p * c + i] = p < outliers ? v + 40 * (i % 2 === 0 ? 1 : -1) : v;
    }
  }
  return data;
}

/** Mean and unbiased covariance in float64, the plain two-pass way. */
function meanCov(rows: Float64Array[], c: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(c);
  for (const r of rows) for (let i = 0; i < c; i++) mean[i]! += r[i]! / rows.length;
  const cov = new Float64Array(c * c);
  for (const r of rows)
    for (let i = 0; i < c; i++)
      for (let j = 0; j < c; j++)
        cov[i * c + j]! += ((r[i]! - mean[i]!) * (r[j]! - mean[j]!)) / (rows.length - 1);
  return { mean, cov };
}

/** Solves A x = b by Gaussian elimination with partial pivoting (float64). */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[piv * n + k]!)) piv = i;
    for (let j = 0; j < n; j++) [m[k * n + j], m[piv * n + j]] = [m[piv * n + j]!, m[k * n + j]!];
    [x[k], x[piv]] = [x[piv]!, x[k]!];
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / m[k * n + k]!;
      for (let j = k; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
      x[i]! -= f * x[k]!;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let j = i + 1; j < n; j++) s -= m[i * n + j]! * x[j]!;
    x[i] = s / m[i * n + i]!;
  }
  return x;
}

function ridge(cov: Float64Array, c: number): Float64Array {
  const out = Float64Array.from(cov);
  for (let i = 0; i < c; i++) out[i * c + i]! += 1e-6;
  return out;
}

describe('fitRobustWhitening', () => {
  const c = 6;
  const n = 400;
  const data = scene(n, c, 8, 4);
  const rows = Array.from({ length: n }, (_, p) => Float64Array.from(data.subarray(p * c, (p + 1) * c)));

  it('refits μ, Σ without the top-ν RX scores, as a direct float64 computation does', () => {
    const trim = 0.05;
    const fitted = fitRobustWhitening(() => [data.subarray(0, 150 * c), data.subarray(150 * c)], c, {
      components: c,
      trim,
    });
    // Direct: RX scores by solving Σ y = x - μ, the (1 - ν)-quantile, the inliers' μ and Σ.
    const all = meanCov(rows, c);
    const scores = rows.map((r) => {
      const d = r.map((v, i) => v - all.mean[i]!);
      const y = solve(ridge(all.cov, c), d, c);
      return d.reduce((s, v, i) => s + v * y[i]!, 0);
    });
    const sorted = [...scores].sort((a, b) => a - b);
    const pos = (1 - trim) * (n - 1);
    const lo = Math.floor(pos);
    const threshold = sorted[lo]! + (pos - lo) * (sorted[lo + 1]! - sorted[lo]!);
    const inliers = rows.filter((_, p) => scores[p]! < threshold);
    expect(fitted.threshold).toBeCloseTo(threshold, 6);
    expect([fitted.pixels, fitted.kept]).toEqual([n, inliers.length]);
    // The 8 planted outliers are among the trimmed pixels.
    for (let p = 0; p < 8; p++) expect(scores[p]!).toBeGreaterThanOrEqual(threshold);
    const direct = meanCov(inliers, c);
    for (let i = 0; i < c; i++) expect(fitted.mean[i]!).toBeCloseTo(direct.mean[i]!, 4);
    // With every component, ||(x - μ)·Mᵀ||² is the robust RX score (x - μ)ᵀ(Σ + 1e-6 I)⁻¹(x - μ).
    for (const r of rows.slice(0, 40)) {
      const d = r.map((v, i) => v - direct.mean[i]!);
      const y = solve(ridge(direct.cov, c), d, c);
      const want = d.reduce((s, v, i) => s + v * y[i]!, 0);
      let got = 0;
      for (let j = 0; j < c; j++) {
        let dot = 0;
        for (let i = 0; i < c; i++) dot += (r[i]! - fitted.mean[i]!) * fitted.matrix[j * c + i]!;
        got += dot * dot;
      }
      expect(Math.abs(got - want)).toBeLessThan(1e-4 * (1 + want));
    }
  });

  it('keeps the k leading components: M Σ Mᵀ = I, rows are eigenvectors with descending eigenvalues', () => {
    const k = 3;
    const fitted = fitRobustWhitening(() => [data], c, { components: k, trim: 0 });
    expect([fitted.components, fitted.matrix.length, fitted.kept, fitted.threshold]).toEqual([
      k,
      k * c,
      n,
      Number.POSITIVE_INFINITY,
    ]);
    const { cov } = meanCov(rows, c);
    const row = (j: number) => Float64Array.from(fitted.matrix.subarray(j * c, (j + 1) * c));
    const times = (v: Float64Array) =>
      Float64Array.from({ length: c }, (_, i) => v.reduce((s, x, j) => s + cov[i * c + j]! * x, 0));
    const lambdas: number[] = [];
    for (let a = 0; a < k; a++) {
      const sa = times(row(a));
      for (let b = 0; b < k; b++) {
        const v = row(b).reduce((s, x, i) => s + x * sa[i]!, 0);
        expect(v).toBeCloseTo(a === b ? 1 : 0, 4);
      }
      const norm2 = row(a).reduce((s, x) => s + x * x, 0);
      lambdas.push(1 / norm2);
      // Σ m = λ m
      sa.forEach((v, i) => {
        expect(v).toBeCloseTo(row(a)[i]! / norm2, 3);
      });
    }
    expect(lambdas[0]!).toBeGreaterThan(lambdas[1]!);
    expect(lambdas[1]!).toBeGreaterThan(lambdas[2]!);
    // The leading eigenvalue is the largest: power iteration agrees.
    let v: Float64Array = new Float64Array(c).fill(1);
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = times(v);
      lambda = Math.hypot(...w);
      v = w.map((x) => x / lambda);
    }
    expect(lambdas[0]! / lambda).toBeCloseTo(1, 5);
  });

  it('expresses the same whitening after a z-score exactly', () => {
    const fitted = fitRobustWhitening(() => [data], c, { components: 4 });
    const zscore = {
      mean: Float32Array.from({ length: c }, (_, i) => 9 + i),
      std: Float32Array.from({ length: c }, (_, i) => 0.5 + i),
    };
    const after = whiteningAfterZscore(fitted, zscore);
    const x = rows[3]!;
    for (let j = 0; j < 4; j++) {
      let direct = 0;
      let viaZ = 0;
      for (let i = 0; i < c; i++) {
        direct += (x[i]! - fitted.mean[i]!) * fitted.matrix[j * c + i]!;
        const z = (x[i]! - zscore.mean[i]!) / zscore.std[i]!;
        viaZ += (z - after.mean[i]!) * after.matrix[j * c + i]!;
      }
      expect(viaZ).toBeCloseTo(direct, 4);
    }
  });

  it('names the bad option', () => {
    expect(() => fitRobustWhitening(() => [data], c, { components: 0 })).toThrow(ModelParamsError);
    expect(() => fitRobustWhitening(() => [data], c, { trim: 1 })).toThrow(
      'model parameter whiten.trim: 1 must be in [0, 1)',
    );
  });
});
