/**
 * A per-camera contrast stretch that does not flicker: each rendered block's per-channel
 * percentiles are blended into running bounds, so the waterfall keeps one look block to block.
 */

import { OptionError } from '../../core/options.js';
import { sortedPercentile } from '../../core/quantile.js';

/** Lower and upper value mapped to 0 and 255, per channel R, G, B. */
export type StretchBounds = readonly [
  readonly [number, number],
  readonly [number, number],
  readonly [number, number],
];

/** Options of {@link StableStretch}. */
export interface StableStretchOptions {
  /** Percentiles (0-100) mapped to black and white (default [2, 98]). */
  percentiles?: readonly [number, number];
  /** Weight of a new block's percentiles in the running bounds, in (0, 1] (default 0.1; 1 = no memory). */
  smoothing?: number;
  /** At most this many pixels are sampled per block for the percentiles (default 4096). */
  maxSamples?: number;
}

/**
 * Running per-channel stretch bounds for one camera.
 *
 * @example
 * ```ts
 * const stretch = new StableStretch({ smoothing: 0.1 });
 * const bounds = stretch.update(frame.data, frame.height * frame.width, frame.bands, [40, 25, 10]);
 * // bounds[0] = [lo, hi] of the red channel, blended with earlier blocks
 * ```
 */
export class StableStretch {
  private readonly percentiles: readonly [number, number];
  private readonly smoothing: number;
  private readonly maxSamples: number;
  private bounds: [[number, number], [number, number], [number, number]] | undefined;
  private bandsKey = '';

  /** @throws {@link OptionError} for percentiles or smoothing out of range */
  constructor(options: StableStretchOptions = {}) {
    const [lo, hi] = options.percentiles ?? [2, 98];
    if (!(lo >= 0 && lo < hi && hi <= 100))
      throw new OptionError('viewer', 'percentiles', `[${lo}, ${hi}]`, 'must satisfy 0 <= lo < hi <= 100');
    const smoothing = options.smoothing ?? 0.1;
    if (!(smoothing > 0 && smoothing <= 1))
      throw new OptionError('viewer', 'smoothing', smoothing, 'must be in (0, 1]');
    const maxSamples = options.maxSamples ?? 4096;
    if (!Number.isSafeInteger(maxSamples) || maxSamples < 1)
      throw new OptionError('viewer', 'maxSamples', maxSamples, 'must be a positive integer');
    this.percentiles = [lo, hi];
    this.smoothing = smoothing;
    this.maxSamples = maxSamples;
  }

  /** The current bounds, or undefined before the first block. */
  current(): StretchBounds | undefined {
    return this.bounds === undefined ? undefined : this.copy();
  }

  /**
   * Blends this block's percentiles of the three `rgbBands` (BIP `data`, `pixels x bands`) into
   * the running bounds and returns them. Pixels flagged in `exclude` (the anomaly mask) are left
   * out, so foreign bodies do not change the belt's look, unless every pixel is flagged. A change
   * of `rgbBands` restarts the bounds.
   */
  update(
    data: Float32Array,
    pixels: number,
    bands: number,
    rgbBands: readonly [number, number, number],
    exclude?: Uint8Array,
  ): StretchBounds {
    const key = rgbBands.join(',');
    if (key !== this.bandsKey) {
      this.bounds = undefined;
      this.bandsKey = key;
    }
    const step = Math.max(1, Math.ceil(pixels / this.maxSamples));
    const sample = new Float32Array(Math.ceil(pixels / step));
    let skip = exclude;
    if (skip !== undefined) {
      let kept = 0;
      for (let p = 0; p < pixels && kept === 0; p += step) if (skip[p] === 0) kept++;
      if (kept === 0) skip = undefined;
    }
    const next = rgbBands.map((band): [number, number] => {
      let n = 0;
      for (let p = 0; p < pixels; p += step) {
        if (skip !== undefined && skip[p] !== 0) continue;
        const v = data[p * bands + band] as number;
        if (Number.isFinite(v)) sample[n++] = v;
      }
      const sorted = sample.subarray(0, n).sort();
      return [sortedPercentile(sorted, this.percentiles[0]), sortedPercentile(sorted, this.percentiles[1])];
    }) as [[number, number], [number, number], [number, number]];
    const previous = this.bounds;
    if (previous === undefined) {
      this.bounds = next;
    } else {
      const a = this.smoothing;
      for (let c = 0; c < 3; c++) {
        const was = previous[c] as [number, number];
        const now = next[c] as [number, number];
        was[0] += a * (now[0] - was[0]);
        was[1] += a * (now[1] - was[1]);
      }
    }
    return this.copy();
  }

  private copy(): StretchBounds {
    const b = this.bounds as StretchBounds;
    return [
      [b[0][0], b[0][1]],
      [b[1][0], b[1][1]],
      [b[2][0], b[2][1]],
    ];
  }
}
