/**
 * The settings of the simulated line-scan camera (`simulatedLineScan`) a configuration holds,
 * with their defaults: the one home of those defaults (the simulator's `resolveSimOptions` falls
 * back on {@link SIMULATED_SOURCE_DEFAULTS}; the run configuration's `source` section of kind
 * `simulated` is this schema). The simulator's physics options (noise, lentil size, drift) are
 * code-only and keep their defaults in `resolveSimOptions`.
 */
import { z } from 'zod';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../src/core/camera-id.js';
import { DEFAULT_CAMERA_ID } from '../../src/core/frame.js';
import { SIM_PRESETS, type SimPreset } from './simulator/wavelengths.js';

const PositiveInt = z.number().int().positive();

/** Settings of the simulated line-scan camera. */
export const SimulatedSourceSettingsSchema = z.strictObject({
  /** Camera id of the frames. */
  cameraId: z.string().regex(CAMERA_ID_PATTERN, CAMERA_ID_RULE).default(DEFAULT_CAMERA_ID),
  /** Pixels per line (across the belt). */
  width: PositiveInt.default(256),
  /** Band layout: `default` 61 bands 430-910 nm, `fx10` 224 bands 400-1000, `fx17` 224 bands 900-1700. */
  preset: z.enum(SIM_PRESETS as readonly [SimPreset, ...SimPreset[]]).default('default'),
  /** Band count, spread evenly over the preset's range (default: the preset's own count). */
  bands: PositiveInt.optional(),
  /** Lines per emitted block. */
  blockRows: PositiveInt.default(64),
  /** Lines per frame id (default `blockRows`). */
  totalRows: PositiveInt.optional(),
  /** Pace at this line rate (real timers); absent: as fast as the pipeline takes the blocks. */
  linesPerSecond: z.number().positive().optional(),
  /** Stop after this many blocks (then the service drains, flushes and exits 0). */
  maxBlocks: PositiveInt.optional(),
  /** Stop after this many whole frames. */
  frames: PositiveInt.optional(),
  /** Seed of every random draw; the same seed gives the same data and labels. */
  seed: z.number().int().nonnegative().default(1),
  /** Fraction of objects that are foreign bodies. */
  anomalyRate: z.number().min(0).max(1).default(0.02),
  /** Fraction of the belt covered by objects. */
  coverage: z.number().min(0).max(0.95).default(0.5),
  /** `dn` (raw digital numbers) or `reflectance` (DN / the white reference taken at start). */
  output: z.enum(['dn', 'reflectance']).default('dn'),
});

/** The defaults of {@link SimulatedSourceSettingsSchema}: the schema parsed from `{}`. */
export const SIMULATED_SOURCE_DEFAULTS = SimulatedSourceSettingsSchema.parse({});
