import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import { type TensorFrame, tensorFrameIdentity } from '../src/core/tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../src/model/model-errors.js';
import { whiteningOf } from '../src/model/pinv.js';
import { type RxModel, validateRxModel } from '../src/model/rx-stats.js';
import { tensorStage } from './internal/tensor-stage.js';

/** Options of {@link rxScore}. */
export interface RxScoreOptions {
  /** Model version copied into every `ScoredFrame`. */
  readonly modelVersion?: string;
}

const STAGE = 'rxScore';

/**
 * The RX baseline (docs/maths.md §3.10): s = (x - μ)ᵀ Σ⁺ (x - μ) per pixel, from a model fitted by
 * `fitRx`. Σ⁺ is factored once, in float64, into a whitening matrix W with WᵀW = Σ⁺, so the
 * float32 tensor work is s = ||W(x - μ)||², a sum of squares that keeps its digits (the golden
 * RX scores are matched to 1e-5 relative). Emits a {@link ScoredFrame}; disposes the frame's tensor.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when a frame does not have `model.bands` channels
 * @throws {@link ModelParamsError} at build time when `mean`/`covInverse` do not fit `bands` or are not finite
 * @example
 * ```ts
 * import { quantileThreshold, toTensorFrame } from 'cubestream/operators';
 * import { fitRx, RxStats } from '../src/model/rx-stats.js';
 * const stats = new RxStats(61);
 * for (const f of trainingFrames) stats.add(f.data);
 * frames$.pipe(toTensorFrame(), rxScore(fitRx(stats)), quantileThreshold({ q: 0.995 }))
 * ```
 */
export function rxScore(
  model: RxModel,
  options: RxScoreOptions = {},
): OperatorFunction<TensorFrame, ScoredFrame> {
  const { bands } = validateRxModel(model);
  const whitening = whiteningOf(model.covInverse, bands);
  const version = options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion };

  return tensorStage<TensorFrame, ScoredFrame>(() => {
    const mu = tf.tensor1d(Float32Array.from(model.mean), 'float32');
    // Wᵀ [bands, rank]: a non-transposed matMul takes XNNPACK's fast path on wasm.
    const wt = tf.tidy(() =>
      tf.transpose(tf.tensor2d(Float32Array.from(whitening.matrix), [whitening.rank, bands], 'float32')),
    );
    return {
      step(frame) {
        if (frame.bands !== bands) throw new ChannelCountError(STAGE, bands, frame.bands);
        const distance = tf.tidy(() => tf.sum(tf.square(tf.matMul(tf.sub(frame.pixels, mu), wt)), 1));
        const scores = distance.dataSync() as Float32Array;
        distance.dispose();
        return { ...tensorFrameIdentity(frame), scores, ...version };
      },
      release() {
        mu.dispose();
        wt.dispose();
      },
    };
  });
}
