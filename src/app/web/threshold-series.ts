/**
 * A bounded time series of threshold and anomaly rate, in fixed time buckets, fed by every
 * decided block (rendered or not).
 */
import type { SeriesPoint } from './viewer-messages.js';

interface MutablePoint {
  t: number;
  threshold: number;
  anomalousPixels: number;
  pixels: number;
  blocks: number;
  anomalousBlocks: number;
  maxScore: number;
}

function freeze(p: MutablePoint): SeriesPoint {
  return {
    t: p.t,
    threshold: p.threshold,
    pixelRate: p.pixels > 0 ? p.anomalousPixels / p.pixels : 0,
    blocks: p.blocks,
    anomalousBlocks: p.anomalousBlocks,
    maxScore: p.maxScore,
  };
}

/**
 * The last `length` buckets of `bucketMs` each. A block whose time falls before the newest
 * bucket (clock skew) is added to the newest bucket.
 *
 * @example
 * ```ts
 * const series = new ThresholdSeries(300, 1000); // five minutes of one-second buckets
 * series.add(Date.now(), { threshold: 0.8, anomalousPixels: 3, pixels: 2048, anomalous: false, maxScore: 0.9 });
 * series.points(); // [{ t, threshold: 0.8, pixelRate: 0.00146, blocks: 1, ... }]
 * ```
 */
export class ThresholdSeries {
  private readonly buckets: MutablePoint[] = [];

  /**
   * @param length - buckets kept (older ones are dropped)
   * @param bucketMs - bucket width in ms
   */
  constructor(
    private readonly length: number,
    private readonly bucketMs: number,
  ) {}

  /** Adds one decided block at time `at` (epoch ms); returns the bucket it went into. */
  add(
    at: number,
    block: {
      threshold: number;
      anomalousPixels: number;
      pixels: number;
      anomalous: boolean;
      maxScore: number;
    },
  ): SeriesPoint {
    const t = Math.floor(at / this.bucketMs) * this.bucketMs;
    let last = this.buckets[this.buckets.length - 1];
    if (last === undefined || t > last.t) {
      last = {
        t,
        threshold: block.threshold,
        anomalousPixels: 0,
        pixels: 0,
        blocks: 0,
        anomalousBlocks: 0,
        maxScore: block.maxScore,
      };
      this.buckets.push(last);
      if (this.buckets.length > this.length) this.buckets.shift();
    }
    last.threshold = block.threshold;
    last.anomalousPixels += block.anomalousPixels;
    last.pixels += block.pixels;
    last.blocks += 1;
    if (block.anomalous) last.anomalousBlocks += 1;
    if (block.maxScore > last.maxScore) last.maxScore = block.maxScore;
    return freeze(last);
  }

  /** The newest bucket, or null when empty. */
  latest(): SeriesPoint | null {
    const last = this.buckets[this.buckets.length - 1];
    return last === undefined ? null : freeze(last);
  }

  /** All buckets, oldest first. */
  points(): SeriesPoint[] {
    return this.buckets.map(freeze);
  }
}
