import * as tf from '@tensorflow/tfjs';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { OptionError } from '../../core/options.js';
import type { WhiteningParams } from '../../model/robust-whitening.js';
import { OnnxRuntimeError } from '../../scoring/onnx/onnx-errors.js';
import { createOrtSession } from '../../scoring/onnx/ort-session.js';
import { SessionCache } from '../../scoring/onnx/session-cache.js';
import type { DeepSvddParamName, DeepSvddVariables } from '../deep-svdd-variables.js';
import { DEFAULT_NU, SOFTPLUS_BETA } from '../soft-boundary-loss.js';
import {
  batchPixels,
  centerAlphaOf,
  type GradientEngine,
  type StepGradients,
  type TrainStepOptions,
} from '../train-step.js';
import { DEFAULT_LOSS_TRIM } from '../trimmed-one-class-loss.js';
import { buildTrainGraph, TRAIN_IO, type TrainGraph, type TrainGraphSpec } from './train-graph.js';
import { gradOutput } from './train-network-nodes.js';

/**
 * Default intra-op threads of the training session. Measured on the 2-core reference machine
 * (`npm run bench -- --scenario train --threads 1|2`, cuvis net 27->128->32, 8,192-pixel
 * batches): 2 threads 117 steps/s, 1 thread 103 (PyTorch 1.13, 2 threads: 34). Each count is
 * bit-identical run to run (test/train/train-engine.test.ts).
 */
export const DEFAULT_TRAIN_ORT_THREADS = 2;

/** Options of {@link OnnxGradients}. */
export interface OnnxGradientsOptions {
  /** Intra-op threads (default {@link DEFAULT_TRAIN_ORT_THREADS}); fixed per instance, so runs are reproducible. */
  readonly threads?: number;
  /** Whether idle intra-op threads spin (default true, onnxruntime's default). */
  readonly spinning?: boolean;
}

/** Options of {@link OnnxGradients.gradients}: the step's, plus whether to return z and d. */
export interface OnnxGradientsRunOptions extends TrainStepOptions {
  /** Also return z `[N, D]` and d `[N]` (default false: two batch-sized copies a step does not need). */
  readonly intermediates?: boolean;
}

/** {@link StepGradients} with z and d when asked for. */
export interface OnnxStepGradients extends StepGradients {
  /** Embeddings `[N, D]` (with `intermediates`). */
  readonly z?: tf.Tensor2D;
  /** Squared distances `[N]` (with `intermediates`). */
  readonly d?: tf.Tensor1D;
}

const PARAM_INPUTS: readonly DeepSvddParamName[] = [
  'zscore.mean',
  'zscore.std',
  'project.W1',
  'project.b1',
  'project.W2',
  'boundary.r',
];

/** Distinct ids for whitening stages, so that two models' constants never share a graph. */
const whiteningIds = new WeakMap<WhiteningParams, number>();
let nextWhiteningId = 1;

function whiteningId(whiten: WhiteningParams | undefined): number {
  if (whiten === undefined) return 0;
  let id = whiteningIds.get(whiten);
  if (id === undefined) {
    id = nextWhiteningId++;
    whiteningIds.set(whiten, id);
  }
  return id;
}

function specOf(model: DeepSvddVariables, options: OnnxGradientsRunOptions): TrainGraphSpec {
  const centerAlpha = centerAlphaOf(options);
  const nu = options.nu ?? DEFAULT_NU;
  if (!(nu > 0 && nu <= 1)) throw new OptionError('training', 'nu', nu, 'must be in (0, 1]');
  const beta = options.beta ?? SOFTPLUS_BETA;
  if (!(beta > 0) || !Number.isFinite(beta))
    throw new OptionError('training', 'beta', beta, 'must be finite and > 0');
  const grads = PARAM_INPUTS.filter((name) => model.params[name].trainable);
  if (grads.length === 0) throw new OptionError('training', 'trainable', '[]', 'no stage is trainable');
  return {
    channels: model.inChannels,
    hidden: model.hidden,
    rep: model.rep,
    ...(model.whitening === undefined ? {} : { whiten: model.whitening }),
    residual: model.residual,
    loss: options.loss ?? 'soft-boundary',
    grads,
    centerAlpha,
    nu,
    beta,
    intermediates: options.intermediates === true,
  };
}

function keyOf(spec: TrainGraphSpec): string {
  const { channels, hidden, rep, residual, loss, grads, centerAlpha, nu, beta, intermediates } = spec;
  return JSON.stringify([
    channels,
    hidden,
    rep,
    whiteningId(spec.whiten),
    residual,
    loss,
    grads,
    centerAlpha,
    nu,
    beta,
    intermediates,
  ]);
}

/** Rows kept by the trimmed loss, as `trimmedOneClassLoss` computes them. */
function keptRows(n: number, trim: number): number {
  if (!(trim >= 0 && trim < 1)) throw new OptionError('training', 'trainer.trim', trim, 'must be in [0, 1)');
  return Math.max(1, n - Math.floor(trim * n));
}

