import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { trackCenter } from '../../operators/track-center.js';
import type { CubeFrame } from '../../src/core/frame.js';
import { type CenteredTensorFrame, disposeTensorFrame } from '../../src/core/tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../../src/model/model-errors.js';
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
