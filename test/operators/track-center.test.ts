import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { trackCenter } from '../../operators/track-center.js';
import type { CubeFrame } from '../../src/core/frame.js';
import { type CenteredTensorFrame, disposeTensorFrame } from '../../src/core/tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../../src/model/model-errors.js';
import { CenterTracker, type CenterTrackerOptions } from '../../src/scoring/center-tracker.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube, marbles, plainPixels } from './tensor-frames.js';

const start = Float32Array.of(0, 0);

interface Update {
  camera: string;
  center: number[];
  drift: number;
}

/** Runs frames through trackCenter; returns the centre attached to each frame and the updates. */
async function track(
  frames: CubeFrame[],
  options: Omit<Parameters<typeof trackCenter>[0], 'onUpdate'>,
): Promise<{ attached: number[][]; updates: Update[] }> {
  const updates: Update[] = [];
  const out = await lastValueFrom(
    from(frames).pipe(
      toTensorFrame(),
      trackCenter({
        ...options,
        onUpdate: (c, drift, camera) => updates.push({ camera, center: Array.from(c), drift }),
      }),
      map((frame: CenteredTensorFrame) => {
        disposeTensorFrame(frame);
        return Array.from(frame.center);
      }),
      toArray(),
    ),
  );
  return { attached: out, updates };
}

