import { describe, expect, it } from 'vitest';
import { leastSquares, type MemorySample, memorySlope, warmupSeconds } from '../../bench/soak-stats.js';

const MB = 1024 * 1024;

function sample(t: number, rssMb: number): MemorySample {
  return { t, rss: rssMb * MB, heapUsed: 50 * MB, heapTotal: 80 * MB, external: 0, arrayBuffers: 0 };
}

describe('soak statistics', () => {
  it('leaves out 20 % of the run, at most 60 s', () => {
    expect(warmupSeconds(30)).toBe(6);
    expect(warmupSeconds(120)).toBe(24);
    expect(warmupSeconds(600)).toBe(60);
  });

  it('fits a least-squares slope with its standard error', () => {
    expect(leastSquares([0, 1, 2], [1, 3, 5])).toEqual({ slope: 2, stdErr: 0, n: 3 });
    expect(leastSquares([0, 1], [0, 1])?.stdErr).toBeUndefined();
    expect(leastSquares([1], [1])).toBeUndefined();
    expect(leastSquares([2, 2, 2], [1, 2, 3])).toBeUndefined();
    const noisy = leastSquares([0, 1, 2, 3], [0, 2, 1, 3]);
    expect(noisy?.slope).toBeCloseTo(0.8, 12);
    expect(noisy?.stdErr).toBeGreaterThan(0);
  });

  it('gives MB per minute after the warm-up only', () => {
    // A 50 MB jump during warm-up, then 0.5 MB/min.
    const samples = [
      sample(0, 100),
      sample(5, 150),
      ...[10, 30, 60, 90, 120].map((t) => sample(t, 150 + t / 120)),
    ];
    expect(memorySlope(samples, 'rss', 10)?.slope).toBeCloseTo(0.5, 9);
    expect(memorySlope(samples, 'rss', 0)?.slope).toBeGreaterThan(0.5);
    expect(memorySlope(samples, 'heapUsed', 10)?.slope).toBe(0);
  });
});
