import * as tf from '@tensorflow/tfjs';
import type { Observable } from 'rxjs';
import { bandIndexWavelengths } from '../core/frame.js';
import { OptionError } from '../core/options.js';
import type { TensorFrame } from '../core/tensor-frame.js';
import type { ProjectionWeights } from '../model/deep-svdd-params.js';
import type { WhiteningParams } from '../model/robust-whitening.js';
import type { ZscoreStats } from '../model/running-stats.js';
import { runOnce } from './operator-runner.js';
import type { TrainingStages } from './training-stages.js';

/** The learned part of a Deep SVDD model: what scores already preprocessed pixels. */
export interface LearnedParams {
  readonly zscore: ZscoreStats;
  readonly whiten?: WhiteningParams;
  readonly project: Pick<ProjectionWeights, 'W1' | 'b1' | 'W2' | 'residual'>;
  readonly center: Float32Array;
}

/**
 * Scores pixels that are already band-passed and unit-normed (e.g. the training reservoir)
 * with the inference operators `embed` and `score`: the pixels are wrapped as one tensor frame
 * (`n` rows of one pixel) and pushed through. Returns one score per pixel.
 *
 * @throws {@link OptionError} when `pixels` is not whole `bands`-channel pixels
 * @example
 * ```ts
 * import { trainingStages } from './operator-stages.js';
 * import { PixelReservoir } from './pixel-reservoir.js';
 * const reservoir = new PixelReservoir(27, 2_000_000, 1); // filled with band-passed, unit-normed training pixels
 * const scores = scorePreprocessedPixels(trainingStages, model.snapshot(), reservoir.pixels(), reservoir.bands);
 * ```
 */
export function scorePreprocessedPixels(
  stages: TrainingStages,
  params: LearnedParams,
  pixels: Float32Array,
  bands: number,
): Float32Array {
  if (pixels.length === 0 || pixels.length % bands !== 0) {
    throw new OptionError(
      'training',
      'pixels',
      `Float32Array(${pixels.length})`,
      `is not whole ${bands}-band pixels`,
    );
  }
  const n = pixels.length / bands;
  const frame: TensorFrame = {
    cameraId: 'train',
    frameId: 0,
    rowOffset: 0,
    totalRows: n,
    capturedAt: 0,
    timings: {},
    height: n,
    width: 1,
    bands,
    wavelengths: bandIndexWavelengths(bands),
    wavelengthUnits: 'index',
    pixels: tf.tensor2d(pixels, [n, bands], 'float32'),
  };
  try {
    return runOnce(
      (source: Observable<TensorFrame>) =>
        source.pipe(stages.embed(params.zscore, params.project, params.whiten), stages.score(params.center)),
      frame,
      'stages',
    ).scores;
  } finally {
    if (!frame.pixels.isDisposed) frame.pixels.dispose();
  }
}

/**
 * Every `step`-th pixel of a pixel-major array, at most `max` of them (an even spread over the
 * reservoir, which is in stream order).
 */
export function spreadSample(pixels: Float32Array, bands: number, max: number): Float32Array {
  const n = pixels.length / bands;
  if (n <= max) return pixels;
  const out = new Float32Array(max * bands);
  const step = n / max;
  for (let i = 0; i < max; i++) {
    const p = Math.floor(i * step);
    out.set(pixels.subarray(p * bands, (p + 1) * bands), i * bands);
  }
  return out;
}
