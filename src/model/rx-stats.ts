import { ModelParamsError, StatisticsError } from './model-errors.js';
import { type PinvOptions, pinvSymmetric } from './pinv.js';

/** Ridge added to the covariance diagonal before inverting it (docs/maths.md §3.10). */
export const RX_REGULARIZATION = 1e-6;

/** A fitted RX detector: background mean and the pseudo-inverse of its covariance. */
export interface RxModel {
  /** Channels (bands) the model was fitted on. */
  readonly bands: number;
  /** Background mean μ (length `bands`). */
  readonly mean: Float64Array;
  /** (Σ + 1e-6·I)⁺, `bands x bands` row-major. */
  readonly covInverse: Float64Array;
}

/** Options of {@link fitRx}. */
export interface FitRxOptions extends PinvOptions {
  /** Added to Σ's diagonal before the pseudo-inverse (default 1e-6). */
  regularization?: number;
}

/**
 * Mean vector and covariance over any number of pixels, accumulated in float64. Each batch's
 * co-moment matrix Σ (x - x̄)(x - x̄)ᵀ is computed around the batch mean, and batches are
 * combined with Chan et al.'s merge (M = M_a + M_b + δδᵀ·n_a·n_b/n), so the result does not
 * depend on how pixels were cut into frames. O(pixels · C²/2) per batch.
 *
 * @example
 * ```ts
 * const stats = new RxStats(61);
 * for (const frame of trainingFrames) stats.add(frame.data);
 * const rx = fitRx(stats); // { bands: 61, mean, covInverse }
 * ```
 */
export class RxStats {
  /** Channels per pixel. */
  readonly channels: number;
  #count = 0;
  readonly #mean: Float64Array;
  /** Upper triangle (i <= j) of the co-moment matrix, stored full size. */
  readonly #comoment: Float64Array;

  constructor(channels: number) {
    if (!Number.isSafeInteger(channels) || channels <= 0) {
      throw new StatisticsError(`RxStats: channels = ${channels} must be a positive integer`);
    }
    this.channels = channels;
    this.#mean = new Float64Array(channels);
    this.#comoment = new Float64Array(channels * channels);
  }

  /** Pixels accumulated so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds a batch of pixels, pixel-major (`[pixels, channels]`).
   *
   * @throws {@link StatisticsError} when the data is not a whole number of pixels
   */
  add(data: Float32Array | Float64Array): this {
    const c = this.channels;
    if (data.length % c !== 0) {
      throw new StatisticsError(
        `RxStats.add: ${data.length} values is not a whole number of ${c}-channel pixels`,
      );
    }
    const n = data.length / c;
    if (n === 0) return this;
    const mean = new Float64Array(c);
    for (let p = 0; p < n; p++) for (let i = 0; i < c; i++) mean[i]! += data[p * c + i]!;
    for (let i = 0; i < c; i++) mean[i]! /= n;
    const m = new Float64Array(c * c);
    const d = new Float64Array(c);
    for (let p = 0; p < n; p++) {
      const base = p * c;
      for (let i = 0; i < c; i++) d[i] = data[base + i]! - mean[i]!;
      for (let i = 0; i < c; i++) {
        const di = d[i]!;
        const row = i * c;
        for (let j = i; j < c; j++) m[row + j]! += di * d[j]!;
      }
    }
    this.#combine(n, mean, m);
    return this;
  }

