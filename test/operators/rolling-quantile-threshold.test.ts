import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  NonFiniteScoreError,
  type RollingQuantileThresholdOptions,
  rollingQuantileThreshold,
} from '../../operators/rolling-quantile-threshold.js';
import { OptionError } from '../../src/core/options.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import { createThresholdState } from '../../src/core/threshold-state.js';
import { scored, testScheduler } from './scored-frame-fixtures.js';

const run = (frames: ScoredFrame[], options: RollingQuantileThresholdOptions) =>
  lastValueFrom(from(frames).pipe(rollingQuantileThreshold(options), toArray()));

describe('rollingQuantileThreshold', () => {
  it('applies the seed until minSamples scores are kept, then the previous frames quantile', async () => {
    const frames = [0, 1, 2, 3].map((i) => scored([i + 1, i + 2], { frameId: i }));
    const out = await run(frames, {
      q: 1 - 1e-9,
      window: { frames: 10 },
      seed: 99,
      minSamples: 4,
      exclude: 'none',
    });
    expect(out.map((f) => f.threshold)).toEqual([99, 99, expect.closeTo(3, 6), expect.closeTo(4, 6)]);
    expect(out.map((f) => f.thresholdSource)).toEqual(['seed', 'seed', 'window', 'window']);
    expect(out.every((f) => f.warmup)).toBe(true);
  });

  it('expires frames beyond window.frames and marks warm-up until the window is full', async () => {
    const frames = [5, 1, 7, 2, 9].map((v, i) => scored([v, v], { frameId: i }));
    const out = await run(frames, { q: 0, window: { frames: 2 }, seed: 0, minSamples: 1, exclude: 'none' });
    // q = 0: the smallest score of the previous two frames
    expect(out.map((f) => f.threshold)).toEqual([0, 5, 1, 1, 2]);
    expect(out.map((f) => f.warmup)).toEqual([true, true, false, false, false]);
  });

  it('expires frames older than window.seconds on the injected clock', async () => {
    let t = 0;
    const times = [0, 600, 1000, 1500, 2400];
    const frames = [4, 3, 8, 6, 5].map((v, i) => scored([v], { frameId: i }));
    const threshold = rollingQuantileThreshold({
      q: 0,
      window: { seconds: 1 },
      seed: 0,
      minSamples: 1,
      exclude: 'none',
      now: () => times[t++]!,
    });
    const out = await lastValueFrom(from(frames).pipe(threshold, toArray()));
    // frame 3 at 1.5 s sees frames opened at 0.6 s and 1.0 s (frame 0 is 1.5 s old); frame 4 at 2.4 s only frame 3
    expect(out.map((f) => f.threshold)).toEqual([0, 4, 3, 3, 6]);
    expect(out.map((f) => f.warmup)).toEqual([true, true, false, false, false]);
  });

  it('censors pixels judged anomalous so a large anomaly does not raise τ (unlike exclude none)', async () => {
    const clean = (id: number) =>
      scored(
        Array.from({ length: 100 }, (_, i) => i / 100),
        { frameId: id },
      );
    // 60% of this frame is far above τ: more than the 10% that q = 0.9 leaves above the quantile
    const dirty = scored([...Array.from({ length: 40 }, (_, i) => i / 100), ...new Array(60).fill(1000)], {
      frameId: 3,
    });
    const frames = [clean(0), clean(1), clean(2), dirty, clean(4)];
    const options = { q: 0.9, window: { frames: 10 }, seed: 1.4, minSamples: 50, marginFactor: 1.5 } as const;
    const censored = await run(frames, { ...options, exclude: 'anomalous' });
    const counted = await run(frames, { ...options, exclude: 'none' });
    // Clean frames are never censored at this margin: both modes agree up to the dirty frame.
    expect(censored.slice(0, 4).map((f) => f.threshold)).toEqual(counted.slice(0, 4).map((f) => f.threshold));
    expect(censored[3]!.threshold).toBeCloseTo(1.5 * 0.891, 5);
    // 60 of the window's 400 scores censored = 15%, below the burst level 2(1 - q) = 20%: capped at the largest kept score × margin
    expect(censored[4]!.threshold).toBeCloseTo(1.5 * Math.fround(0.99), 5);
    expect(counted[4]!.threshold).toBe(1500);
  });

  it('keeps one window per camera and publishes τ through state and onThreshold', async () => {
    const seen: [string, number][] = [];
    const state = createThresholdState(50);
    const frames = [
      scored([1, 1], { cameraId: 'a', frameId: 0 }),
      scored([9, 9], { cameraId: 'b', frameId: 0 }),
      scored([1, 1], { cameraId: 'a', frameId: 1 }),
      scored([9, 9], { cameraId: 'b', frameId: 1 }),
    ];
    const threshold = rollingQuantileThreshold({
      q: 0.5,
      window: { frames: 3 },
      seed: 50,
      minSamples: 1,
      exclude: 'none',
      state,
      onThreshold: (camera, tau) => seen.push([camera, tau]),
    });
    expect(threshold.state.current('a')).toBe(50);
    const out = await lastValueFrom(from(frames).pipe(threshold, toArray()));
    expect(out.map((f) => f.threshold)).toEqual([50, 50, 1, 9]);
    expect(seen).toEqual([
      ['a', 50],
      ['b', 50],
      ['a', 1],
      ['b', 9],
    ]);
    expect(threshold.state).toBe(state);
    expect(state.current('a')).toBe(1);
    expect(state.current('b')).toBe(9);
    expect(state.cameras()).toEqual(['a', 'b']);
  });

  it('gives every block of a frame the τ fixed at its first block', async () => {
    const blocks = [
      scored([2, 2], { frameId: 0, rowOffset: 0, totalRows: 2 }),
      scored([2, 2], { frameId: 0, rowOffset: 1, totalRows: 2 }),
      scored([100, 100], { frameId: 1, rowOffset: 0, totalRows: 2 }),
      scored([7, 7], { frameId: 1, rowOffset: 1, totalRows: 2 }),
      scored([0, 0], { frameId: 2, rowOffset: 0, totalRows: 2 }),
    ];
    const out = await run(blocks, { q: 0.5, window: { frames: 1 }, seed: 5, minSamples: 1, exclude: 'none' });
    expect(out.map((f) => f.threshold)).toEqual([5, 5, 2, 2, 53.5]);
  });

  it('carries on when a camera restarts its frame ids', async () => {
    const frames = [7, 8, 0, 1].map((id) => scored([id, id], { frameId: id }));
    const out = await run(frames, {
      q: 1 - 1e-9,
      window: { frames: 1 },
      seed: 50,
      minSamples: 1,
      exclude: 'none',
    });
    expect(out.map((f) => f.threshold)).toEqual([50, expect.closeTo(7, 6), expect.closeTo(8, 6), 0]);
  });

  it('ddsketch mode stays within α of exact mode', async () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const frames = Array.from({ length: 12 }, (_, i) =>
      scored(
        Array.from({ length: 500 }, () => random() ** -1.5),
        { frameId: i },
      ),
    );
    const options = {
      q: 0.99,
      window: { frames: 5 },
      seed: 1000,
      minSamples: 100,
      marginFactor: 1.2,
    } as const;
    const exact = await run(frames, { ...options, sketch: 'exact' });
    const sketch = await run(frames, { ...options, sketch: 'ddsketch', relativeAccuracy: 0.01 });
    exact.forEach((f, i) => {
      expect(Math.abs(sketch[i]!.threshold - f.threshold)).toBeLessThanOrEqual(
        0.01 * f.threshold * 1.2 + 1e-9,
      );
    });
    expect(exact.at(-1)!.thresholdSource).toBe('window');
  });

  it('keeps order, completes with the source and passes errors through (marbles)', () => {
    const a = scored([1, 3], { frameId: 0 });
    const b = scored([5, 7], { frameId: 1 });
    const options = { q: 0.5, window: { frames: 2 }, seed: 10, minSamples: 1, exclude: 'none' } as const;
    testScheduler().run(({ cold, expectObservable }) => {
      const expected = {
        x: { ...a, threshold: 10, thresholdSource: 'seed', warmup: true },
        y: { ...b, threshold: 2, thresholdSource: 'window', warmup: true },
      };
      expectObservable(cold('a--b|', { a, b }).pipe(rollingQuantileThreshold(options))).toBe(
        'x--y|',
        expected,
      );
      expectObservable(cold('a-#', { a }, new Error('down')).pipe(rollingQuantileThreshold(options))).toBe(
        'x-#',
        expected,
        new Error('down'),
      );
      const bad = scored([Number.NaN], { cameraId: 'c', frameId: 3 });
      expectObservable(cold('a-b', { a, b: bad }).pipe(rollingQuantileThreshold(options))).toBe(
        'x-#',
        expected,
        new NonFiniteScoreError('c', 3, 0),
      );
    });
  });

  it('names the bad option when built', () => {
    const ok = { q: 0.99, window: { frames: 5 }, seed: 1 };
    expect(() => rollingQuantileThreshold({ ...ok, window: {} })).toThrow(/rollingQuantileThreshold\.window/);
    expect(() => rollingQuantileThreshold({ ...ok, window: { frames: 0 } })).toThrow(/window\.frames/);
    expect(() => rollingQuantileThreshold({ ...ok, q: 1 })).toThrow(/\.q = 1/);
    expect(() => rollingQuantileThreshold({ ...ok, seed: Number.NaN })).toThrow(/\.seed/);
    expect(() => rollingQuantileThreshold({ ...ok, marginFactor: 0 })).toThrow(/marginFactor/);
    expect(() => rollingQuantileThreshold({ ...ok, sketch: 'tdigest' as 'exact' })).toThrow(OptionError);
  });
});

