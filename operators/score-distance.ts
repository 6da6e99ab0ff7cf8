import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import { type CenteredTensorFrame, tensorFrameIdentity } from '../src/core/tensor-frame.js';
import { ChannelCountError } from '../src/model/model-errors.js';
import { tensorStage } from './internal/tensor-stage.js';

/** Options of {@link scoreDistance}. */
export interface ScoreDistanceOptions {
  /** Model version copied into every `ScoredFrame` (and from there into decisions). */
  readonly modelVersion?: string;
}

const STAGE = 'scoreDistance';

/**
 * Scores each pixel by its squared distance to the centre attached by `trackCenter`
 * (docs/maths.md §3.6): s = ||z - c||², no radius subtracted. Downloads the scores (one float32 per pixel) into
 * a {@link ScoredFrame} and disposes the frame's tensor: the tensor side of the pipeline ends here.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when the centre and the embeddings differ in length
 * @example
 * ```ts
 * import { perPixelUnitNorm, projectEmbeddings, toTensorFrame, trackCenter, zscoreNormalize } from 'cubestream/operators';
 * frames$.pipe(toTensorFrame(), perPixelUnitNorm(), zscoreNormalize(params.zscore), projectEmbeddings(params.project),
 *   trackCenter({ center: params.center }), scoreDistance({ modelVersion: bundle.manifest.version }))
 * ```
 */
export function scoreDistance(
  options: ScoreDistanceOptions = {},
): OperatorFunction<CenteredTensorFrame, ScoredFrame> {
  const version = options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion };
  return tensorStage<CenteredTensorFrame, ScoredFrame>(() => ({
    step(frame) {
      if (frame.center.length !== frame.bands)
        throw new ChannelCountError(STAGE, frame.center.length, frame.bands);
      const distance = tf.tidy(() =>
        tf.sum(tf.square(tf.sub(frame.pixels, tf.tensor1d(frame.center, 'float32'))), 1),
      );
      const scores = distance.dataSync() as Float32Array;
      distance.dispose();
      return { ...tensorFrameIdentity(frame), scores, ...version };
    },
  }));
}
