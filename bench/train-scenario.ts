import * as tf from '@tensorflow/tfjs';
import type { DeepSvddParams } from '../src/model/deep-svdd-params.js';
import { AdamW } from '../src/train/adamw.js';
import { DeepSvddVariables } from '../src/train/deep-svdd-variables.js';
import { trainStep } from '../src/train/train-step.js';

/** Pixels per training batch. */
export const TRAIN_BATCH = 8192;

/** What the `train` scenario reports. */
export interface TrainResult {
  /** Steps per second (forward, backward, AdamW) on 8,192-pixel batches; null when not measured. */
  readonly stepsPerSecond: number | null;
  readonly steps: number;
  readonly note?: string;
}

/**
 * `train`: training steps per second on the tfjs engine (onnxruntime-node has no training):
 * `trainStep` (src/train/train-step.ts) with every stage trainable and AdamW, on a batch of
 * 8,192 unit-normed pixels, two warm-up steps, then as many steps as fit in `seconds`.
 */
export function runTrain(params: DeepSvddParams, unitNormed: Float32Array, seconds: number): TrainResult {
  const channels = params.zscore.mean.length;
  const pixels = unitNormed.length / channels;
  if (pixels < TRAIN_BATCH) {
    return { stepsPerSecond: null, steps: 0, note: `only ${pixels} sample pixels, need ${TRAIN_BATCH}` };
  }
  const model = DeepSvddVariables.create({
    zscore: params.zscore,
    project: params.project,
    center: params.center,
  });
  const optimizer = new AdamW(model.allVariables(), { lr: 1e-3, weightDecay: 0.01 });
  const batch = tf.tensor2d(
    unitNormed.subarray(0, TRAIN_BATCH * channels),
    [TRAIN_BATCH, channels],
    'float32',
  );
  try {
    for (let i = 0; i < 2; i++) trainStep(model, optimizer, batch, { nu: 0.05 });
    let steps = 0;
    const began = performance.now();
    while (performance.now() - began < seconds * 1000 || steps < 3) {
      trainStep(model, optimizer, batch, { nu: 0.05 });
      steps++;
    }
    return { stepsPerSecond: (steps * 1000) / (performance.now() - began), steps };
  } finally {
    batch.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
