import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/options.js';
import { initEngine } from '../../src/scoring/engine.js';
import { trimmedOneClassLoss } from '../../src/train/trimmed-one-class-loss.js';

describe('trimmedOneClassLoss', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('averages the scores left after dropping the top share, and differentiates only those', () => {
    const before = tf.memory().numTensors;
    const d = tf.tensor1d([4, 1, 100, 3, 2, 50, 6, 5]);
    const loss = trimmedOneClassLoss(d, 0.25); // drops 100 and 50
    expect(loss.dataSync()[0]).toBeCloseTo(21 / 6, 6);
    const grad = tf.grad((x: tf.Tensor) => trimmedOneClassLoss(x as tf.Tensor1D, 0.25))(d);
    expect(Array.from(grad.dataSync())).toEqual([1, 1, 0, 1, 1, 0, 1, 1].map((v) => Math.fround(v / 6)));
    const all = trimmedOneClassLoss(d, 0);
    expect(all.dataSync()[0]).toBeCloseTo(171 / 8, 5);
    tf.dispose([d, loss, grad, all]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a trim outside [0, 1)', () => {
    const d = tf.tensor1d([1, 2]);
    expect(() => trimmedOneClassLoss(d, 1)).toThrow(OptionError);
    d.dispose();
  });
});
