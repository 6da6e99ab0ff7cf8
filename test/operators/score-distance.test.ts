import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, map, of, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreDistance } from '../../operators/score-distance.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { trackCenter } from '../../operators/track-center.js';
import type { CenteredTensorFrame, TensorFrame } from '../../src/core/tensor-frame.js';
import { ChannelCountError } from '../../src/model/model-errors.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube, marbles } from './tensor-frames.js';

const center = Float32Array.of(1, 2);

describe('scoreDistance', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('scores ||z - c||² per pixel into a ScoredFrame that keeps identity and labels, not tensors', async () => {
    const before = tf.memory().numTensors;
    const source = cube(
      [
        [1, 2],
        [4, 6],
        [0, 0],
      ],
      { cameraId: 'belt', frameId: 4, labels: Uint8Array.of(0, 3, 0) },
    );
    const [scored] = await lastValueFrom(
      of(source).pipe(
        toTensorFrame(),
        trackCenter({ center }),
        scoreDistance({ modelVersion: 'm1' }),
        toArray(),
      ),
    );
    expect(scored).toEqual({
      cameraId: 'belt',
      frameId: 4,
      rowOffset: 0,
      totalRows: 1,
      capturedAt: source.capturedAt,
      timings: {},
      height: 1,
      width: 3,
      labels: Uint8Array.of(0, 3, 0),
      scores: Float32Array.of(0, 25, 5),
      modelVersion: 'm1',
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves modelVersion out when not given; keeps order and completes (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('-a--b-|', {
        a: cube([[1, 3]], { frameId: 1 }),
        b: cube([[3, 2]], { frameId: 2 }),
      });
      const out = source.pipe(
        toTensorFrame(),
        trackCenter({ center }),
        scoreDistance(),
        map((frame) => ({
          id: frame.frameId,
          scores: Array.from(frame.scores),
          versioned: 'modelVersion' in frame,
        })),
      );
      expectObservable(out).toBe('-x--y-|', {
        x: { id: 1, scores: [1], versioned: false },
        y: { id: 2, scores: [4], versioned: false },
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors when the centre and the embeddings differ in length, disposing the frame', async () => {
    const before = tf.memory().numTensors;
    const error = await lastValueFrom(
      of(cube([[1, 2, 3]])).pipe(
        toTensorFrame(),
        map((frame: TensorFrame): CenteredTensorFrame => ({ ...frame, center })),
        scoreDistance(),
      ),
    ).catch((e: unknown) => e);
    expect(error).toEqual(new ChannelCountError('scoreDistance', 2, 3));
    expect(tf.memory().numTensors).toBe(before);
  });
});
