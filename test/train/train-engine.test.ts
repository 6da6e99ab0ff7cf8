import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initProjection } from '../../src/model/deep-svdd-params.js';
import { initEngine } from '../../src/scoring/engine.js';
import { AdamW } from '../../src/train/adamw.js';
import { type DeepSvddInit, DeepSvddVariables } from '../../src/train/deep-svdd-variables.js';
import { createGradientEngine, resolveTrainEngine } from '../../src/train/gradient-engine.js';
import { OnnxGradients } from '../../src/train/onnx/onnx-gradients.js';
import { trainStepWith } from '../../src/train/train-step.js';
import { type TrainerOptions, trainDeepSvdd } from '../../src/train/trainer.js';
import { trainerOptionsOf } from '../../src/train/trainer-options.js';
import { TrainrunSchema } from '../../src/train/trainrun-schema.js';
import { smoothPixels } from './train-fixtures.js';

const C = 6;

function pixels(n: number, seed: number): Float32Array {
  return smoothPixels(n, C, seed);
}

function init(): DeepSvddInit {
  return {
    zscore: { mean: Float32Array.of(0.1, 0, -0.2, 0.1, 0, 0.2), std: new Float32Array(C).fill(0.3) },
    project: initProjection(C, { hidden: 16, rep: 4, seed: 2 }),
    center: Float32Array.of(0.2, -0.1, 0.05, 0.3),
  };
}

const OPTIONS: TrainerOptions = {
  epochs: 2,
  batchSize: 200,
  lr: 1e-3,
  seed: 3,
  schedule: [
    { fromEpoch: 0, trainable: ['project', 'boundary'] },
    { fromEpoch: 1, trainable: ['zscore', 'project', 'boundary'] },
  ],
};

/** Runs `steps` ORT steps of all-trainable training from a fresh model; returns every parameter and the centre. */
async function ortRun(threads: number, steps: number): Promise<number[]> {
  // The cuvis net's widths and batch, so that onnxruntime splits the work across its threads.
  const model = DeepSvddVariables.create({
    ...init(),
    project: initProjection(C, { hidden: 128, rep: 32, seed: 2 }),
    center: new Float32Array(32).fill(0.1),
  });
  const optimizer = new AdamW(model.allVariables(), { lr: 1e-2 });
  const engine = new OnnxGradients({ threads });
  const data = pixels(8192, 9);
  for (let i = 0; i < steps; i++) await trainStepWith(engine, model, optimizer, data);
  const values = [...model.allVariables(), model.center].flatMap((v) => [...v.dataSync()]);
  await engine.dispose();
  optimizer.dispose();
  model.dispose();
  return values;
}

describe('the training engine choice', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('auto is tfjs on native TensorFlow only, onnx otherwise; the config defaults to auto', () => {
    expect(resolveTrainEngine('auto', 'tensorflow')).toBe('tfjs');
    expect(resolveTrainEngine('auto', 'wasm')).toBe('onnx');
    expect(resolveTrainEngine('auto', 'cpu')).toBe('onnx');
    expect(resolveTrainEngine('tfjs', 'wasm')).toBe('tfjs');
    expect(resolveTrainEngine()).toBe('onnx'); // wasm here
    expect(createGradientEngine('tfjs').name).toBe('tfjs');
    const config = TrainrunSchema.parse({ name: 'x', data: { dir: '.' } });
    expect(config.trainer.engine).toBe('auto');
    expect(trainerOptionsOf(config).engine).toBe('auto');
    expect(() =>
      TrainrunSchema.parse({ name: 'x', data: { dir: '.' }, trainer: { engine: 'gpu' } }),
    ).toThrow();
  });

  it('trains to the same weights on both engines (frozen z-score, then all stages)', async () => {
    const data = { data: pixels(1000, 1), bands: C };
    const before = tf.memory().numTensors;
    const tfjs = await trainDeepSvdd(init(), data, { ...OPTIONS, engine: 'tfjs' });
    const onnx = await trainDeepSvdd(init(), data, { ...OPTIONS, engine: 'onnx' });
    expect(tf.memory().numTensors).toBe(before);
    expect(onnx.steps).toBe(tfjs.steps);
    const a = onnx.snapshot;
    const b = tfjs.snapshot;
    const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['W1', a.project.W1, b.project.W1],
      ['b1', a.project.b1, b.project.b1],
      ['W2', a.project.W2, b.project.W2],
      ['mean', a.zscore.mean, b.zscore.mean],
      ['std', a.zscore.std, b.zscore.std],
      ['center', a.center, b.center],
      ['r', [a.r], [b.r]],
    ];
    for (const [name, got, want] of pairs) {
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i]! - want[i]!), `${name}[${i}]`).toBeLessThan(1e-5 + 1e-4 * Math.abs(want[i]!));
      }
    }
    // The z-score trained in the second epoch.
    expect(a.zscore.mean).not.toEqual(init().zscore.mean);
    onnx.history.forEach((record, epoch) => {
      const want = tfjs.history[epoch]?.logs.loss ?? Number.NaN;
      expect(Math.abs((record.logs.loss ?? Number.NaN) - want), `epoch ${epoch} loss`).toBeLessThan(
        1e-4 * Math.abs(want) + 1e-6,
      );
    });
  });

  it('is bit-identical run to run at a fixed thread count (1 and 2 threads)', async () => {
    for (const threads of [1, 2]) {
      const first = await ortRun(threads, 20);
      const second = await ortRun(threads, 20);
      expect(second).toEqual(first);
    }
  });
});
