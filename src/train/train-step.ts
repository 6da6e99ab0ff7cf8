import * as tf from '@tensorflow/tfjs';
import { OptionError } from '../core/options.js';
import type { AdamW } from './adamw.js';
import type { DeepSvddParamName, DeepSvddVariables } from './deep-svdd-variables.js';
import { clipGradNorm, DEFAULT_MAX_GRAD_NORM } from './grad-clip.js';
import { radiusSquared, type SoftBoundaryLossOptions, softBoundaryLoss } from './soft-boundary-loss.js';
import { trimmedOneClassLoss } from './trimmed-one-class-loss.js';

/** The training objective: cuvis's soft-boundary loss, or the contamination-robust one-class loss (the scene default). */
export type TrainLoss = 'soft-boundary' | 'trimmed-one-class';

/** Default EMA rate of the centre during training (docs/maths.md §3.5). */
export const DEFAULT_TRAIN_CENTER_ALPHA = 0.1;

/** Options of {@link trainStep} and {@link softBoundaryGradients}. */
export interface TrainStepOptions extends SoftBoundaryLossOptions {
  /** EMA rate α of the centre update c <- (1-α)c + α·mean(z) before the loss (default 0.1; 0 keeps c). */
  centerAlpha?: number;
  /** Global gradient-norm clip (default 1.0). */
  maxGradNorm?: number;
  /** Objective (default `soft-boundary`); `trimmed-one-class` ignores ν and the radius. */
  loss?: TrainLoss;
  /** Share of each batch's highest scores dropped by the `trimmed-one-class` loss (default 0.02). */
  trim?: number;
}

/** What one step applies: loss, R², the moved centre and the gradients of one batch (tensors owned by the caller). */
export interface StepGradients {
  /** The loss of the batch. */
  readonly loss: tf.Scalar;
  /** R² = softplus_β(r)². */
  readonly radiusSquared: tf.Scalar;
  /** The centre after the EMA step, c1 = (1-α)c0 + α·mean(z), `[D]`. */
  readonly center: tf.Tensor1D;
  /** Gradient of the loss for every trainable parameter, before clipping. */
  readonly grads: Partial<Record<DeepSvddParamName, tf.Tensor>>;
}

/** Loss, gradients and intermediates of one batch, before any update (tensors owned by the caller). */
export interface SoftBoundaryGradients extends StepGradients {
  /** Embeddings of the batch, `[N, D]`. */
  readonly z: tf.Tensor2D;
  /** Squared distances ||z - c1||², `[N]`. */
  readonly d: tf.Tensor1D;
}

/**
 * Computes the {@link StepGradients} of a batch: tfjs in-process ({@link softBoundaryGradients}),
 * or an onnxruntime session (`OnnxGradients`). Created once per training run.
 */
export interface GradientEngine {
  /** `tfjs` or `onnx`. */
  readonly name: TrainEngine;
  /** Loss, R², moved centre and gradients of the trainable parameters; changes nothing. */
  gradients(
    model: DeepSvddVariables,
    batch: tf.Tensor2D | Float32Array,
    options: TrainStepOptions,
  ): Promise<StepGradients>;
  /** Frees what the engine holds (sessions); never rejects. */
  dispose(): Promise<void>;
}

/** Where the batch forward and backward pass runs: tfjs (its backend), or onnxruntime-node. */
export type TrainEngine = 'tfjs' | 'onnx';

/** What one {@link trainStep} reports (read back in one sync). */
export interface TrainStepResult {
  /** Loss of the batch before the update. */
  readonly loss: number;
  /** R² before the update. */
  readonly radiusSquared: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
}

/**
 * The centre's EMA rate α of `options` (default 0.1).
 *
 * @throws {@link OptionError} when α is outside [0, 1]
 */
export function centerAlphaOf(options: TrainStepOptions): number {
  const alpha = options.centerAlpha ?? DEFAULT_TRAIN_CENTER_ALPHA;
  if (!(alpha >= 0 && alpha <= 1))
    throw new OptionError('training', 'centerAlpha', alpha, 'must be in [0, 1]');
  return alpha;
}

