import { StatisticsError } from './model-errors.js';

/** Added to the standard deviation so that a constant channel never divides by zero (docs/maths.md §3.3). */
export const STD_EPSILON = 1e-8;

/** Per-channel z-score parameters, float32 as the tensors use them. */
export interface ZscoreStats {
  readonly mean: Float32Array;
  readonly std: Float32Array;
}

/**
 * Per-channel mean and variance over any number of pixels, accumulated in float64: each batch
 * is reduced exactly (two passes over the batch: mean, then squared deviations, which is at
 * least as accurate as Welford's update), and batches are combined with Chan et al.'s parallel
 * merge, so the result does not depend on how the pixels were cut into frames.
 *
 * @example
 * ```ts
 * const stats = new RunningStats();
 * for (const frame of trainingFrames) stats.add(frame.data, frame.bands);
 * const { mean, std } = stats.toZscore(); // σ = sqrt(unbiased variance) + 1e-8
 * ```
 */
export class RunningStats {
  #channels: number;
  #count = 0;
  #mean: Float64Array;
  #m2: Float64Array;

  /** @param channels - channels per pixel; 0 (default) takes it from the first {@link add}. */
  constructor(channels = 0) {
    if (!Number.isSafeInteger(channels) || channels < 0) {
      throw new StatisticsError(`RunningStats: channels = ${channels} must be a non-negative integer`);
    }
    this.#channels = channels;
    this.#mean = new Float64Array(channels);
    this.#m2 = new Float64Array(channels);
  }

  /** Channels per pixel (0 until known). */
  get channels(): number {
    return this.#channels;
  }

  /** Pixels accumulated so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Per-channel mean (a copy).
   *
   * @throws {@link StatisticsError} when nothing was added
   */
  get mean(): Float64Array {
    if (this.#count === 0) throw new StatisticsError('RunningStats: mean of zero pixels');
    return Float64Array.from(this.#mean);
  }

  /**
   * Adds a batch of pixels, pixel-major (`[pixels, channels]`).
   *
   * @throws {@link StatisticsError} when `channels` differs from earlier batches or does not divide the data
   */
  add(data: Float32Array | Float64Array, channels: number = this.#channels): this {
    this.#adopt(channels);
    if (data.length % channels !== 0) {
      throw new StatisticsError(
        `RunningStats.add: ${data.length} values is not a whole number of ${channels}-channel pixels`,
      );
    }
    const n = data.length / channels;
    if (n === 0) return this;
    const mean = new Float64Array(channels);
    for (let p = 0; p < n; p++) {
      const base = p * channels;
      for (let c = 0; c < channels; c++) mean[c]! += data[base + c]!;
    }
    for (let c = 0; c < channels; c++) mean[c]! /= n;
    const m2 = new Float64Array(channels);
    for (let p = 0; p < n; p++) {
      const base = p * channels;
      for (let c = 0; c < channels; c++) {
        const d = data[base + c]! - mean[c]!;
        m2[c]! += d * d;
      }
    }
    this.#combine(n, mean, m2);
    return this;
  }

  /**
   * Merges another accumulator into this one (Chan et al.); `other` is unchanged.
   *
   * @throws {@link StatisticsError} when the channel counts differ
   */
  merge(other: RunningStats): this {
    if (other.#count === 0) return this;
    this.#adopt(other.#channels);
    this.#combine(other.#count, other.#mean, other.#m2);
    return this;
  }

  /**
   * Per-channel variance: unbiased (divides by n - 1, the default) or population (by n).
   *
   * @throws {@link StatisticsError} with fewer than 2 pixels (unbiased) or none (population)
   */
  variance(unbiased = true): Float64Array {
    const divisor = unbiased ? this.#count - 1 : this.#count;
    if (divisor <= 0) {
      throw new StatisticsError(
        `RunningStats: ${unbiased ? 'unbiased ' : ''}variance needs ${unbiased ? 2 : 1} pixels or more, got ${this.#count}`,
      );
    }
    return this.#m2.map((m) => m / divisor);
  }

  /** σ = sqrt(unbiased variance) + 1e-8 per channel (docs/maths.md §3.3). */
  std(): Float64Array {
    return this.variance(true).map((v) => Math.sqrt(v) + STD_EPSILON);
  }

  /** Mean and {@link std} rounded to float32, ready for `zscoreNormalize`. */
  toZscore(): ZscoreStats {
    return { mean: Float32Array.from(this.mean), std: Float32Array.from(this.std()) };
  }

  #adopt(channels: number): void {
    if (!Number.isSafeInteger(channels) || channels <= 0) {
      throw new StatisticsError(`RunningStats: channels = ${channels} must be a positive integer`);
    }
    if (this.#channels === 0) {
      this.#channels = channels;
      this.#mean = new Float64Array(channels);
      this.#m2 = new Float64Array(channels);
    } else if (channels !== this.#channels) {
      throw new StatisticsError(
        `RunningStats: got ${channels} channels, earlier batches had ${this.#channels}`,
      );
    }
  }

  #combine(nB: number, meanB: Float64Array, m2B: Float64Array): void {
    const nA = this.#count;
    const n = nA + nB;
    for (let c = 0; c < this.#channels; c++) {
      const delta = meanB[c]! - this.#mean[c]!;
      this.#mean[c]! += (delta * nB) / n;
      this.#m2[c]! += m2B[c]! + ((delta * delta * nA) / n) * nB;
    }
    this.#count = n;
  }
}
