import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/options.js';
import { initEngine } from '../../src/scoring/engine.js';
import { AdamW } from '../../src/train/adamw.js';

/** torch.optim.AdamW's update for one parameter, in float64. */
function referenceAdamW(
  p0: number[],
  grads: number[][],
  { lr, beta1, beta2, eps, wd }: { lr: number; beta1: number; beta2: number; eps: number; wd: number },
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, t0) => {
    const t = t0 + 1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] as number;
      p[i] = (p[i] as number) * (1 - lr * wd);
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * gi;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * gi * gi;
      const denom = Math.sqrt(v[i] as number) / Math.sqrt(1 - beta2 ** t) + eps;
      p[i] = (p[i] as number) - (lr / (1 - beta1 ** t)) * ((m[i] as number) / denom);
    }
  });
  return p;
}

describe('AdamW', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('follows torch.optim.AdamW over 20 steps with decoupled weight decay', () => {
    const p0 = [0.5, -1.25, 2, 0.001, -3];
    const grads = Array.from({ length: 20 }, (_, t) =>
      p0.map((_, i) => Math.sin(t * 1.7 + i) * 10 ** (i - 2)),
    );
    const settings = { lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6, wd: 0.1 };
    const p = tf.variable(tf.tensor1d(p0));
    const opt = new AdamW([p], {
      lr: settings.lr,
      betas: [settings.beta1, settings.beta2],
      eps: settings.eps,
      weightDecay: settings.wd,
    });
    for (const g of grads) tf.tidy(() => opt.applyGradients({ [p.name]: tf.tensor1d(g) }));
    const ref = referenceAdamW(p0, grads, settings);
    const got = Array.from(p.dataSync());
    for (const [i, value] of got.entries()) {
      expect(Math.abs(value - (ref[i] as number))).toBeLessThan(
        2e-6 * Math.max(1, Math.abs(ref[i] as number)),
      );
    }
    // Without the decay the result is clearly different: the decay is really applied.
    const noDecay = referenceAdamW(p0, grads, { ...settings, wd: 0 });
    expect(Math.abs((got[4] as number) - (noDecay[4] as number))).toBeGreaterThan(1e-2);
    expect(opt.stepCount(p)).toBe(20);
    opt.dispose();
    p.dispose();
  });

  it('with a zero gradient only decays: p <- p·(1 - lr·wd) per step', () => {
    const p = tf.variable(tf.tensor1d([1, -2, 4]));
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5 });
    for (let t = 0; t < 3; t++) tf.tidy(() => opt.applyGradients({ [p.name]: tf.zeros([3]) }));
    const factor = 0.95 ** 3;
    expect(Array.from(p.dataSync())).toEqual([1, -2, 4].map((v) => expect.closeTo(v * factor, 6)));
    opt.dispose();
    p.dispose();
  });

  it('uses per-group learning rates, skips parameters without gradients, counts steps per parameter', () => {
    const a = tf.variable(tf.tensor1d([1]));
    const b = tf.variable(tf.tensor1d([1]));
    const opt = new AdamW(
      [
        { name: 'fast', params: [a], lr: 0.1 },
        { name: 'slow', params: [b], lr: 0.01, weightDecay: 0 },
      ],
      { weightDecay: 0 },
    );
    expect(opt.learningRates()).toEqual([0.1, 0.01]);
    // First Adam step moves each parameter by -lr·sign(g).
    tf.tidy(() => opt.applyGradients({ [a.name]: tf.tensor1d([3]), [b.name]: tf.tensor1d([3]) }));
    expect(a.dataSync()[0]).toBeCloseTo(0.9, 6);
    expect(b.dataSync()[0]).toBeCloseTo(0.99, 6);
    tf.tidy(() => opt.applyGradients({ [a.name]: tf.tensor1d([3]), [b.name]: null }));
    expect(b.dataSync()[0]).toBeCloseTo(0.99, 6);
    expect([opt.stepCount(a), opt.stepCount(b)]).toEqual([2, 1]);
    opt.setLearningRate(0.5, 1);
    expect(opt.learningRates()).toEqual([0.1, 0.5]);
    opt.setLearningRate(0.2);
    expect(opt.learningRates()).toEqual([0.2, 0.2]);
    expect(() => opt.setLearningRate(0.1, 5)).toThrow(OptionError);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('frees its state on dispose and keeps the tensor count flat while stepping', () => {
    const p = tf.variable(tf.randomNormal([4, 4]));
    const opt = new AdamW([p]);
    tf.tidy(() => opt.applyGradients({ [p.name]: tf.onesLike(p) }));
    const steady = tf.memory().numTensors;
    for (let i = 0; i < 25; i++) tf.tidy(() => opt.applyGradients({ [p.name]: tf.onesLike(p) }));
    expect(tf.memory().numTensors).toBe(steady);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(steady - 2);
    p.dispose();
  });

  it('rejects bad hyper-parameters, foreign and mis-shaped gradients, and duplicates', () => {
    const p = tf.variable(tf.tensor1d([1, 2]));
    expect(() => new AdamW([p], { lr: -1 })).toThrow(/adamw\.lr/);
    expect(() => new AdamW([p], { betas: [0.9, 1] })).toThrow(/adamw\.betas\[1\]/);
    expect(() => new AdamW([p], { weightDecay: Number.NaN })).toThrow(OptionError);
    expect(() => new AdamW([{ params: [p] }, { params: [p] }])).toThrow(/listed twice/);
    const opt = new AdamW([p]);
    expect(() => tf.tidy(() => opt.applyGradients({ nope: tf.ones([2]) }))).toThrow(/not a parameter/);
    expect(() => tf.tidy(() => opt.applyGradients({ [p.name]: tf.ones([3]) }))).toThrow(/shape/);
    opt.dispose();
    p.dispose();
  });
});