/** Identity forward, zero gradient: the centre update must not backpropagate into z. */
const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...inputs) => {
  const x = inputs[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

/**
 * Pixels N of a batch of `channels`-band pixels (`[N, C]` tensor or pixel-major Float32Array).
 *
 * @throws {@link OptionError} for an empty batch or one of the wrong width
 */
export function batchPixels(batch: tf.Tensor2D | Float32Array, channels: number): number {
  if (batch instanceof Float32Array) {
    if (batch.length === 0 || batch.length % channels !== 0) {
      throw new OptionError(
        'training',
        'batch',
        `Float32Array(${batch.length})`,
        `is not a whole number of ${channels}-band pixels`,
      );
    }
    return batch.length / channels;
  }
  if (batch.shape[1] !== channels || batch.shape[0] === 0) {
    throw new OptionError('training', 'batch', `[${batch.shape}]`, `must be [N > 0, ${channels}]`);
  }
  return batch.shape[0];
}

function asBatch(batch: tf.Tensor2D | Float32Array, channels: number): tf.Tensor2D {
  const n = batchPixels(batch, channels);
  return batch instanceof Float32Array ? tf.tensor2d(batch, [n, channels], 'float32') : batch;
}

/**
 * Forward and backward pass of one batch (docs/maths.md §3.7) without changing anything: z from the
 * unit-normed pixels, c1 = (1-α)c0 + α·mean(z) (no gradient through c1), d = ||z - c1||²,
 * the soft-boundary loss, and its gradients for the trainable parameters. The returned tensors
 * belong to the caller (dispose them, or call inside `tf.tidy`).
 *
 * @param batch - unit-normed pixels `[N, C]` (a tensor, or a pixel-major Float32Array)
 * @throws {@link OptionError} for a batch of the wrong width, α outside [0, 1], bad ν/β,
 *   or when no parameter is trainable
 */
export function softBoundaryGradients(
  model: DeepSvddVariables,
  batch: tf.Tensor2D | Float32Array,
  options: TrainStepOptions = {},
): SoftBoundaryGradients {
  const alpha = centerAlphaOf(options);
  const varList = model.trainableVariables();
  if (varList.length === 0) throw new OptionError('training', 'trainable', '[]', 'no stage is trainable');
  return tf.tidy(() => {
    const x = asBatch(batch, model.inChannels);
    let kept: { z: tf.Tensor2D; d: tf.Tensor1D; center: tf.Tensor1D } | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const z = model.embed(x);
      const center = tf.add(
        tf.mul(model.center, 1 - alpha),
        tf.mul(stopGradient(tf.mean(z, 0)), alpha),
      ) as tf.Tensor1D;
      const d = tf.sum(tf.square(tf.sub(z, center)), 1) as tf.Tensor1D;
      kept = { z: tf.keep(z), d: tf.keep(d), center: tf.keep(center) };
      return options.loss === 'trimmed-one-class'
        ? trimmedOneClassLoss(d, options.trim)
        : softBoundaryLoss(d, model.r, options);
    }, varList);
    if (kept === undefined) throw new Error('unreachable: the loss function did not run');
    // Re-home the kept intermediates in this scope so that the caller's tidy owns them.
    const z = tf.clone(kept.z);
    const d = tf.clone(kept.d);
    const center = tf.clone(kept.center);
    kept.z.dispose();
    kept.d.dispose();
    kept.center.dispose();
    const named: Partial<Record<DeepSvddParamName, tf.Tensor>> = {};
    for (const [variableName, grad] of Object.entries(grads)) {
      const name = model.paramName(variableName);
      if (name !== undefined && grad !== null) named[name] = grad;
    }
    return { loss: value, radiusSquared: radiusSquared(model.r, options.beta), center, z, d, grads: named };
  });
}

