/**
 * The settings of the capture sink (`sinks.capture` of a run configuration) with their defaults:
 * the one home of those defaults. docs/capture.md describes the folder the sink writes and the
 * retraining loop it feeds.
 */
import { z } from 'zod';
import { PositiveInt } from '../sink-options.js';

/** How a capture's spectra are stored: `auto` is uint16 when that is lossless, else float32. */
export const CAPTURE_DATA_TYPES = ['auto', 'uint16', 'float32'] as const;

/** One of {@link CAPTURE_DATA_TYPES}. */
export type CaptureDataType = (typeof CAPTURE_DATA_TYPES)[number];

/**
 * `sinks.capture`: decided blocks saved as ENVI cubes with their score map, predicted mask and
 * decision, under a disk budget (docs/capture.md).
 *
 * @example
 * ```ts
 * const settings = CaptureSettingsSchema.parse({ dir: 'captures', normalSample: 0.01 });
 * settings.maxBytes; // 2 GiB
 * ```
 */
export const CaptureSettingsSchema = z.strictObject({
  /** Root folder: `normal/<camera>/<capture>/` (training data) and `review/<camera>/<capture>/` (to review). */
  dir: z.string().min(1),
  /** Save every anomalous block (to `review/`). Default true. */
  anomalous: z.boolean().default(true),
  /**
   * Share of normal blocks saved (to `normal/`), drawn at random per block with a seeded
   * generator: 0 none, 1 every one. Default 0.01.
   */
  normalSample: z.number().min(0).max(1).default(0.01),
  /** Seed of the normal sample's generator (the same seed picks the same blocks of the same stream). Default 0. */
  seed: z.number().int().nonnegative().default(0),
  /**
   * Blocks copied and waiting to be written (memory: this many blocks' spectra); a block that
   * finds the queue full is dropped and counted (`queue_full`), never waited for. Default 4.
   */
  queueSize: PositiveInt.max(1024).default(4),
  /** Most bytes of captures on disk; the oldest are deleted first to stay under it. Default 2 GiB. */
  maxBytes: PositiveInt.default(2 * 1024 ** 3),
  /** Captures older than this (hours since written) are deleted. Default 168 (a week). */
  maxAgeHours: z.number().positive().default(168),
  /** `auto` (default): uint16 when every value is a whole number in 0..65535 (camera counts), else float32. */
  dataType: z.enum(CAPTURE_DATA_TYPES).default('auto'),
});

/** The `sinks.capture` settings, defaults filled in. */
export type CaptureSettings = z.output<typeof CaptureSettingsSchema>;

/** The `sinks.capture` settings as written (before defaults). */
export type CaptureSettingsInput = z.input<typeof CaptureSettingsSchema>;
