import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { quantileThreshold } from '../../operators/quantile-threshold.js';
import { rollingQuantileThreshold } from '../../operators/rolling-quantile-threshold.js';
import { calibrateScores } from '../../src/train/calibrate.js';
import { scored } from '../operators/scored-frame-fixtures.js';

/** Non-negative float32 scores (as distances are), ties included, q in (0, 1) and a margin. */
const scoresAndQ = fc.tuple(
  fc.array(fc.oneof(fc.float({ min: 0, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 3 })), {
    minLength: 1,
    maxLength: 400,
  }),
  fc.double({ min: 1e-9, max: 1 - 1e-9, noNaN: true }),
  fc.constantFrom(1, 1.1, 1.5, 2),
);

/** τ of the second frame of a one-frame rolling window whose first frame holds `scores`. */
async function rollingTau(scores: Float32Array, q: number, margin: number): Promise<number> {
  const out = await lastValueFrom(
    from([scored(scores, { frameId: 0 }), scored([0], { frameId: 1 })]).pipe(
      rollingQuantileThreshold({
        q,
        window: { frames: 1 },
        seed: 123,
        minSamples: 1,
        exclude: 'none',
        marginFactor: margin,
      }),
      toArray(),
    ),
  );
  expect(out[1]?.thresholdSource).toBe('window');
  return out[1]?.threshold as number;
}

describe('calibration and runtime τ (one quantile in src/core/quantile.ts)', () => {
  it('the per-frame operator and calibration (margin 1) give the same τ, bit for bit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(scoresAndQ, async ([raw, q]) => {
        const scores = Float32Array.from(raw);
        const [frame] = await lastValueFrom(from([scored(scores)]).pipe(quantileThreshold({ q }), toArray()));
        expect(frame?.threshold).toBe(calibrateScores(scores, { quantile: q, margin: 1 }).threshold);
      }),
      { numRuns: 300 },
    );
  });

  it('the rolling operator over the calibration scores gives calibration τ = quantile x margin, bit for bit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(scoresAndQ, async ([raw, q, margin]) => {
        const scores = Float32Array.from(raw);
        const calibration = calibrateScores(scores, { quantile: q, margin });
        expect(await rollingTau(scores, q, margin)).toBe(calibration.threshold);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees where the interpolation weight is large (t >= 0.5 evaluates from the upper end)', async () => {
    // n = 1001, q = 0.99977: h = 999.77, where a + (b - a)·t and numpy's b - (b - a)·(1 - t) differ.
    const scores = Float32Array.from({ length: 1001 }, (_, i) => Math.fround(Math.sqrt(i) * 0.1));
    for (const q of [0.99977, 0.9995, 0.3337]) {
      const calibration = calibrateScores(scores, { quantile: q, margin: 1 });
      expect(await rollingTau(scores, q, 1)).toBe(calibration.threshold);
    }
  });
});
