import type { DeepSvddParams } from '../src/model/deep-svdd-params.js';
import { AdamW } from '../src/train/adamw.js';
import { DeepSvddVariables } from '../src/train/deep-svdd-variables.js';
import { createGradientEngine } from '../src/train/gradient-engine.js';
import { type TrainEngine, trainStepWith } from '../src/train/train-step.js';

/** Pixels per training batch. */
export const TRAIN_BATCH = 8192;

/** What the `train` scenario reports for one engine. */
export interface TrainResult {
  /** Where the batch forward and backward pass ran. */
  readonly engine: TrainEngine;
  /** Steps per second (forward, backward, AdamW) on 8,192-pixel batches; null when not measured. */
  readonly stepsPerSecond: number | null;
  readonly steps: number;
  readonly note?: string;
}

/** onnxruntime settings of the `onnx` engine. */
export interface TrainOrtOptions {
  readonly threads?: number;
  readonly spinning?: boolean;
}

/**
 * `train`: training steps per second of one engine: `trainStepWith` (src/train/train-step.ts)
 * with every stage trainable and AdamW, on a batch of 8,192 unit-normed pixels; `tfjs` runs the
 * gradients on the tfjs backend, `onnx` on onnxruntime-node (clipping and AdamW stay in tfjs).
 * Two warm-up steps, then as many steps as fit in `seconds`.
 */
export async function runTrain(
  engine: TrainEngine,
  params: DeepSvddParams,
  unitNormed: Float32Array,
  seconds: number,
  ort: TrainOrtOptions = {},
): Promise<TrainResult> {
  const channels = params.zscore.mean.length;
  const pixels = unitNormed.length / channels;
  if (pixels < TRAIN_BATCH) {
    return {
      engine,
      stepsPerSecond: null,
      steps: 0,
      note: `only ${pixels} sample pixels, need ${TRAIN_BATCH}`,
    };
  }
  const model = DeepSvddVariables.create({
    zscore: params.zscore,
    project: params.project,
    center: params.center,
  });
  const optimizer = new AdamW(model.allVariables(), { lr: 1e-3, weightDecay: 0.01 });
  const gradients = createGradientEngine(engine, ort);
  const batch = unitNormed.slice(0, TRAIN_BATCH * channels);
  const options = { nu: 0.05 };
  try {
    for (let i = 0; i < 2; i++) await trainStepWith(gradients, model, optimizer, batch, options);
    let steps = 0;
    const began = performance.now();
    while (performance.now() - began < seconds * 1000 || steps < 3) {
      await trainStepWith(gradients, model, optimizer, batch, options);
      steps++;
    }
    return { engine, stepsPerSecond: (steps * 1000) / (performance.now() - began), steps };
  } finally {
    await gradients.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
