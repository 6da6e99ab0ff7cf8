import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/options.js';
import { initEngine } from '../../src/scoring/engine.js';
import { radiusSquared, softBoundaryLoss, softplusBeta } from '../../src/train/soft-boundary-loss.js';

const softplus10 = (x: number): number => Math.log1p(Math.exp(10 * x)) / 10;

describe('soft-boundary loss', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('R = softplus_10(r): log(2)/10 at r = 0, stable at the extremes', () => {
    tf.tidy(() => {
      expect(radiusSquared(tf.scalar(0)).dataSync()[0]).toBeCloseTo((Math.LN2 / 10) ** 2, 8);
      const values = softplusBeta(tf.tensor1d([-50, -1, 0.3, 5, 1000])).dataSync();
      expect(values[0]).toBeGreaterThanOrEqual(0);
      expect(values[0]).toBeLessThan(1e-20);
      expect(values[1]).toBeCloseTo(softplus10(-1), 7);
      expect(values[2]).toBeCloseTo(softplus10(0.3), 6);
      expect(values[3]).toBeCloseTo(5, 6);
      expect(values[4]).toBe(1000);
    });
  });

  it('loss = R² + mean(max(0, s - R²)) / ν', () => {
    tf.tidy(() => {
      const r = 0.2;
      const r2 = softplus10(r) ** 2;
      const scores = [0, r2 / 2, 1, 3];
      const expected = r2 + scores.reduce((sum, s) => sum + Math.max(0, s - r2), 0) / scores.length / 0.1;
      const loss = softBoundaryLoss(tf.tensor1d(scores), tf.scalar(r), { nu: 0.1 });
      expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
    });
  });

  it('has the exact gradient in r at r = 0 (sigmoid(0) = 1/2, not 0)', () => {
    tf.tidy(() => {
      const r0 = Math.LN2 / 10;
      // All scores inside the sphere: d loss / dr = 2R·sigmoid(10r) = R at r = 0.
      const inside = tf.grad((r: tf.Tensor) => softBoundaryLoss(tf.tensor1d([0, 0.001]), r as tf.Scalar))(
        tf.scalar(0),
      );
      expect(inside.dataSync()[0]).toBeCloseTo(r0, 7);
      // All scores outside: d/dr = R - R/ν.
      const outside = tf.grad((r: tf.Tensor) =>
        softBoundaryLoss(tf.tensor1d([1, 2]), r as tf.Scalar, { nu: 0.05 }),
      )(tf.scalar(0));
      expect(outside.dataSync()[0]).toBeCloseTo(r0 - r0 / 0.05, 5);
    });
  });

  it('rejects ν outside (0, 1] and β <= 0', () => {
    tf.tidy(() => {
      expect(() => softBoundaryLoss(tf.tensor1d([1]), tf.scalar(0), { nu: 0 })).toThrow(OptionError);
      expect(() => softBoundaryLoss(tf.tensor1d([1]), tf.scalar(0), { nu: 1.5 })).toThrow(/nu/);
      expect(() => softplusBeta(tf.scalar(0), -1)).toThrow(/beta/);
    });
  });
});
