import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NonFiniteScoreError, quantileThreshold } from '../../operators/quantile-threshold.js';
import { OptionError } from '../../src/core/options.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import { goldenPath, readGolden, scored, testScheduler } from './scored-frame-fixtures.js';

const golden = goldenPath();
if (golden === undefined)
  console.warn('golden vectors missing (test/fixtures/golden, ../shared/golden): golden parity skipped');

describe.skipIf(golden === undefined && process.env.CI !== 'true')('quantileThreshold golden parity', () => {
  it('matches quantile.tau and quantile.decisions fed with score.out', async () => {
    if (golden === undefined) throw new Error('golden vectors missing in CI');
    const g = readGolden(golden, ['score.out', 'quantile.tau', 'quantile.decisions']);
    const scores = g.get('score.out')!;
    const [images, height, width] = scores.shape as [number, number, number];
    const frames = Array.from({ length: images }, (_, i) =>
      scored(scores.data.subarray(i * height * width, (i + 1) * height * width), {
        frameId: i,
        height,
        width,
      }),
    );
    const out = await lastValueFrom(of(...frames).pipe(quantileThreshold({ q: 0.995 }), toArray()));
    const tau = g.get('quantile.tau')!.data;
    const decisions = g.get('quantile.decisions')!.data;
    expect(out).toHaveLength(images);
    out.forEach((frame, i) => {
      const ref = tau[i]!;
      expect(Math.abs(frame.threshold - ref)).toBeLessThanOrEqual(
        1e-5 * Math.abs(ref) + 1e-5 * Math.max(...tau),
      );
      const mask = Array.from(frame.scores, (s) => (s >= frame.threshold ? 1 : 0));
      expect(mask).toEqual(Array.from(decisions.subarray(i * height * width, (i + 1) * height * width)));
    });
    expect(decisions.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});

describe('quantileThreshold', () => {
  it('thresholds each frame on its own scores, in order, passing completion through', () => {
    const a = scored([1, 2, 3, 4, 5], { frameId: 0 });
    const b = scored([10, 10, 10, 10, 10], { frameId: 1 });
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a, b });
      expectObservable(source.pipe(quantileThreshold({ q: 0.5 }))).toBe('-x-y-|', {
        x: { ...a, threshold: 3 },
        y: { ...b, threshold: 10 },
      });
    });
  });

  it('passes upstream errors through and errors on a NaN score naming the pixel', async () => {
    const bad = scored([1, Number.NaN, 3], { cameraId: 'camX', frameId: 7 });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ScoredFrame>('-#', {}, new Error('boom')).pipe(quantileThreshold())).toBe(
        '-#',
        {},
        new Error('boom'),
      );
      expectObservable(cold('-a-', { a: bad }).pipe(quantileThreshold())).toBe(
        '-#',
        {},
        new NonFiniteScoreError('camX', 7, 1),
      );
    });
    await expect(lastValueFrom(of(bad).pipe(quantileThreshold()))).rejects.toThrow(
      /camX frame 7: scores\[1\] is NaN/,
    );
  });

  it('rejects q outside [0, 1] when built', () => {
    expect(() => quantileThreshold({ q: 1.5 })).toThrow(OptionError);
    expect(() => quantileThreshold({ q: Number.NaN })).toThrow(/quantileThreshold\.q/);
  });
});
