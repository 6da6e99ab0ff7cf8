import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import type { CenteredTensorFrame, TensorFrame } from '../src/core/tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../src/model/model-errors.js';
import { tensorStage } from './internal/tensor-stage.js';

/**
 * How the centre moves: `frozen` never (cuvis at inference), `ema` towards the mean embedding of
 * every frame, `gated-ema` towards the mean of the pixels judged normal (squared distance below
 * the current threshold τ).
 */
export type CenterMode = 'frozen' | 'ema' | 'gated-ema';

/** Options of {@link trackCenter}. */
export interface TrackCenterOptions {
  /** Initial centre c (length D), e.g. `meanEmbedding(…)`; the same start for every camera. */
  readonly center: Float32Array;
  /** EMA weight α in [0, 1] (default 0.01; cuvis trains with 0.1): c <- (1-α)c + α·mean(z). */
  readonly alpha?: number;
  /** Default `frozen`. */
  readonly mode?: CenterMode;
  /**
   * Current threshold τ (`gated-ema`, required there): only pixels with ||z - c||² < τ are
   * averaged; no update when none passes; every pixel when it returns Infinity.
   */
  readonly gate?: (cameraId: string) => number;
  /**
   * Called after each update with the camera's new centre, its drift (L2 distance from the
   * initial centre) and the camera id, e.g. to set `cubestream_center_drift{camera}`.
   */
  readonly onUpdate?: (center: Float32Array, drift: number, cameraId: string) => void;
}

/** Default EMA weight at inference (DESIGN §3.5 suggests 0.001-0.01). */
export const DEFAULT_CENTER_ALPHA = 0.01;

const STAGE = 'trackCenter';

function drift(center: Float32Array, initial: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < center.length; i++) {
    const d = center[i]! - initial[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/**
 * Attaches the Deep SVDD centre to each frame of embeddings (DESIGN §3.5) and, in `ema` /
 * `gated-ema` mode, moves it **after** attaching: c <- (1-α)c + α·mean(z), no gradient through c,
 * computed in float64 from a float32 reduction on the tensor. Each camera (`cameraId`) has its
 * own centre, starting at `center`; the state is dropped on finalize. The frame's tensor passes
 * through (ownership goes with it); `center` on the frame is a snapshot never mutated later.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when a frame does not have D = `center.length` channels
 * @throws {@link ModelParamsError} at build time for α outside [0, 1], a non-finite centre or `gated-ema` without `gate`
 * @example
 * ```ts
 * let tau = calibration.threshold;
 * frames$.pipe(…, projectEmbeddings(w), trackCenter({ center, alpha: 0.005, mode: 'gated-ema', gate: (camera) => threshold.state.current(camera),
 *   onUpdate: (_c, drift, camera) => centerDrift.set({ camera }, drift) }), scoreDistance())
 * ```
 */
export function trackCenter(options: TrackCenterOptions): OperatorFunction<TensorFrame, CenteredTensorFrame> {
  const mode = options.mode ?? 'frozen';
  const alpha = options.alpha ?? DEFAULT_CENTER_ALPHA;
  const initial = Float32Array.from(options.center);
  const { gate, onUpdate } = options;
  if (!['frozen', 'ema', 'gated-ema'].includes(mode)) {
    throw new ModelParamsError('center.mode', `${JSON.stringify(mode)} must be frozen, ema or gated-ema`);
  }
  if (!(alpha >= 0 && alpha <= 1))
    throw new ModelParamsError('center.alpha', `${alpha} must be within [0, 1]`);
  if (initial.length === 0) throw new ModelParamsError('center', 'is empty');
  const bad = initial.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ModelParamsError(`center[${bad}]`, `${initial[bad]} is not finite`);
  if (mode === 'gated-ema' && gate === undefined) {
    throw new ModelParamsError('center.gate', 'gated-ema needs a gate() returning the current threshold');
  }
  const dims = initial.length;

  /** Sum of the (gated) embeddings and how many pixels it holds, as one small download. */
  const reduce = (
    z: tf.Tensor2D,
    center: Float32Array,
    cameraId: string,
  ): { sum: Float32Array; count: number } => {
    const tau = mode === 'ema' ? Number.POSITIVE_INFINITY : (gate?.(cameraId) ?? Number.POSITIVE_INFINITY);
    const both = tf.tidy(() => {
      if (tau === Number.POSITIVE_INFINITY) return tf.concat([tf.sum(z, 0), tf.tensor1d([z.shape[0]])]);
      const distance = tf.sum(tf.square(tf.sub(z, tf.tensor1d(center))), 1);
      const mask = tf.cast(tf.less(distance, tau), 'float32').reshape([1, -1]);
      return tf.concat([tf.matMul(mask, z).reshape([-1]), tf.sum(mask).reshape([1])]);
    });
    const values = both.dataSync() as Float32Array;
    both.dispose();
    return { sum: values.subarray(0, dims), count: values[dims] ?? 0 };
  };

  return tensorStage<TensorFrame, CenteredTensorFrame>(() => {
    const centers = new Map<string, Float32Array>();
    return {
      step(frame) {
        if (frame.bands !== dims) throw new ChannelCountError(STAGE, dims, frame.bands);
        const center = centers.get(frame.cameraId) ?? initial;
        const out: CenteredTensorFrame = { ...frame, center };
        if (mode === 'frozen' || alpha === 0) return out;
        const { sum, count } = reduce(frame.pixels, center, frame.cameraId);
        if (count === 0) return out;
        const next = new Float32Array(dims);
        for (let i = 0; i < dims; i++) next[i] = (1 - alpha) * center[i]! + (alpha * sum[i]!) / count;
        centers.set(frame.cameraId, next);
        onUpdate?.(next, drift(next, initial), frame.cameraId);
        return out;
      },
      release: () => centers.clear(),
    };
  });
}