describe('trackCenter', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('frozen: attaches the initial centre to every frame and never updates', async () => {
    const { attached, updates } = await track([cube([[1, 1]]), cube([[5, 5]])], {
      center: Float32Array.of(1, 2),
    });
    expect(attached).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(updates).toEqual([]);
  });

  it('ema: scores a frame against the centre before it, then moves c <- (1-α)c + α·mean(z), per camera', async () => {
    const frames = [
      cube(
        [
          [2, 4],
          [4, 8],
        ],
        { cameraId: 'a' },
      ), // mean (3, 6)
      cube([[10, 10]], { cameraId: 'b' }),
      cube([[0, 0]], { cameraId: 'a' }),
    ];
    const { attached, updates } = await track(frames, { center: start, alpha: 0.5, mode: 'ema' });
    expect(attached).toEqual([
      [0, 0],
      [0, 0], // camera b starts from the initial centre
      [1.5, 3],
    ]);
    expect(updates.map((u) => [u.camera, u.center])).toEqual([
      ['a', [1.5, 3]],
      ['b', [5, 5]],
      ['a', [0.75, 1.5]],
    ]);
    expect(updates[0]?.drift).toBeCloseTo(Math.hypot(1.5, 3), 6);
    expect(updates[2]?.drift).toBeCloseTo(Math.hypot(0.75, 1.5), 6);
  });

  it('gated-ema: averages only pixels with ||z - c||² below gate(); no update when none passes', async () => {
    let tau = 1;
    const frames = [
      // squared distances 0.5, 200 -> only the first pixel is averaged
      cube([
        [0.5, 0.5],
        [10, 10],
      ]),
      // all far: no update
      cube([[20, 20]]),
    ];
    const gated = await track(frames, { center: start, alpha: 0.5, mode: 'gated-ema', gate: () => tau });
    expect(gated.updates.map((u) => u.center)).toEqual([[0.25, 0.25]]);
    expect(gated.attached).toEqual([
      [0, 0],
      [0.25, 0.25],
    ]);
    tau = Number.POSITIVE_INFINITY;
    const open = await track(
      [
        cube([
          [0.5, 0.5],
          [10, 10],
        ]),
      ],
      { center: start, alpha: 0.5, mode: 'gated-ema', gate: () => tau },
    );
    expect(open.updates.map((u) => u.center)).toEqual([[2.625, 2.625]]);
  });

  it('keeps order, passes the embeddings through untouched and completes (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('-a-b|', { a: cube([[1, 2]], { frameId: 1 }), b: cube([[3, 4]], { frameId: 2 }) });
      const out = source.pipe(
        toTensorFrame(),
        trackCenter({ center: start, alpha: 0.5, mode: 'ema' }),
        map((frame) => ({ id: frame.frameId, center: Array.from(frame.center), pixels: plainPixels(frame) })),
      );
      expectObservable(out).toBe('-x-y|', {
        x: { id: 1, center: [0, 0], pixels: [[1, 2]] },
        y: { id: 2, center: [0.5, 1], pixels: [[3, 4]] },
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors on embeddings of the wrong dimension and disposes the frame', async () => {
    const before = tf.memory().numTensors;
    await expect(track([cube([[1, 2, 3]])], { center: start })).rejects.toEqual(
      new ChannelCountError('trackCenter', 2, 3),
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options when built', () => {
    expect(() => trackCenter({ center: start, alpha: 2, mode: 'ema' })).toThrow(
      new ModelParamsError('center.alpha', '2 must be within [0, 1]'),
    );
    expect(() => trackCenter({ center: start, mode: 'gated-ema' })).toThrow('gated-ema needs a gate()');
    expect(() => trackCenter({ center: new Float32Array(0) })).toThrow('model parameter center: is empty');
  });
});

/** The same run driven by hand through a {@link CenterTracker}, the sums taken in float64. */
function trackByHand(
  frames: CubeFrame[],
  options: Omit<CenterTrackerOptions, 'onUpdate'>,
): { attached: number[][]; updates: Update[] } {
  const updates: Update[] = [];
  const tracker = new CenterTracker({
    ...options,
    onUpdate: (c, drift, camera) => updates.push({ camera, center: Array.from(c), drift }),
  });
  const attached = frames.map((frame) => {
    const center = tracker.current(frame.cameraId);
    if (tracker.tracking) {
      const tau = tracker.tau(frame.cameraId);
      const sum = new Float64Array(frame.bands);
      let count = 0;
      for (let p = 0; p < frame.width * frame.height; p++) {
        const z = frame.data.subarray(p * frame.bands, (p + 1) * frame.bands);
        let distance = 0;
        for (let d = 0; d < frame.bands; d++) distance += ((z[d] as number) - (center[d] as number)) ** 2;
        if (!(distance < tau)) continue;
        for (let d = 0; d < frame.bands; d++) sum[d] = (sum[d] as number) + (z[d] as number);
        count++;
      }
      tracker.update(frame.cameraId, sum, count);
    }
    return Array.from(center);
  });
  return { attached, updates };
}

describe('trackCenter runs the CenterTracker', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  /**
   * Frames of 3 cameras whose embeddings are multiples of 1/4 near the origin (every float32 sum
   * exact, so tfjs and float64 sums agree), a few pixels far out (squared distance > 1000).
   */
  function frames(seed: number): CubeFrame[] {
    let state = seed;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    return Array.from({ length: 24 }, (_, i) =>
      cube(
        Array.from({ length: 8 }, () => {
          const far = next() < 0.2 ? 40 : 0;
          return Array.from({ length: 3 }, () => far + Math.round((next() - 0.5) * 8) / 4);
        }),
        { cameraId: `cam${i % 3}`, frameId: i },
      ),
    );
  }

  const start3 = Float32Array.of(0.25, -0.5, 0);
  const cases: [string, Omit<CenterTrackerOptions, 'onUpdate'>][] = [
    ['ema, default α', { center: start3, mode: 'ema' }],
    ['ema, α 0.3', { center: start3, mode: 'ema', alpha: 0.3 }],
    ['gated-ema, τ 100', { center: start3, mode: 'gated-ema', alpha: 0.2, gate: () => 100 }],
    [
      'gated-ema, τ per camera',
      { center: start3, mode: 'gated-ema', alpha: 0.5, gate: (c) => (c === 'cam1' ? 0 : 200) },
    ],
    ['frozen', { center: start3, mode: 'frozen', alpha: 0.5 }],
  ];
  it.each(cases)('%s: the same centres and updates, bit for bit', async (_name, options) => {
    for (const seed of [1, 7, 42]) {
      const input = frames(seed);
      const want = trackByHand(input, options);
      const got = await track(input, options);
      expect(got.attached).toEqual(want.attached);
      expect(got.updates).toEqual(want.updates);
      if (options.mode !== 'frozen') expect(want.updates.length).toBeGreaterThan(0);
    }
  });
});
