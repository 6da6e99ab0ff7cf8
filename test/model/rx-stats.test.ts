import { describe, expect, it } from 'vitest';
import { StatisticsError } from '../../src/model/model-errors.js';
import { RunningStats } from '../../src/model/running-stats.js';
import { fitRx, RX_REGULARIZATION, RxStats } from '../../src/model/rx-stats.js';
import { seededRandom } from '../../src/model/seeded-random.js';

/** Correlated test pixels: x = A g + offset, g standard-uniform, so Σ is full and not diagonal. */
function pixels(count: number, channels: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(count * channels);
  for (let p = 0; p < count; p++) {
    const g = Array.from({ length: channels }, () => random() - 0.5);
    for (let c = 0; c < channels; c++) {
      let v = 100 + c;
      for (let k = 0; k <= c; k++) v += g[k]! * (1 + ((c + k) % 3));
      out[p * channels + c] = v;
    }
  }
  return out;
}

function naiveCovariance(data: Float32Array, c: number): Float64Array {
  const n = data.length / c;
  const mean = new Float64Array(c);
  for (let p = 0; p < n; p++) for (let i = 0; i < c; i++) mean[i]! += data[p * c + i]! / n;
  const cov = new Float64Array(c * c);
  for (let p = 0; p < n; p++)
    for (let i = 0; i < c; i++)
      for (let j = 0; j < c; j++)
        cov[i * c + j]! += ((data[p * c + i]! - mean[i]!) * (data[p * c + j]! - mean[j]!)) / (n - 1);
  return cov;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('RxStats', () => {
  it('matches a naive two-pass covariance, whether fed in batches or merged', () => {
    const c = 5;
    const data = pixels(300, c, 1);
    const want = naiveCovariance(data, c);
    const batched = new RxStats(c);
    const merged = new RxStats(c);
    for (const [start, end] of [
      [0, 7],
      [7, 8],
      [8, 150],
      [150, 300],
    ] as const) {
      const batch = data.subarray(start * c, end * c);
      batched.add(batch);
      merged.merge(new RxStats(c).add(batch));
    }
    for (const stats of [batched, merged]) {
      expect(stats.count).toBe(300);
      expect(maxAbsDiff(stats.covariance(), want)).toBeLessThan(1e-11);
      const cov = stats.covariance();
      for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) expect(cov[i * c + j]).toBe(cov[j * c + i]);
    }
    // Its diagonal is RunningStats' variance; its mean is RunningStats' mean.
    const running = new RunningStats(c).add(data, c);
    expect(maxAbsDiff(batched.mean(), running.mean)).toBeLessThan(1e-12);
    const diagonal = Float64Array.from({ length: c }, (_, i) => batched.covariance()[i * c + i]!);
    expect(maxAbsDiff(diagonal, running.variance())).toBeLessThan(1e-11);
    expect(
      maxAbsDiff(
        batched.covariance(false),
        want.map((v) => (v * 299) / 300),
      ),
    ).toBeLessThan(1e-11);
  });

  it('fitRx returns μ and the inverse of Σ + 1e-6·I', () => {
    const c = 6;
    const stats = new RxStats(c).add(pixels(500, c, 2));
    const model = fitRx(stats);
    expect(model.bands).toBe(c);
    expect(model.mean).toEqual(stats.mean());
    const regularised = stats.covariance();
    for (let i = 0; i < c; i++) regularised[i * c + i]! += RX_REGULARIZATION;
    for (let i = 0; i < c; i++)
      for (let j = 0; j < c; j++) {
        let s = 0;
        for (let k = 0; k < c; k++) s += regularised[i * c + k]! * model.covInverse[k * c + j]!;
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-9);
      }
  });

  it('the 1e-6 ridge makes a singular covariance invertible (a constant band)', () => {
    const stats = new RxStats(2).add(Float32Array.of(1, 7, 2, 7, 3, 7));
    const model = fitRx(stats);
    expect(model.covInverse[3]).toBeCloseTo(1e6, 3);
    expect(model.covInverse[0]).toBeCloseTo(1 / (1 + 1e-6), 9);
    expect(fitRx(stats, { regularization: 0 }).covInverse[3]).toBe(0);
  });

  it('names the problem: partial pixels, too few pixels, channel mismatch', () => {
    expect(() => new RxStats(3).add(new Float32Array(4))).toThrow(
      new StatisticsError('RxStats.add: 4 values is not a whole number of 3-channel pixels'),
    );
    expect(() => fitRx(new RxStats(3).add(new Float32Array(3)))).toThrow(
      'covariance needs 2 pixels or more, got 1',
    );
    expect(() => new RxStats(3).mean()).toThrow('mean of zero pixels');
    expect(() => new RxStats(3).merge(new RxStats(2))).toThrow('RxStats.merge: 2 channels into 3');
    expect(() => new RxStats(0)).toThrow('channels = 0 must be a positive integer');
  });
});