describe('rollingQuantileThreshold under a burst of anomalies', () => {
  it('holds τ when more than 1 - q of the window is censored instead of ratcheting it up', async () => {
    const { from, lastValueFrom, toArray } = await import('rxjs');
    const { rollingQuantileThreshold } = await import('../../operators/rolling-quantile-threshold.js');
    // 100 px per frame: 95 clean scores in [0, 1), 5 foreign-body scores of 100 (5% > 1 - q = 1%).
    const frames = Array.from({ length: 30 }, (_, f) => {
      const scores = new Float32Array(100);
      for (let i = 0; i < 95; i++) scores[i] = ((i * 37 + f * 11) % 95) / 95;
      for (let i = 95; i < 100; i++) scores[i] = 100;
      return {
        cameraId: 'c',
        frameId: f,
        rowOffset: 0,
        totalRows: 10,
        capturedAt: f,
        timings: {},
        height: 10,
        width: 10,
        scores,
      };
    });
    const out = await lastValueFrom(
      from(frames).pipe(
        rollingQuantileThreshold({
          q: 0.99,
          window: { frames: 5 },
          seed: 2,
          marginFactor: 1.5,
          minSamples: 50,
        }),
        toArray(),
      ),
    );
    const taus = out.map((f) => f.threshold);
    expect(Math.max(...taus)).toBeLessThan(3);
    expect(out.every((f) => f.threshold < 100)).toBe(true);
  });
});

