import { ModelParamsError } from './model-errors.js';
import type { WhiteningParams } from './robust-whitening.js';
import type { ZscoreStats } from './running-stats.js';

/** An affine map y·Wᵀ + b: `W1` `[out, in]` row-major, `b1` `[out]` (float32). */
export interface FoldedAffine {
  readonly W1: Float32Array;
  readonly b1: Float32Array;
}

/**
 * The first affine layer with the z-score folded in, in float64: W1' = W1 / σ (per column),
 * b1' = b1 - W1'·μ, so W1'·x + b1' = W1·((x - μ)/σ) + b1. `W1` is `[hidden, C]` row-major;
 * returns float32 arrays of the same shapes.
 *
 * @throws {@link ModelParamsError} (`project.W1`) when `W1` is not `[b1.length, C]`
 * @example
 * ```ts
 * foldZscore(Float32Array.of(2), Float32Array.of(1), { mean: Float32Array.of(3), std: Float32Array.of(4) })
 * // { W1: [0.5], b1: [-0.5] }: 2·(x-3)/4 + 1 = 0.5x - 0.5
 * ```
 */
export function foldZscore(W1: Float32Array, b1: Float32Array, zscore: ZscoreStats): FoldedAffine {
  const hidden = b1.length;
  const channels = zscore.mean.length;
  if (W1.length !== hidden * channels) {
    throw new ModelParamsError('project.W1', `has ${W1.length} values, expected ${hidden}x${channels}`);
  }
  const w = new Float32Array(W1.length);
  const b = new Float32Array(hidden);
  for (let h = 0; h < hidden; h++) {
    let shift = 0;
    for (let c = 0; c < channels; c++) {
      const folded = W1[h * channels + c]! / zscore.std[c]!;
      w[h * channels + c] = folded;
      shift += folded * zscore.mean[c]!;
    }
    b[h] = b1[h]! - shift;
  }
  return { W1: w, b1: b };
}

/**
 * The whitening with the z-score folded in, in float64: M·((x - μ)/σ - m) = (M/σ)·x - (M/σ)·(μ + σ·m),
 * that is {@link foldZscore} of (M, 0) with the mean μ + σ·m.
 *
 * @example
 * ```ts
 * if (params.whiten !== undefined) {
 *   const { W1: matrix, b1: bias } = foldZscoreIntoWhitening(params.whiten, params.zscore); // [k, C], [k]
 * }
 * ```
 */
export function foldZscoreIntoWhitening(whiten: WhiteningParams, zscore: ZscoreStats): FoldedAffine {
  return foldZscore(whiten.matrix, new Float32Array(whiten.components), {
    mean: Float32Array.from(zscore.mean, (mu, c) => mu + zscore.std[c]! * whiten.mean[c]!),
    std: zscore.std,
  });
}

/**
 * The whitening (y - m)·Mᵀ as one affine map y·Mᵀ + b with b = -M·m (bias in float64); the
 * matrix is `whiten.matrix` itself.
 *
 * @example
 * ```ts
 * whiteningBias({ mean: Float32Array.of(1, 2), matrix: Float32Array.of(3, 4), components: 1 }) // [-11]
 * ```
 */
export function whiteningBias(whiten: WhiteningParams): Float32Array {
  const channels = whiten.mean.length;
  const bias = new Float32Array(whiten.components);
  for (let k = 0; k < whiten.components; k++) {
    let dot = 0;
    for (let c = 0; c < channels; c++) dot += whiten.matrix[k * channels + c]! * whiten.mean[c]!;
    bias[k] = -dot;
  }
  return bias;
}
