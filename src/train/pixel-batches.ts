import { OptionError } from '../core/options.js';
import { seededRandom } from '../model/seeded-random.js';

/** The part of a frame that {@link PixelBatches} reads (a `CubeFrame` fits). */
export interface PixelFrame {
  /** `[pixels, bands]` float32, pixel-major. */
  readonly data: Float32Array;
  /** Channels per pixel. */
  readonly bands: number;
  /** Optional class id per pixel. */
  readonly labels?: Uint8Array;
}

/** Options of {@link PixelBatches}. */
export interface PixelBatchOptions {
  /** Pixels per batch (the last batch of an epoch may be smaller unless `dropLast`). */
  batchSize: number;
  /** Seed of every random choice (default 0): the same seed gives the same batches. */
  seed?: number;
  /**
   * Class ids of normal pixels: when given, frames with labels contribute only pixels whose
   * label is listed; frames without labels contribute every pixel.
   */
  normalClassIds?: readonly number[];
  /** Keep at most this many pixels, drawn uniformly by reservoir sampling (default: all). */
  maxPixels?: number;
  /** Skip the last, smaller batch of an epoch (default false). */
  dropLast?: boolean;
}

function positiveInt(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new OptionError('training', option, value, 'must be a positive integer');
  return value;
}

/** A seed for epoch `epoch` derived from the base seed (distinct streams per epoch). */
function epochSeed(seed: number, epoch: number): number {
  return (Math.trunc(seed) ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0;
}

/**
 * Seeded mini-batches of pixels drawn across many frames. The eligible (frame, pixel) pairs
 * are listed once (filtered by `normalClassIds` where labels exist, optionally reservoir-sampled
 * down to `maxPixels`), then shuffled afresh for every epoch with a seed derived from
 * (seed, epoch): the same seed and epoch always give the same batches, in the same order.
 * Frames are referenced, not copied; each batch is a new pixel-major Float32Array.
 *
 * @example
 * ```ts
 * import { trainStep } from './train-step.js';
 * const batches = new PixelBatches(trainingFrames, { batchSize: 8192, seed: 1, normalClassIds: [0, 1] });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const batch of batches.epoch(epoch)) trainStep(model, optimizer, batch); // [n * bands]
 * }
 * ```
 */
export class PixelBatches {
  /** Channels per pixel (the same in every frame). */
  readonly bands: number;
  /** Pixels per full batch. */
  readonly batchSize: number;
  private readonly frames: readonly PixelFrame[];
  private readonly frameOf: Uint32Array;
  private readonly pixelOf: Uint32Array;
  private readonly seed: number;
  private readonly dropLast: boolean;

  /**
   * @throws {@link OptionError} when there are no frames, frames differ in bands, a frame's
   *   data or labels do not fit its pixel count, an option is out of range, or no pixel is eligible
   */
  constructor(frames: readonly PixelFrame[], options: PixelBatchOptions) {
    this.batchSize = positiveInt('batchSize', options.batchSize);
    const maxPixels =
      options.maxPixels === undefined ? undefined : positiveInt('maxPixels', options.maxPixels);
    this.seed = options.seed ?? 0;
    if (!Number.isFinite(this.seed))
      throw new OptionError('training', 'seed', this.seed, 'must be a finite number');
    this.dropLast = options.dropLast ?? false;
    const first = frames[0];
    if (first === undefined)
      throw new OptionError('training', 'frames', '[]', 'no frames to draw pixels from');
    this.bands = positiveInt('frames[0].bands', first.bands);
    const normal = options.normalClassIds === undefined ? undefined : new Set(options.normalClassIds);
    let eligible = 0;
    frames.forEach((frame, f) => {
      if (frame.bands !== this.bands) {
        throw new OptionError(
          'training',
          `frames[${f}].bands`,
          frame.bands,
          `differs from frames[0].bands = ${this.bands}`,
        );
      }
      if (frame.data.length % this.bands !== 0) {
        throw new OptionError(
          'training',
          `frames[${f}].data`,
          `Float32Array(${frame.data.length})`,
          `is not whole ${this.bands}-band pixels`,
        );
      }
      const pixels = frame.data.length / this.bands;
      if (frame.labels !== undefined && frame.labels.length !== pixels) {
        throw new OptionError(
          'training',
          `frames[${f}].labels`,
          `Uint8Array(${frame.labels.length})`,
          `expected ${pixels} labels`,
        );
      }
      eligible += countEligible(frame, pixels, normal);
    });
    if (eligible === 0) {
      throw new OptionError(
        'training',
        'normalClassIds',
        `[${options.normalClassIds ?? []}]`,
        'no pixel of the frames is eligible',
      );
    }
    const kept = Math.min(eligible, maxPixels ?? eligible);
    this.frames = frames;
    this.frameOf = new Uint32Array(kept);
    this.pixelOf = new Uint32Array(kept);
    const random = seededRandom(this.seed);
    let seen = 0;
    frames.forEach((frame, f) => {
      const pixels = frame.data.length / this.bands;
      const labels = normal === undefined ? undefined : frame.labels;
      for (let p = 0; p < pixels; p++) {
        if (labels !== undefined && !normal?.has(labels[p] as number)) continue;
        // Reservoir sampling (Algorithm R): every eligible pixel is kept with probability kept/eligible.
        const slot = seen < kept ? seen : Math.floor(random() * (seen + 1));
        seen++;
        if (slot < kept) {
          this.frameOf[slot] = f;
          this.pixelOf[slot] = p;
        }
      }
    });
  }

  /** Pixels drawn from in every epoch. */
  get pixelCount(): number {
    return this.frameOf.length;
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast
      ? Math.floor(this.pixelCount / this.batchSize)
      : Math.ceil(this.pixelCount / this.batchSize);
  }

  /** The order in which epoch `epoch` visits the kept pixels (a seeded Fisher-Yates permutation). */
  order(epoch: number): Uint32Array {
    if (!Number.isSafeInteger(epoch) || epoch < 0)
      throw new OptionError('training', 'epoch', epoch, 'must be an integer >= 0');
    const n = this.pixelCount;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const random = seededRandom(epochSeed(this.seed, epoch));
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    return order;
  }

  /** The (frame index, pixel index) of kept pixel `i`. */
  source(i: number): { frame: number; pixel: number } {
    return { frame: this.frameOf[i] ?? -1, pixel: this.pixelOf[i] ?? -1 };
  }

  /** The batches of epoch `epoch`, each `[n * bands]` pixel-major (n = batchSize except maybe the last). */
  *epoch(epoch: number): Generator<Float32Array, void, undefined> {
    const order = this.order(epoch);
    const bands = this.bands;
    for (let start = 0; start < order.length; start += this.batchSize) {
      const n = Math.min(this.batchSize, order.length - start);
      if (n < this.batchSize && this.dropLast) return;
      const batch = new Float32Array(n * bands);
      for (let i = 0; i < n; i++) {
        const k = order[start + i] as number;
        const frame = this.frames[this.frameOf[k] as number] as PixelFrame;
        const offset = (this.pixelOf[k] as number) * bands;
        batch.set(frame.data.subarray(offset, offset + bands), i * bands);
      }
      yield batch;
    }
  }
}

function countEligible(frame: PixelFrame, pixels: number, normal: ReadonlySet<number> | undefined): number {
  if (normal === undefined || frame.labels === undefined) return pixels;
  let count = 0;
  for (let p = 0; p < pixels; p++) if (normal.has(frame.labels[p] as number)) count++;
  return count;
}
