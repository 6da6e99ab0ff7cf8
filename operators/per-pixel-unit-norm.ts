import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import { type TensorFrame, withPixels } from '../src/core/tensor-frame.js';
import { ModelParamsError } from '../src/model/model-errors.js';
import { tensorStage } from './internal/tensor-stage.js';

/** Options of {@link perPixelUnitNorm}. */
export interface PerPixelUnitNormOptions {
  /** Floor of the L2 norm, so a constant pixel becomes 0 instead of NaN (default 1e-8). */
  eps?: number;
}

/**
 * Makes each pixel's spectrum scale-free (docs/maths.md §3.2): subtract its mean over channels, then
 * divide by max(L2 norm, eps). A constant pixel becomes all zeros. Channels are unchanged.
 *
 * @throws {@link ModelParamsError} at build time when `eps` is not a positive number
 * @example
 * ```ts
 * import { bandpassByWavelength, toTensorFrame } from 'cubestream/operators';
 * frames$.pipe(toTensorFrame(), bandpassByWavelength({ minNm: 700 }), perPixelUnitNorm())
 * // pixel [1, 3] -> [-0.7071, 0.7071]
 * ```
 */
export function perPixelUnitNorm(
  options: PerPixelUnitNormOptions = {},
): OperatorFunction<TensorFrame, TensorFrame> {
  const eps = options.eps ?? 1e-8;
  if (!(eps > 0) || !Number.isFinite(eps))
    throw new ModelParamsError('unitNorm.eps', `${eps} must be a positive number`);
  return tensorStage<TensorFrame, TensorFrame>(() => ({
    step: (frame) =>
      withPixels(
        frame,
        tf.tidy(() => {
          const x = frame.pixels;
          const centered = tf.sub(x, tf.mean(x, 1, true));
          const norm = tf.sqrt(tf.sum(tf.square(centered), 1, true));
          return tf.div(centered, tf.maximum(norm, eps));
        }),
      ),
  }));
}
