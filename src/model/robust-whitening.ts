import { quantileInPlace } from '../core/quantile.js';
import { ModelParamsError, StatisticsError } from './model-errors.js';
import type { ZscoreStats } from './running-stats.js';
import { RX_REGULARIZATION, RxStats } from './rx-stats.js';
import { symmetricEigen } from './symmetric-eigen.js';

/** Default number of principal components kept by the whitening stage. */
export const DEFAULT_WHITEN_COMPONENTS = 30;
/** Default share of pixels trimmed (highest first-pass RX scores) before the refit. */
export const DEFAULT_WHITEN_TRIM = 0.02;

/**
 * Parameters of the whitening stage x -> (x - μ)·Mᵀ (docs/maths.md §3.12): `matrix` is `[k, C]`
 * row-major, row j = v_jᵀ / sqrt(λ_j) for the k largest eigenpairs of the background covariance,
 * so ||(x - μ)·Mᵀ||² is RX restricted to the top-k principal components.
 */
export interface WhiteningParams {
  /** Background mean μ (length C). */
  readonly mean: Float32Array;
  /** `[components, C]` row-major. */
  readonly matrix: Float32Array;
  /** k, the number of rows of `matrix` (the stage's output channels). */
  readonly components: number;
}

/** Options of {@link fitRobustWhitening}. */
export interface RobustWhiteningOptions {
  /** Principal components kept, k (default 30; fewer when the rank is lower). */
  readonly components?: number;
  /** Share ν in [0, 1) of pixels with the highest first-pass RX scores left out of the refit (default 0.02). */
  readonly trim?: number;
  /** Ridge added to Σ's diagonal (default 1e-6, as RX). */
  readonly regularization?: number;
}

/** A fitted robust whitening and what the fit did. */
export interface RobustWhitening extends WhiteningParams {
  /** Pixels of the first pass. */
  readonly pixels: number;
  /** Pixels kept for the refit (below the first pass's (1 - ν)-quantile). */
  readonly kept: number;
  /** The first pass's RX score at the (1 - ν)-quantile (Infinity when ν = 0). */
  readonly threshold: number;
}

interface Eigenpairs {
  readonly mean: Float64Array;
  /** Eigenvalues, descending, only those above the rank cutoff. */
  readonly values: number[];
  /** `values.length` unit vectors of length C. */
  readonly vectors: Float64Array[];
}

function eigenpairs(stats: RxStats, regularization: number): Eigenpairs {
  const c = stats.channels;
  const cov = stats.covariance(true);
  for (let i = 0; i < c; i++) cov[i * c + i] = (cov[i * c + i] as number) + regularization;
  const { values, vectors } = symmetricEigen(cov, c);
  const largest = Math.max(...values);
  const order: number[] = [];
  for (let j = c - 1; j >= 0; j--) if ((values[j] as number) > 1e-15 * largest) order.push(j);
  return {
    mean: stats.mean(),
    values: order.map((j) => values[j] as number),
    vectors: order.map((j) => {
      const v = new Float64Array(c);
      for (let i = 0; i < c; i++) v[i] = vectors[i * c + j] as number;
      return v;
    }),
  };
}

/** RX scores Σ_j ((x - μ)·v_j)² / λ_j of a batch, in float64. */
function rxScores(batch: Float32Array | Float64Array, pairs: Eigenpairs): Float64Array {
  const c = pairs.mean.length;
  const n = batch.length / c;
  const scores = new Float64Array(n);
  const centred = new Float64Array(c);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < c; i++) centred[i] = (batch[p * c + i] as number) - (pairs.mean[i] as number);
    let sum = 0;
    pairs.vectors.forEach((v, j) => {
      let dot = 0;
      for (let i = 0; i < c; i++) dot += (centred[i] as number) * (v[i] as number);
      sum += (dot * dot) / (pairs.values[j] as number);
    });
    scores[p] = sum;
  }
  return scores;
}

