import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatisticsError } from '../../src/model/model-errors.js';
import { RunningStats, STD_EPSILON } from '../../src/model/running-stats.js';

/** Textbook two-pass mean and unbiased variance per channel, float64. */
function reference(data: ArrayLike<number>, channels: number): { mean: number[]; variance: number[] } {
  const n = data.length / channels;
  const mean = Array.from({ length: channels }, (_, c) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += data[p * channels + c]!;
    return s / n;
  });
  const variance = mean.map((m, c) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += (data[p * channels + c]! - m) ** 2;
    return s / (n - 1);
  });
  return { mean, variance };
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, floor = 0): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!), `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(
      rel * Math.abs(want[i]!) + floor,
    );
  }
}

describe('RunningStats', () => {
  it('gives the same mean and variance however the pixels are cut into batches and merged', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }), {
          minLength: 10,
          maxLength: 200,
        }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        (channels, values, cuts) => {
          const pixels = Math.floor(values.length / channels);
          fc.pre(pixels >= 2);
          const data = Float32Array.from(values.slice(0, pixels * channels));
          const want = reference(data, channels);
          // One accumulator fed batch by batch, another built from per-batch accumulators merged.
          const sequential = new RunningStats(channels);
          const merged = new RunningStats();
          let start = 0;
          for (let i = 0; start < pixels; i++) {
            const end = Math.min(pixels, start + (cuts[i % cuts.length] ?? 1));
            const batch = data.subarray(start * channels, end * channels);
            sequential.add(batch, channels);
            merged.merge(new RunningStats().add(batch, channels));
            start = end;
          }
          const scale = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          for (const stats of [sequential, merged]) {
            expect(stats.count).toBe(pixels);
            expectNear(stats.mean, want.mean, 1e-12, 1e-13 * scale);
            expectNear(stats.variance(), want.variance, 1e-12, 1e-13 * scale * scale);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps its digits on data far from zero (where a sum of squares would cancel)', () => {
    const data = Float64Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 10));
    const stats = new RunningStats(1);
    for (let i = 0; i < 1000; i += 100) stats.add(data.subarray(i, i + 100));
    expect(stats.mean[0]).toBe(1e9 + 4.5);
    // Unbiased variance of 100 copies of 0..9: 8.25 * 1000 / 999.
    expect(stats.variance()[0]).toBeCloseTo((8.25 * 1000) / 999, 9);
    expect(stats.variance(false)[0]).toBeCloseTo(8.25, 9);
  });

  it('std() is sqrt(unbiased variance) + 1e-8, so a constant channel gets 1e-8', () => {
    const stats = new RunningStats(2).add(Float32Array.of(5, 1, 5, 2, 5, 3), 2);
    const std = stats.std();
    expect(std[0]).toBe(STD_EPSILON);
    expect(std[1]).toBe(1 + STD_EPSILON);
    const z = stats.toZscore();
    expect(z.mean).toEqual(Float32Array.of(5, 2));
    expect(z.std).toBeInstanceOf(Float32Array);
    expect(z.std[1]).toBe(Math.fround(1 + STD_EPSILON));
  });

  it('merging leaves the other accumulator unchanged and merging an empty one is a no-op', () => {
    const a = new RunningStats(1).add(Float32Array.of(1, 2, 3));
    const b = new RunningStats(1).add(Float32Array.of(10, 20));
    a.merge(b).merge(new RunningStats());
    expect(a.count).toBe(5);
    expect(a.mean[0]).toBeCloseTo(36 / 5, 12);
    expect(b.count).toBe(2);
    expect(b.mean[0]).toBe(15);
  });

  it('names the problem: channel mismatch, partial pixels, too few pixels', () => {
    const stats = new RunningStats(3);
    expect(() => stats.add(new Float32Array(4))).toThrow(
      new StatisticsError('RunningStats.add: 4 values is not a whole number of 3-channel pixels'),
    );
    expect(() => stats.add(new Float32Array(4), 2)).toThrow(
      'RunningStats: got 2 channels, earlier batches had 3',
    );
    expect(() => stats.mean).toThrow('RunningStats: mean of zero pixels');
    stats.add(new Float32Array(3));
    expect(() => stats.variance()).toThrow('unbiased variance needs 2 pixels or more, got 1');
    expect(stats.variance(false)).toEqual(new Float64Array(3));
    expect(() => new RunningStats(-1)).toThrow(StatisticsError);
    expect(() => new RunningStats(2).merge(new RunningStats(3).add(new Float32Array(3)))).toThrow(
      'got 3 channels, earlier batches had 2',
    );
  });
});
