import * as tf from '@tensorflow/tfjs';
import { map } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { zscoreNormalize } from '../../operators/zscore-normalize.js';
import { ChannelCountError, ModelParamsError } from '../../src/model/model-errors.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube, marbles, plainPixels } from './tensor-frames.js';

const params = { mean: Float32Array.of(1, 10), std: Float32Array.of(2, 5) };

describe('zscoreNormalize', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('computes (x - μ) / σ per channel, in order, and completes (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-|', {
        a: cube([[3, 20]]),
        b: cube([
          [1, 10],
          [-1, 0],
        ]),
      });
      const out = source.pipe(
        toTensorFrame(),
        zscoreNormalize(params),
        map((frame) => plainPixels(frame)),
      );
      expectObservable(out).toBe('x-y-|', {
        x: [[1, 2]],
        y: [
          [0, 0],
          [-1, -2],
        ],
      });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors on a frame with the wrong band count (expected vs got), disposing it and its parameters (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-a-|', { a: cube([[3, 20]]), b: cube([[1, 2, 3]]) });
      const out = source.pipe(
        toTensorFrame(),
        zscoreNormalize(params),
        map((frame) => plainPixels(frame)),
      );
      expectObservable(out).toBe('-x-#', { x: [[1, 2]] }, new ChannelCountError('zscoreNormalize', 2, 3));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(tf.memory().numTensors).toBe(before);
    const error = new ChannelCountError('zscoreNormalize', 2, 3);
    expect(error.message).toBe(
      'invalid frame: bands = 3: zscoreNormalize expects 2 channels (its parameters), got 3',
    );
    expect([error.code, error.expected, error.got]).toEqual(['bands', 2, 3]);
  });

  it('passes an upstream error on and releases its parameter tensors (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('-a-#', { a: cube([[3, 20]]) }, new Error('camera gone'));
      const out = source.pipe(
        toTensorFrame(),
        zscoreNormalize(params),
        map((frame) => plainPixels(frame)),
      );
      expectObservable(out).toBe('-x-#', { x: [[1, 2]] }, new Error('camera gone'));
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('releases its parameter tensors when unsubscribed early (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-a-a-|', { a: cube([[3, 20]]) });
      const out = source.pipe(
        toTensorFrame(),
        zscoreNormalize(params),
        map((frame) => plainPixels(frame)),
      );
      expectObservable(out, '^--!').toBe('-x-', { x: [[1, 2]] });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects inconsistent parameters when built', () => {
    expect(() => zscoreNormalize({ mean: Float32Array.of(0, 0), std: Float32Array.of(1) })).toThrow(
      new ModelParamsError('zscore.std', 'has 1 values, zscore.mean has 2'),
    );
    expect(() => zscoreNormalize({ mean: Float32Array.of(0), std: Float32Array.of(-1) })).toThrow(
      'model parameter zscore.std[0]: -1 must be positive and finite',
    );
  });
});