/** Frees every tensor of a {@link StepGradients} (and z/d when present). */
export function disposeStepGradients(
  step: StepGradients & { readonly z?: tf.Tensor; readonly d?: tf.Tensor },
): void {
  tf.dispose([step.loss, step.radiusSquared, step.center, ...Object.values(step.grads)]);
  if (step.z !== undefined) step.z.dispose();
  if (step.d !== undefined) step.d.dispose();
}

/**
 * The update half of a step: global gradient-norm clipping of `step.grads`, one AdamW update,
 * and the centre moved to `step.center`; reads loss, R² and the norm back in one sync. Leaves
 * `step` to the caller (see {@link disposeStepGradients}).
 *
 * @param maxGradNorm - global clip (default 1.0)
 */
export function applyStepGradients(
  model: DeepSvddVariables,
  optimizer: AdamW,
  step: StepGradients,
  maxGradNorm: number = DEFAULT_MAX_GRAD_NORM,
): TrainStepResult {
  const values = tf.tidy(() => {
    const byVariable: Record<string, tf.Tensor> = {};
    for (const [name, grad] of Object.entries(step.grads) as [DeepSvddParamName, tf.Tensor][]) {
      byVariable[model.params[name].name] = grad;
    }
    const { grads, totalNorm } = clipGradNorm(byVariable, maxGradNorm);
    optimizer.applyGradients(grads);
    model.center.assign(step.center);
    return tf.stack([step.loss, step.radiusSquared, totalNorm]);
  });
  const [loss, r2, gradNorm] = values.dataSync();
  values.dispose();
  return { loss: loss ?? Number.NaN, radiusSquared: r2 ?? Number.NaN, gradNorm: gradNorm ?? Number.NaN };
}

/**
 * One training step (docs/maths.md §3.7): {@link softBoundaryGradients}, global gradient-norm clipping,
 * one AdamW update of the trainable parameters, and the centre moved to c1. Every intermediate
 * is freed; `tf.memory().numTensors` is the same before and after.
 *
 * @param optimizer - an {@link AdamW} over `model.allVariables()` (frozen ones get no gradient)
 * @example
 * ```ts
 * import { AdamW } from './adamw.js';
 * import { PixelBatches } from './pixel-batches.js';
 * const batches = new PixelBatches(trainingFrames, { batchSize: 4096, seed: 1 });
 * const optimizer = new AdamW(model.allVariables(), { lr: 1e-3, weightDecay: 0.01 });
 * for (const batch of batches.epoch(0)) {
 *   const { loss, gradNorm } = trainStep(model, optimizer, batch, { nu: 0.05, centerAlpha: 0.1 });
 * }
 * ```
 */
export function trainStep(
  model: DeepSvddVariables,
  optimizer: AdamW,
  batch: tf.Tensor2D | Float32Array,
  options: TrainStepOptions = {},
): TrainStepResult {
  const step = softBoundaryGradients(model, batch, options);
  try {
    return applyStepGradients(model, optimizer, step, options.maxGradNorm);
  } finally {
    disposeStepGradients(step);
  }
}

/**
 * {@link trainStep} with the gradients from `engine` (e.g. onnxruntime, see
 * `createGradientEngine`): asynchronous, since an onnxruntime run is.
 *
 * @example
 * ```ts
 * import { createGradientEngine } from './gradient-engine.js';
 * const engine = createGradientEngine('onnx');
 * const { loss } = await trainStepWith(engine, model, optimizer, batch, { nu: 0.05 });
 * await engine.dispose();
 * ```
 */
export async function trainStepWith(
  engine: GradientEngine,
  model: DeepSvddVariables,
  optimizer: AdamW,
  batch: tf.Tensor2D | Float32Array,
  options: TrainStepOptions = {},
): Promise<TrainStepResult> {
  const step = await engine.gradients(model, batch, options);
  try {
    return applyStepGradients(model, optimizer, step, options.maxGradNorm);
  } finally {
    disposeStepGradients(step);
  }
}
