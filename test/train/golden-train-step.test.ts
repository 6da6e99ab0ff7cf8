import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/scoring/engine.js';
import { AdamW } from '../../src/train/adamw.js';
import { clipGradNorm } from '../../src/train/grad-clip.js';
import { softBoundaryGradients, trainStep } from '../../src/train/train-step.js';
import {
  GOLDEN_PARAMS,
  GOLDEN_STEP_OPTIONS,
  type GoldenVectors,
  goldenModel,
  loadGoldenVectors,
  worstRatio,
} from './golden-source.js';

describe('one training step against the PyTorch golden vectors (1e-4 relative)', () => {
  let golden: GoldenVectors;
  let pixels: tf.Tensor2D;

  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    golden = loadGoldenVectors();
    expect(golden.tensor('unitnorm.out').shape).toEqual([2, 8, 12, 27]);
    pixels = tf.tensor2d(golden.f32('unitnorm.out'), [192, 27]);
  });
  afterAll(() => pixels.dispose());

  it('matches centre, z, d, loss, R², every gradient and the gradient norm', () => {
    const model = goldenModel(golden);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const step = softBoundaryGradients(model, pixels, GOLDEN_STEP_OPTIONS);
      expect(
        worstRatio(step.center.dataSync(), golden.f32('center.after_train_step')).ratio,
      ).toBeLessThanOrEqual(1);
      expect(worstRatio(step.z.dataSync(), golden.f32('train.z')).ratio).toBeLessThanOrEqual(1);
      expect(worstRatio(step.d.dataSync(), golden.f32('train.d')).ratio).toBeLessThanOrEqual(1);
      expect(worstRatio(step.loss.dataSync(), [golden.json.loss]).ratio).toBeLessThanOrEqual(1);
      expect(worstRatio(step.radiusSquared.dataSync(), [golden.json.R2_init]).ratio).toBeLessThanOrEqual(1);
      for (const [short, name] of GOLDEN_PARAMS) {
        const grad = step.grads[name];
        expect(grad, `grad of ${name}`).toBeDefined();
        const worst = worstRatio(grad?.dataSync() ?? [], golden.f32(`grad.${short}`));
        expect(worst.ratio, `grad.${short} ${JSON.stringify(worst)}`).toBeLessThanOrEqual(1);
      }
      const { totalNorm } = clipGradNorm(step.grads);
      expect(
        worstRatio(totalNorm.dataSync(), [golden.json.grad_total_norm_before_clip]).ratio,
      ).toBeLessThanOrEqual(1);
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('matches every parameter after one clipped AdamW step, and moves the centre', () => {
    const model = goldenModel(golden);
    const optimizer = new AdamW(model.allVariables(), {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
    const result = trainStep(model, optimizer, pixels, GOLDEN_STEP_OPTIONS);
    expect(worstRatio([result.loss], [golden.json.loss]).ratio).toBeLessThanOrEqual(1);
    expect(
      worstRatio([result.gradNorm], [golden.json.grad_total_norm_before_clip]).ratio,
    ).toBeLessThanOrEqual(1);
    expect(worstRatio([result.radiusSquared], [golden.json.R2_init]).ratio).toBeLessThanOrEqual(1);
    for (const [short, name] of GOLDEN_PARAMS) {
      const worst = worstRatio(model.params[name].dataSync(), golden.f32(`adamw_step.${short}`));
      expect(worst.ratio, `adamw_step.${short} ${JSON.stringify(worst)}`).toBeLessThanOrEqual(1);
      expect(optimizer.stepCount(model.params[name])).toBe(1);
    }
    expect(
      worstRatio(model.center.dataSync(), golden.f32('center.after_train_step')).ratio,
    ).toBeLessThanOrEqual(1);
    optimizer.dispose();
    model.dispose();
  });
});
