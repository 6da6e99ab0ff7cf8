import { nearestRank } from '../core/quantile.js';

/**
 * The last `capacity` latencies in a ring, for a p99 cheap enough to read on every status line
 * (sorts a copy of at most `capacity` values). Used by the service's totals and the viewer.
 *
 * @example
 * ```ts
 * const window = new LatencyWindow(512);
 * window.add(41); window.add(38);
 * window.p99(); // 41
 * ```
 */
export class LatencyWindow {
  readonly #values: Float64Array;
  #count = 0;

  /** @param capacity - latencies kept (the oldest is overwritten first); a positive integer */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`LatencyWindow capacity ${capacity} must be a positive integer`);
    }
    this.#values = new Float64Array(capacity);
  }

  /** Latencies kept at most. */
  get capacity(): number {
    return this.#values.length;
  }

  /** Latencies in the window now (at most {@link LatencyWindow.capacity}). */
  get size(): number {
    return Math.min(this.#count, this.#values.length);
  }

  /** Adds a latency, overwriting the oldest once the window is full. */
  add(latency: number): void {
    this.#values[this.#count % this.#values.length] = latency;
    this.#count += 1;
  }

  /** The p99 of the window (nearest rank: one of the latencies), undefined while it is empty. */
  p99(): number | undefined {
    const n = this.size;
    if (n === 0) return undefined;
    const sorted = this.#values.slice(0, n).sort();
    return sorted[nearestRank(n, 0.99)];
  }
}
