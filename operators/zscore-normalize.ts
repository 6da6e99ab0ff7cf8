import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import { type TensorFrame, withPixels } from '../src/core/tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../src/model/model-errors.js';
import { tensorStage } from './internal/tensor-stage.js';

/** Options of {@link zscoreNormalize}: per-channel statistics, e.g. `RunningStats#toZscore()`. */
export interface ZscoreOptions {
  /** μ per channel. */
  readonly mean: Float32Array;
  /** σ per channel (> 0; `RunningStats#std()` adds 1e-8 to sqrt of the unbiased variance). */
  readonly std: Float32Array;
}

const STAGE = 'zscoreNormalize';

/**
 * Standardises each channel (docs/maths.md §3.3): (x - μ_c) / σ_c. The parameters live in two tensors
 * per subscription, released on finalize. Channels are unchanged.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when a frame's channel count is not `mean.length`
 * @throws {@link ModelParamsError} at build time when `mean`/`std` differ in length, are not finite or σ <= 0
 * @example
 * ```ts
 * import { bandpassByWavelength, perPixelUnitNorm, toTensorFrame } from 'cubestream/operators';
 * import { RunningStats } from '../src/model/running-stats.js';
 * declare const unitNormed: readonly Float32Array[]; // training pixels after band-pass and unit norm, 27 bands
 * const stats = new RunningStats();
 * for (const pixels of unitNormed) stats.add(pixels, 27);
 * frames$.pipe(toTensorFrame(), bandpassByWavelength({ minNm: 700 }), perPixelUnitNorm(), zscoreNormalize(stats.toZscore()))
 * ```
 */
export function zscoreNormalize(options: ZscoreOptions): OperatorFunction<TensorFrame, TensorFrame> {
  const { mean, std } = options;
  if (mean.length === 0) throw new ModelParamsError('zscore.mean', 'is empty');
  if (std.length !== mean.length) {
    throw new ModelParamsError('zscore.std', `has ${std.length} values, zscore.mean has ${mean.length}`);
  }
  const badMean = mean.findIndex((v) => !Number.isFinite(v));
  if (badMean >= 0) throw new ModelParamsError(`zscore.mean[${badMean}]`, `${mean[badMean]} is not finite`);
  const badStd = std.findIndex((v) => !(v > 0 && Number.isFinite(v)));
  if (badStd >= 0)
    throw new ModelParamsError(`zscore.std[${badStd}]`, `${std[badStd]} must be positive and finite`);
  const channels = mean.length;

  return tensorStage<TensorFrame, TensorFrame>(() => {
    const mu = tf.tensor1d(mean, 'float32');
    const sigma = tf.tensor1d(std, 'float32');
    return {
      step(frame) {
        if (frame.bands !== channels) throw new ChannelCountError(STAGE, channels, frame.bands);
        return withPixels(
          frame,
          tf.tidy(() => tf.div(tf.sub(frame.pixels, mu), sigma)),
        );
      },
      release() {
        mu.dispose();
        sigma.dispose();
      },
    };
  });
}
