import { OptionError } from '../core/options.js';
import { seededRandom } from '../model/seeded-random.js';

/**
 * A bounded, uniform sample of the pixels of a stream (reservoir sampling, Algorithm R, seeded):
 * after any number of pixels, each one seen is kept with the same probability
 * `capacity / seen`. The training set of the gradient phase: frames are streamed from disk once
 * and only `capacity x bands` floats stay in memory. Storage grows by doubling up to capacity.
 *
 * @example
 * ```ts
 * import { PixelBatches } from './pixel-batches.js';
 * declare const preprocessedBlocks: AsyncIterable<Float32Array>; // pixels after band-pass and unit norm, 27 bands
 * const reservoir = new PixelReservoir(27, 2_000_000, 1);
 * for await (const block of preprocessedBlocks) reservoir.add(block);
 * const batches = new PixelBatches([reservoir.toFrame()], { batchSize: 4096, seed: 2 });
 * ```
 */
export class PixelReservoir {
  /** Channels per pixel. */
  readonly bands: number;
  /** Most pixels kept. */
  readonly capacity: number;
  private buffer: Float32Array;
  private kept = 0;
  private total = 0;
  private readonly random: () => number;

  /** @throws {@link OptionError} for bands or capacity that are not positive integers */
  constructor(bands: number, capacity: number, seed = 0) {
    for (const [option, value] of [
      ['bands', bands],
      ['maxTrainPixels', capacity],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new OptionError('training', option, value, 'must be a positive integer');
    }
    this.bands = bands;
    this.capacity = capacity;
    this.buffer = new Float32Array(Math.min(capacity, 4096) * bands);
    this.random = seededRandom(seed);
  }

  /** Pixels seen so far. */
  get seen(): number {
    return this.total;
  }

  /** Pixels kept (min(seen, capacity)). */
  get count(): number {
    return this.kept;
  }

  /**
   * Offers a block of pixels (`[n, bands]` pixel-major).
   *
   * @throws {@link OptionError} when the block is not whole pixels
   */
  add(pixels: Float32Array): this {
    const { bands } = this;
    if (pixels.length % bands !== 0) {
      throw new OptionError(
        'training',
        'pixels',
        `Float32Array(${pixels.length})`,
        `is not whole ${bands}-band pixels`,
      );
    }
    const n = pixels.length / bands;
    for (let p = 0; p < n; p++) {
      let slot: number;
      if (this.total < this.capacity) {
        slot = this.total;
        this.ensure(slot + 1);
        this.kept++;
      } else {
        slot = Math.floor(this.random() * (this.total + 1));
      }
      this.total++;
      if (slot < this.capacity) this.buffer.set(pixels.subarray(p * bands, (p + 1) * bands), slot * bands);
    }
    return this;
  }

  /** The kept pixels, `[count, bands]` (a view: do not add while using it). */
  pixels(): Float32Array {
    return this.buffer.subarray(0, this.kept * this.bands);
  }

  /** The kept pixels as one label-less frame for `PixelBatches`. */
  toFrame(): { data: Float32Array; bands: number } {
    return { data: this.pixels(), bands: this.bands };
  }

  private ensure(pixels: number): void {
    if (pixels * this.bands <= this.buffer.length) return;
    const next = new Float32Array(
      Math.min(this.capacity, Math.max(pixels, 2 * (this.buffer.length / this.bands))) * this.bands,
    );
    next.set(this.buffer);
    this.buffer = next;
  }
}