describe('rollingQuantileThreshold on the scale basis', () => {
  /** 100 px per frame: clean scores spread evenly over [0, top) with `dirty` of them replaced by 1000. */
  const frame = (f: number, top: number, dirty: number): ScoredFrame => {
    const values = Array.from({ length: 100 }, (_, i) =>
      i < dirty ? 1000 : (((i * 37 + f * 11) % 100) / 100) * top,
    );
    return scored(values, { frameId: f });
  };

  it('moves the calibrated τ by the ratio of the window median to the training median', async () => {
    // Training median 0.5 for scores over [0, 1); now the scores spread over [0, 2): τ doubles.
    const out = await run(
      Array.from({ length: 6 }, (_, f) => frame(f, 2, 0)),
      { q: 0.99, window: { frames: 3 }, seed: 3, minSamples: 100, scale: { q: 0.5, reference: 0.5 } },
    );
    expect(out[0]?.threshold).toBe(3);
    expect(out.at(-1)?.threshold).toBeCloseTo(6, 0);
  });

  it('holds still on a belt where a fifth of the pixels are foreign bodies', async () => {
    const frames = Array.from({ length: 40 }, (_, f) => frame(f, 1, 20));
    const scale = await run(frames, {
      q: 0.99,
      window: { frames: 5 },
      seed: 3,
      minSamples: 100,
      scale: { q: 0.5, reference: 0.5 },
    });
    // The 20 censored rank above the 80 clean scores: the median becomes the clean scores'
    // 0.62-quantile, τ = 3 × 0.62 / 0.5 ≈ 3.7, and holds there.
    const taus = scale.map((f) => f.threshold);
    expect(Math.max(...taus)).toBeLessThan(4);
    expect(taus.at(-1)).toBeCloseTo(taus[10]!, 1);
  });

  it('names a bad scale option', () => {
    expect(() =>
      rollingQuantileThreshold({ q: 0.99, window: { frames: 3 }, seed: 1, scale: { q: 0.5, reference: 0 } }),
    ).toThrow(OptionError);
  });
});
