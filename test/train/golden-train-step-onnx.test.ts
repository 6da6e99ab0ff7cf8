import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/scoring/engine.js';
import { AdamW } from '../../src/train/adamw.js';
import { clipGradNorm } from '../../src/train/grad-clip.js';
import { OnnxGradients } from '../../src/train/onnx/onnx-gradients.js';
import { disposeStepGradients, trainStepWith } from '../../src/train/train-step.js';
import {
  GOLDEN_PARAMS,
  GOLDEN_STEP_OPTIONS,
  type GoldenVectors,
  goldenModel,
  loadGoldenVectors,
  worstRatio,
} from './golden-source.js';

describe('one onnxruntime training step against the PyTorch golden vectors (1e-4 relative)', () => {
  let golden: GoldenVectors;
  let pixels: Float32Array;
  let engine: OnnxGradients;

  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    golden = loadGoldenVectors();
    pixels = golden.f32('unitnorm.out');
    expect(pixels.length).toBe(192 * 27);
    engine = new OnnxGradients({ threads: 2 });
  });
  afterAll(() => engine.dispose());

  it('matches centre, z, d, loss, R², every gradient and the gradient norm', async () => {
    const model = goldenModel(golden);
    const before = tf.memory().numTensors;
    const step = await engine.gradients(model, pixels, { ...GOLDEN_STEP_OPTIONS, intermediates: true });
    const checks: [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['center', step.center.dataSync(), golden.f32('center.after_train_step')],
      ['z', step.z?.dataSync() ?? [], golden.f32('train.z')],
      ['d', step.d?.dataSync() ?? [], golden.f32('train.d')],
      ['loss', step.loss.dataSync(), [golden.json.loss]],
      ['R2', step.radiusSquared.dataSync(), [golden.json.R2_init]],
    ];
    for (const [short, name] of GOLDEN_PARAMS) {
      checks.push([`grad.${short}`, step.grads[name]?.dataSync() ?? [], golden.f32(`grad.${short}`)]);
    }
    const norm = tf.tidy(() => clipGradNorm(step.grads).totalNorm.dataSync());
    checks.push(['norm', norm, [golden.json.grad_total_norm_before_clip]]);
    for (const [what, got, want] of checks) {
      const worst = worstRatio(got, want);
      expect(worst.ratio, `${what} ${JSON.stringify(worst)}`).toBeLessThanOrEqual(1);
    }
    disposeStepGradients(step);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('matches every parameter after one clipped AdamW step, and moves the centre', async () => {
    const model = goldenModel(golden);
    const optimizer = new AdamW(model.allVariables(), {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
    const result = await trainStepWith(engine, model, optimizer, pixels, GOLDEN_STEP_OPTIONS);
    expect(worstRatio([result.loss], [golden.json.loss]).ratio).toBeLessThanOrEqual(1);
    expect(
      worstRatio([result.gradNorm], [golden.json.grad_total_norm_before_clip]).ratio,
    ).toBeLessThanOrEqual(1);
    for (const [short, name] of GOLDEN_PARAMS) {
      const worst = worstRatio(model.params[name].dataSync(), golden.f32(`adamw_step.${short}`));
      expect(worst.ratio, `adamw_step.${short} ${JSON.stringify(worst)}`).toBeLessThanOrEqual(1);
    }
    expect(
      worstRatio(model.center.dataSync(), golden.f32('center.after_train_step')).ratio,
    ).toBeLessThanOrEqual(1);
    optimizer.dispose();
    model.dispose();
  });
});