function float32Of(values: tf.TypedArray): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/**
 * The batch forward and backward pass of Deep SVDD training on onnxruntime-node: a
 * drop-in for `softBoundaryGradients` that reads the current parameter values from the model's
 * (small) variables, runs one session of {@link buildTrainGraph} and returns the same loss, R²,
 * moved centre and gradients as tfjs tensors. One session per graph variant (model shape,
 * whitening, residual, loss, trainable set, α/ν/β), created on first use and released by
 * {@link OnnxGradients.dispose}.
 *
 * @example
 * ```ts
 * const engine = new OnnxGradients({ threads: 2 });
 * const step = await engine.gradients(model, batch, { nu: 0.05 });
 * // ... clip, AdamW, then disposeStepGradients(step)
 * await engine.dispose();
 * ```
 */
export class OnnxGradients implements GradientEngine {
  readonly name = 'onnx';
  readonly #cache = new SessionCache<TrainGraph>(8);
  readonly #threads: number;
  readonly #spinning: boolean | undefined;

  constructor(options: OnnxGradientsOptions = {}) {
    this.#threads = options.threads ?? DEFAULT_TRAIN_ORT_THREADS;
    this.#spinning = options.spinning;
  }

  /** Sessions created so far (one per graph variant used). */
  get sessions(): number {
    return this.#cache.size;
  }

  /**
   * Loss, R², moved centre and the gradient of every trainable parameter of one batch, without
   * changing anything. The tensors belong to the caller.
   *
   * @param batch - unit-normed pixels `[N, C]` (a tensor, or a pixel-major Float32Array)
   * @throws {@link OptionError} for a batch of the wrong width, α/ν/β/trim out of range, or
   *   when no parameter is trainable; {@link OnnxRuntimeError} when onnxruntime fails
   */
  async gradients(
    model: DeepSvddVariables,
    batch: tf.Tensor2D | Float32Array,
    options: OnnxGradientsRunOptions = {},
  ): Promise<OnnxStepGradients> {
    const spec = specOf(model, options);
    const n = batchPixels(batch, model.inChannels);
    const keep = spec.loss === 'trimmed-one-class' ? keptRows(n, options.trim ?? DEFAULT_LOSS_TRIM) : 0;
    const { session, meta } = await this.#session(spec);
    const data = batch instanceof Float32Array ? batch : float32Of(batch.dataSync());
    const feeds: Record<string, Tensor> = {
      [TRAIN_IO.x]: new Tensor('float32', data, [n, model.inChannels]),
      [TRAIN_IO.center]: new Tensor('float32', float32Of(model.center.dataSync()), [model.rep]),
    };
    for (const name of PARAM_INPUTS) {
      const variable = model.params[name];
      feeds[name] = new Tensor('float32', float32Of(variable.dataSync()), variable.shape);
    }
    if (spec.loss === 'trimmed-one-class') {
      feeds[TRAIN_IO.keep] = new Tensor('int64', BigInt64Array.of(BigInt(keep)), [1]);
    }
    let out: InferenceSession.ReturnType;
    try {
      out = await this.#cache.track(session.run(feeds));
    } catch (cause) {
      throw new OnnxRuntimeError('run', meta.describe, cause);
    }
    const read = (name: string): Float32Array => {
      const tensor = out[name];
      if (tensor === undefined) throw new OnnxRuntimeError('run', meta.describe, `no output ${name}`);
      return tensor.data as Float32Array;
    };
    const grads: Partial<Record<DeepSvddParamName, tf.Tensor>> = {};
    for (const name of spec.grads) {
      if (name === 'boundary.r' && spec.loss !== 'soft-boundary') continue; // r does not enter that loss
      grads[name] = tf.tensor(read(gradOutput(name)), model.params[name].shape, 'float32');
    }
    return {
      loss: tf.scalar(read(TRAIN_IO.loss)[0] ?? Number.NaN, 'float32'),
      radiusSquared: tf.scalar(read(TRAIN_IO.radiusSquared)[0] ?? Number.NaN, 'float32'),
      center: tf.tensor1d(read(TRAIN_IO.centerOut), 'float32'),
      grads,
      ...(spec.intermediates
        ? {
            z: tf.tensor2d(read(TRAIN_IO.z), [n, model.rep], 'float32'),
            d: tf.tensor1d(read(TRAIN_IO.d), 'float32'),
          }
        : {}),
    };
  }

  #session(spec: TrainGraphSpec): Promise<{ session: InferenceSession; meta: TrainGraph }> {
    return this.#cache.get(keyOf(spec), async () => {
      const graph = buildTrainGraph(spec);
      const session = await createOrtSession(graph.bytes, {
        threads: this.#threads,
        ...(this.#spinning === undefined ? {} : { spinning: this.#spinning }),
        describe: graph.describe,
      });
      return { session, meta: graph };
    });
  }

  /** Releases every session (after runs in flight). Never rejects. */
  dispose(): Promise<void> {
    return this.#cache.releaseAll();
  }
}