/**
 * Contamination-robust, truncated whitening (the statistical init of the default Deep SVDD):
 *
 * 1. pass 1: μ, Σ of every pixel (float64, Chan merge), RX score of every pixel;
 * 2. pass 2: μ, Σ again over the pixels whose score is below the (1 - ν)-quantile of pass 1
 *    (anomalies, which the scene-fitting protocol trains on, no longer inflate Σ);
 * 3. M = the k leading eigenvectors of (Σ + 1e-6·I), each divided by sqrt(λ).
 *
 * `batches` is called once per pass (three times: fit, score, refit) and may stream from disk.
 *
 * @throws {@link ModelParamsError} for k < 1 or ν outside [0, 1); {@link StatisticsError} with fewer than 2 pixels
 * @example
 * ```ts
 * declare const pixels: Float32Array; // training pixels, [n, 205] pixel-major
 * const w = fitRobustWhitening(() => [pixels], 205, { components: 30, trim: 0.02 });
 * w.matrix; // Float32Array(30 * 205)
 * ```
 */
export function fitRobustWhitening(
  batches: () => Iterable<Float32Array>,
  channels: number,
  options: RobustWhiteningOptions = {},
): RobustWhitening {
  const components = options.components ?? DEFAULT_WHITEN_COMPONENTS;
  const trim = options.trim ?? DEFAULT_WHITEN_TRIM;
  const regularization = options.regularization ?? RX_REGULARIZATION;
  if (!Number.isSafeInteger(components) || components < 1)
    throw new ModelParamsError('whiten.components', `${components} must be a positive integer`);
  if (!(trim >= 0 && trim < 1)) throw new ModelParamsError('whiten.trim', `${trim} must be in [0, 1)`);

  const first = new RxStats(channels);
  for (const batch of batches()) first.add(batch);
  let pairs = eigenpairs(first, regularization);
  let kept = first.count;
  let threshold = Number.POSITIVE_INFINITY;
  if (trim > 0) {
    const scores: Float64Array[] = [];
    for (const batch of batches()) scores.push(rxScores(batch, pairs));
    const all = new Float64Array(first.count);
    let offset = 0;
    for (const s of scores) {
      all.set(s, offset);
      offset += s.length;
    }
    threshold = quantileInPlace(all, 1 - trim);
    const second = new RxStats(channels);
    let b = 0;
    for (const batch of batches()) {
      const s = scores[b++];
      if (s === undefined) throw new StatisticsError('fitRobustWhitening: batches() changed between passes');
      const inliers = new Float32Array(batch.length);
      let n = 0;
      for (let p = 0; p < s.length; p++) {
        if ((s[p] as number) >= threshold) continue;
        inliers.set(batch.subarray(p * channels, (p + 1) * channels), n * channels);
        n++;
      }
      if (n > 0) second.add(inliers.subarray(0, n * channels));
    }
    pairs = eigenpairs(second, regularization);
    kept = second.count;
  }
  const k = Math.min(components, pairs.values.length);
  const matrix = new Float32Array(k * channels);
  for (let j = 0; j < k; j++) {
    const v = pairs.vectors[j] as Float64Array;
    const scale = 1 / Math.sqrt(pairs.values[j] as number);
    for (let i = 0; i < channels; i++) matrix[j * channels + i] = (v[i] as number) * scale;
  }
  return {
    mean: Float32Array.from(pairs.mean),
    matrix,
    components: k,
    pixels: first.count,
    kept,
    threshold,
  };
}

/**
 * The same whitening expressed on z-scored inputs: a whitening fitted on x, applied after the
 * z-score x' = (x - m) / s, needs μ' = (μ - m) / s and M' = M·diag(s) (exact, in float64).
 *
 * @example
 * ```ts
 * declare const pixels: Float32Array; // training pixels, [n, C] pixel-major, before the z-score
 * const onZscored = whiteningAfterZscore(fitRobustWhitening(() => [pixels], params.zscore.mean.length), params.zscore);
 * ```
 */
export function whiteningAfterZscore(whitening: WhiteningParams, zscore: ZscoreStats): WhiteningParams {
  const c = zscore.mean.length;
  if (whitening.mean.length !== c)
    throw new ModelParamsError('whiten.mean', `has ${whitening.mean.length} values, the z-score ${c}`);
  const mean = new Float32Array(c);
  for (let i = 0; i < c; i++)
    mean[i] = ((whitening.mean[i] as number) - (zscore.mean[i] as number)) / (zscore.std[i] as number);
  const matrix = new Float32Array(whitening.matrix.length);
  for (let j = 0; j < whitening.components; j++)
    for (let i = 0; i < c; i++)
      matrix[j * c + i] = (whitening.matrix[j * c + i] as number) * (zscore.std[i] as number);
  return { mean, matrix, components: whitening.components };
}
