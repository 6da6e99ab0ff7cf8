import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import type { CenteredTensorFrame, TensorFrame } from '../src/core/tensor-frame.js';
import { ChannelCountError, type ModelParamsError } from '../src/model/model-errors.js';
import { CenterTracker, type CenterTrackerOptions } from '../src/scoring/center-tracker.js';
import { tensorStage } from './internal/tensor-stage.js';

/** Options of {@link trackCenter}: those of the {@link CenterTracker} it runs. */
export type TrackCenterOptions = CenterTrackerOptions;

export { type CenterMode, DEFAULT_CENTER_ALPHA } from '../src/scoring/center-tracker.js';

const STAGE = 'trackCenter';

/** Sum of the embeddings with ||z - c||² < τ (all of them when τ is +Infinity) and their count, as one small download. */
function gatedSum(z: tf.Tensor2D, center: Float32Array, tau: number): { sum: Float32Array; count: number } {
  const dims = center.length;
  const both = tf.tidy(() => {
    if (tau === Number.POSITIVE_INFINITY) return tf.concat([tf.sum(z, 0), tf.tensor1d([z.shape[0]])]);
    const distance = tf.sum(tf.square(tf.sub(z, tf.tensor1d(center))), 1);
    const mask = tf.cast(tf.less(distance, tau), 'float32').reshape([1, -1]);
    return tf.concat([tf.matMul(mask, z).reshape([-1]), tf.sum(mask).reshape([1])]);
  });
  const values = both.dataSync() as Float32Array;
  both.dispose();
  return { sum: values.subarray(0, dims), count: values[dims] ?? 0 };
}

/**
 * Attaches the Deep SVDD centre to each frame of embeddings (docs/maths.md §3.5) and, in `ema` /
 * `gated-ema` mode, moves it **after** attaching: c <- (1-α)c + α·mean(z), no gradient through c,
 * computed in float64 from a float32 reduction on the tensor. Each camera (`cameraId`) has its
 * own centre, starting at `center`; the state is dropped on finalize. The frame's tensor passes
 * through (ownership goes with it); `center` on the frame is a snapshot never mutated later.
 * The update rule, the gating, α and the defaults are those of the {@link CenterTracker} the
 * operator runs (one per subscription), the same the fused scorers use; only the gated sum of
 * the embeddings is taken here, with tfjs.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when a frame does not have D = `center.length` channels
 * @throws {@link ModelParamsError} at build time for α outside [0, 1], a non-finite centre or `gated-ema` without `gate`
 * @example
 * ```ts
 * import { projectEmbeddings, rollingQuantileThreshold, scoreDistance, toTensorFrame, zscoreNormalize } from 'cubestream/operators';
 * const threshold = rollingQuantileThreshold({ q: 0.999, window: { frames: 100 }, seed: bundle.calibration.threshold });
 * frames$.pipe(toTensorFrame(), zscoreNormalize(params.zscore), projectEmbeddings(params.project),
 *   trackCenter({ center: params.center, alpha: 0.005, mode: 'gated-ema', gate: (camera) => threshold.state.current(camera),
 *     onUpdate: (_c, drift, camera) => metrics.centerDrift.set({ camera }, drift) }),
 *   scoreDistance(), threshold)
 * ```
 */
export function trackCenter(options: TrackCenterOptions): OperatorFunction<TensorFrame, CenteredTensorFrame> {
  const template = new CenterTracker(options);
  const { dims } = template;
  return tensorStage<TensorFrame, CenteredTensorFrame>(() => {
    const tracker = template.fresh();
    return {
      step(frame) {
        if (frame.bands !== dims) throw new ChannelCountError(STAGE, dims, frame.bands);
        const center = tracker.current(frame.cameraId);
        const out: CenteredTensorFrame = { ...frame, center };
        if (!tracker.tracking) return out;
        const { sum, count } = gatedSum(frame.pixels, center, tracker.tau(frame.cameraId));
        tracker.update(frame.cameraId, sum, count);
        return out;
      },
      release: () => tracker.clear(),
    };
  });
}
