import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/scoring/engine.js';
import { clipGradNorm } from '../../src/train/grad-clip.js';

describe('clipGradNorm (torch.nn.utils.clip_grad_norm_)', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('returns the global norm and scales by maxNorm / (norm + 1e-6) when above', () => {
    tf.tidy(() => {
      // Global norm sqrt(3² + 4² + 12²) = 13.
      const { grads, totalNorm } = clipGradNorm(
        { a: tf.tensor1d([3, 4]), b: tf.scalar(12), frozen: null },
        2,
      );
      expect(totalNorm.dataSync()[0]).toBeCloseTo(13, 5);
      const scale = 2 / (13 + 1e-6);
      expect(Array.from(grads.a?.dataSync() ?? [])).toEqual(
        [3, 4].map((v) => Math.fround(v * scale)).map((v) => expect.closeTo(v, 6)),
      );
      expect(grads.b?.dataSync()[0]).toBeCloseTo(12 * scale, 6);
      expect('frozen' in grads).toBe(false);
      const clippedNorm = tf.norm(tf.concat([grads.a as tf.Tensor1D, tf.reshape(grads.b as tf.Tensor, [1])]));
      expect(clippedNorm.dataSync()[0]).toBeCloseTo(2, 5);
    });
  });

  it('leaves gradients below the limit unchanged', () => {
    tf.tidy(() => {
      const { grads, totalNorm } = clipGradNorm({ a: tf.tensor1d([0.3, 0.4]) }, 1);
      expect(totalNorm.dataSync()[0]).toBeCloseTo(0.5, 6);
      expect(Array.from(grads.a?.dataSync() ?? [])).toEqual([Math.fround(0.3), Math.fround(0.4)]);
    });
  });

  it('handles no gradients and rejects a non-positive limit', () => {
    const { grads, totalNorm } = clipGradNorm({});
    expect(grads).toEqual({});
    expect(totalNorm.dataSync()[0]).toBe(0);
    totalNorm.dispose();
    expect(() => clipGradNorm({}, 0)).toThrow(/maxGradNorm/);
  });
});