  /**
   * Merges another accumulator into this one; `other` is unchanged.
   *
   * @throws {@link StatisticsError} when the channel counts differ
   */
  merge(other: RxStats): this {
    if (other.channels !== this.channels) {
      throw new StatisticsError(`RxStats.merge: ${other.channels} channels into ${this.channels}`);
    }
    if (other.#count > 0) this.#combine(other.#count, other.#mean, other.#comoment);
    return this;
  }

  /**
   * Mean vector (a copy).
   *
   * @throws {@link StatisticsError} when nothing was added
   */
  mean(): Float64Array {
    if (this.#count === 0) throw new StatisticsError('RxStats: mean of zero pixels');
    return Float64Array.from(this.#mean);
  }

  /**
   * Covariance matrix, `channels x channels` row-major: unbiased (divides by n - 1, the
   * default) or population (by n).
   *
   * @throws {@link StatisticsError} with fewer than 2 pixels (unbiased) or none
   */
  covariance(unbiased = true): Float64Array {
    const divisor = unbiased ? this.#count - 1 : this.#count;
    if (divisor <= 0) {
      throw new StatisticsError(
        `RxStats: covariance needs ${unbiased ? 2 : 1} pixels or more, got ${this.#count}`,
      );
    }
    const c = this.channels;
    const cov = new Float64Array(c * c);
    for (let i = 0; i < c; i++) {
      for (let j = i; j < c; j++) {
        const value = this.#comoment[i * c + j]! / divisor;
        cov[i * c + j] = value;
        cov[j * c + i] = value;
      }
    }
    return cov;
  }

  #combine(nB: number, meanB: Float64Array, mB: Float64Array): void {
    const c = this.channels;
    const nA = this.#count;
    const n = nA + nB;
    const delta = new Float64Array(c);
    for (let i = 0; i < c; i++) delta[i] = meanB[i]! - this.#mean[i]!;
    const weight = (nA / n) * nB;
    for (let i = 0; i < c; i++) {
      const row = i * c;
      const di = delta[i]! * weight;
      for (let j = i; j < c; j++) this.#comoment[row + j]! += mB[row + j]! + di * delta[j]!;
    }
    for (let i = 0; i < c; i++) this.#mean[i]! += (delta[i]! * nB) / n;
    this.#count = n;
  }
}

/**
 * Fits the RX detector (docs/maths.md §3.10): μ and unbiased Σ from `stats`, then (Σ + 1e-6·I)⁺ with
 * numpy.linalg.pinv's default cutoff.
 *
 * @throws {@link StatisticsError} with fewer than 2 pixels
 * @example
 * ```ts
 * import { rxScore, toTensorFrame } from 'cubestream/operators';
 * const stats = new RxStats(61);
 * for (const f of trainingFrames) stats.add(f.data);
 * frames$.pipe(toTensorFrame(), rxScore(fitRx(stats)))
 * ```
 */
export function fitRx(stats: RxStats, options: FitRxOptions = {}): RxModel {
  const regularization = options.regularization ?? RX_REGULARIZATION;
  const c = stats.channels;
  const cov = stats.covariance(true);
  for (let i = 0; i < c; i++) cov[i * c + i]! += regularization;
  const { inverse } = pinvSymmetric(cov, c, options);
  return { bands: c, mean: stats.mean(), covInverse: inverse };
}

/**
 * Checks an RX model's shapes and values (what `rxScore` and `fusedRxScore` check at build time).
 *
 * @throws {@link ModelParamsError} naming `rx.bands`, `rx.mean` or `rx.covInverse`
 */
export function validateRxModel(model: RxModel): RxModel {
  const { bands } = model;
  if (!Number.isSafeInteger(bands) || bands <= 0)
    throw new ModelParamsError('rx.bands', `${bands} must be a positive integer`);
  if (model.mean.length !== bands)
    throw new ModelParamsError('rx.mean', `has ${model.mean.length} values, expected ${bands}`);
  if (model.covInverse.length !== bands * bands) {
    throw new ModelParamsError(
      'rx.covInverse',
      `has ${model.covInverse.length} values, expected ${bands}x${bands}`,
    );
  }
  for (const [name, values] of [
    ['rx.mean', model.mean],
    ['rx.covInverse', model.covInverse],
  ] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ModelParamsError(`${name}[${bad}]`, `${values[bad]} is not finite`);
  }
  return model;
}
