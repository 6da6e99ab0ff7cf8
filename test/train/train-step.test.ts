import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/options.js';
import { initProjection } from '../../src/model/deep-svdd-params.js';
import { ModelParamsError } from '../../src/model/model-errors.js';
import { initEngine } from '../../src/scoring/engine.js';
import { AdamW } from '../../src/train/adamw.js';
import { DeepSvddVariables } from '../../src/train/deep-svdd-variables.js';
import { softBoundaryGradients, trainStep } from '../../src/train/train-step.js';
import { smoothPixels } from './train-fixtures.js';

const C = 8;

/** `n` pixels of C bands around a smooth spectrum plus noise. */
function pixels(n: number, seed: number): Float32Array {
  return smoothPixels(n, C, seed, 0.3, 0.2);
}

function createModel(): DeepSvddVariables {
  const project = initProjection(C, { hidden: 16, rep: 4, seed: 3 });
  return DeepSvddVariables.create({
    zscore: { mean: new Float32Array(C), std: new Float32Array(C).fill(0.5) },
    project,
    center: Float32Array.of(0.1, -0.1, 0.2, 0),
  });
}

describe('trainStep', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('frees every intermediate: the tensor count stays flat over many steps', () => {
    const model = createModel();
    const optimizer = new AdamW(model.allVariables());
    const data = pixels(256, 1);
    const batch = tf.tensor2d(data, [256, C]);
    trainStep(model, optimizer, batch); // creates the optimizer state
    const steady = tf.memory().numTensors;
    for (let i = 0; i < 40; i++) {
      trainStep(model, optimizer, batch);
      trainStep(model, optimizer, data.subarray(0, 64 * C)); // Float32Array batches too
    }
    expect(tf.memory().numTensors).toBe(steady);
    batch.dispose();
    optimizer.dispose();
    model.dispose();
  });

  it('lowers the loss on a fixed batch', () => {
    const model = createModel();
    const optimizer = new AdamW(model.allVariables(), { lr: 1e-2 });
    const data = pixels(512, 2);
    const first = trainStep(model, optimizer, data);
    let last = first;
    for (let i = 0; i < 60; i++) last = trainStep(model, optimizer, data);
    expect(Number.isFinite(first.loss)).toBe(true);
    expect(last.loss).toBeLessThan(first.loss * 0.8);
    expect(first.gradNorm).toBeGreaterThan(0);
    optimizer.dispose();
    model.dispose();
  });

  it('updates only unfrozen stages, and moves the centre by the EMA', () => {
    const model = createModel();
    model.setTrainable('zscore', false);
    model.setTrainable('boundary', false);
    expect(model.trainableStages()).toEqual(['project']);
    const optimizer = new AdamW(model.allVariables());
    const before = model.snapshot();
    const data = pixels(128, 4);
    const expectedCenter = tf.tidy(() => {
      const z = model.embed(tf.tensor2d(data, [128, C]));
      return tf.add(tf.mul(model.center, 0.5), tf.mul(tf.mean(z, 0), 0.5)).dataSync();
    });
    trainStep(model, optimizer, data, { centerAlpha: 0.5 });
    const after = model.snapshot();
    expect(after.zscore.mean).toEqual(before.zscore.mean);
    expect(after.zscore.std).toEqual(before.zscore.std);
    expect(after.r).toBe(before.r);
    expect(after.project.W1).not.toEqual(before.project.W1);
    expect(after.project.W2).not.toEqual(before.project.W2);
    expect(Array.from(after.center)).toEqual(Array.from(expectedCenter).map((v) => expect.closeTo(v, 5)));
    // Unfreezing brings the stage back; α = 0 keeps the centre.
    model.setTrainable('boundary', true);
    trainStep(model, optimizer, data, { centerAlpha: 0 });
    const third = model.snapshot();
    expect(third.r).not.toBe(before.r);
    expect(third.center).toEqual(after.center);
    expect(optimizer.stepCount(model.r)).toBe(1);
    optimizer.dispose();
    model.dispose();
  });

  it('gives no gradient through the centre update (stop-gradient)', () => {
    const model = createModel();
    const data = pixels(64, 5);
    tf.tidy(() => {
      // With α = 1 the centre is mean(z) itself; d/dW2 of R² + mean(relu(d - R²))/ν with
      // stop-gradient equals the gradient with a constant centre equal to mean(z).
      const step = softBoundaryGradients(model, data, { centerAlpha: 1 });
      const constantCenter = DeepSvddVariables.create({
        zscore: { mean: new Float32Array(C), std: new Float32Array(C).fill(0.5) },
        project: initProjection(C, { hidden: 16, rep: 4, seed: 3 }),
        center: Float32Array.from(step.center.dataSync()),
      });
      const reference = softBoundaryGradients(constantCenter, data, { centerAlpha: 0 });
      const got = step.grads['project.W2']?.dataSync() ?? new Float32Array();
      const ref = reference.grads['project.W2']?.dataSync() ?? new Float32Array();
      expect(got.length).toBe(ref.length);
      expect(Array.from(got)).toEqual(Array.from(ref).map((v) => expect.closeTo(v, 5)));
      constantCenter.dispose();
    });
    model.dispose();
  });

  it('rejects a batch of the wrong width, no trainable stage, and bad parameters', () => {
    const model = createModel();
    const optimizer = new AdamW(model.allVariables());
    expect(() => trainStep(model, optimizer, new Float32Array(C * 2 + 1))).toThrow(
      /whole number of 8-band pixels/,
    );
    expect(() => trainStep(model, optimizer, pixels(4, 1), { centerAlpha: 2 })).toThrow(OptionError);
    for (const stage of ['zscore', 'project', 'boundary'] as const) model.setTrainable(stage, false);
    expect(() => trainStep(model, optimizer, pixels(4, 1))).toThrow(/no stage is trainable/);
    optimizer.dispose();
    model.dispose();
    expect(() =>
      DeepSvddVariables.create({
        zscore: { mean: new Float32Array(C), std: new Float32Array(C) },
        project: initProjection(C),
        center: new Float32Array(32),
      }),
    ).toThrow(ModelParamsError);
    expect(() =>
      DeepSvddVariables.create({
        zscore: { mean: new Float32Array(C), std: new Float32Array(C).fill(1) },
        project: initProjection(C),
        center: new Float32Array(31),
      }),
    ).toThrow(/center/);
  });
});
