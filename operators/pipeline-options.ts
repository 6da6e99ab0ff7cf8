/**
 * The settings of `deepSvddPipeline` (docs/maths.md §3.5, §3.8, §3.9) as one zod schema: the one home
 * of their defaults. The operator parses its options through it, and the `pipeline:` section of
 * a run configuration is this schema (plus the service's `earlyRows` switch), so that
 * `deepSvddPipeline(bundle)` and a service with an empty `pipeline:` section run alike.
 */
import { z } from 'zod';
import { DEFAULT_MAX_FRAME_VALUES } from '../src/core/frame.js';
import { OptionError, valueAtPath } from '../src/core/options.js';
import { DEFAULT_CENTER_ALPHA } from '../src/scoring/center-tracker.js';
import { DEFAULT_SCORER_THREADS } from '../src/scoring/onnx/session-chunk-runner.js';
import { OPERATOR } from './internal/errors.js';

const PositiveInt = z.number().int().positive();

/** Smallest blob (pixels) that makes a frame anomalous, unless only `minPixels` is given. */
export const DEFAULT_MIN_AREA = 4;

/** `threshold`: how τ is chosen (docs/maths.md §3.8). */
export const ThresholdOptionsSchema = z.strictObject({
  /** `rolling`: q-quantile of recent frames, seeded from calibration; `per-frame`: cuvis parity. */
  mode: z.enum(['rolling', 'per-frame']).default('rolling'),
  /** Quantile level (default: the bundle's calibration quantile). */
  q: z.number().gt(0).lt(1).optional(),
  /** Frames in the rolling window. */
  windowFrames: PositiveInt.default(50),
  /** And/or seconds of the rolling window. */
  windowSeconds: z.number().positive().optional(),
  /** τ = quantile × margin (default: the bundle's calibration margin); `tail` basis only. */
  margin: z.number().positive().optional(),
  /**
   * What the rolling window tracks (docs/maths.md §3.8): `scale`: τ = τ₀ × Q(scaleQuantile) of
   * the window / the same quantile of the training scores (robust to foreign bodies, however
   * many); `tail`: τ = Q(q) of the window × margin (climbs on a dirty belt). Absent: `scale`
   * when the bundle's calibration stores `scaleQuantile` (bundles calibrated by cubestream do),
   * else `tail`.
   */
  basis: z.enum(['scale', 'tail']).optional(),
  /** The central quantile of the `scale` basis; one the bundle's calibration stores (0.5, 0.9, 0.95, ...). */
  scaleQuantile: z.number().gt(0).lt(1).default(0.5),
  /**
   * Window summary: `exact` keeps every score and selects the quantile anew for each frame, on
   * the latency path: ~19 ms per 65,536-pixel block with a 50-frame window here, against 0.4 ms
   * for one DDSketch per frame (1 % relative error, bounded memory).
   */
  sketch: z.enum(['exact', 'ddsketch']).default('ddsketch'),
  /** Scores needed before the window replaces the seed (default ⌈10/(1-q)⌉). */
  minSamples: PositiveInt.optional(),
});

/** `center`: online centre tracking (docs/maths.md §3.5). */
export const CenterOptionsSchema = z.strictObject({
  /** `frozen` (cuvis), `ema`, or `gated-ema` (pixels judged normal only). */
  mode: z.enum(['frozen', 'ema', 'gated-ema']).default('gated-ema'),
  /** EMA rate α: c <- (1-α)c + α·mean(z). */
  alpha: z.number().gt(0).lte(1).default(DEFAULT_CENTER_ALPHA),
});

/**
 * `decide`: the frame verdict and blobs (docs/maths.md §3.9). A frame is anomalous when a blob has
 * `minArea` pixels ({@link DEFAULT_MIN_AREA} unless only `minPixels` is given), else when
 * `minPixels` pixels are.
 */
export const DecideOptionsSchema = z
  .strictObject({
    /** Frame anomalous iff at least this many pixels are (used when `minArea` is absent). */
    minPixels: PositiveInt.optional(),
    /** Frame anomalous iff a blob has at least this many pixels. */
    minArea: PositiveInt.optional(),
    /** Pixel adjacency of blobs. */
    connectivity: z.union([z.literal(4), z.literal(8)]).default(8),
    /** `block`: one decision per block; `frame`: assemble a frame's blocks first. */
    assemble: z.enum(['block', 'frame']).default('block'),
  })
  .transform((decide) => ({
    ...decide,
    minArea: decide.minArea ?? (decide.minPixels === undefined ? DEFAULT_MIN_AREA : undefined),
  }));

/** `backpressure`: the queue in front of the scorer; the camera never waits. */
export const BackpressureOptionsSchema = z.strictObject({
  /** `dropOldest`, `dropNewest` (drops counted) or `block` (an error when full). */
  policy: z.enum(['dropOldest', 'dropNewest', 'block']).default('dropOldest'),
  /** Frames waiting for the scorer. */
  capacity: PositiveInt.default(4),
});

/** `defects`: defective pixel correction before scoring (docs/maths.md §5). */
export const DefectOptionsSchema = z.strictObject({
  /** `repair`: stuck sensor elements are found online and filled from their neighbours; `off`: frames pass as they are. */
  mode: z.enum(['repair', 'off']).default('repair'),
  /** Blocks in a row a defective element must look alive before it is trusted again. */
  releaseBlocks: PositiveInt.max(255).default(3),
});

/** The settings of `deepSvddPipeline`, every default filled in by parsing. */
export const PipelineSettingsSchema = z.strictObject({
  threshold: ThresholdOptionsSchema.prefault({}),
  center: CenterOptionsSchema.prefault({}),
  decide: DecideOptionsSchema.prefault({}),
  defects: DefectOptionsSchema.prefault({}),
  backpressure: BackpressureOptionsSchema.prefault({}),
  /** Largest frame accepted, in values (H × W × C). */
  maxValues: PositiveInt.default(DEFAULT_MAX_FRAME_VALUES),
  /**
   * Scoring engine: `onnx` (the fused onnxruntime graph), `tfjs` (the operator chain on the
   * tfjs backend), or `auto`: onnx when the bundle's stages fit the fused graph, unless tfjs
   * runs on native TensorFlow (a GPU host), else tfjs.
   */
  scorer: z.enum(['auto', 'onnx', 'tfjs']).default('auto'),
  /**
   * Worker threads of the `onnx` scorer (a block's chunks scored on all at once); absent: one
   * per core, at most 2; 0: score in this thread on one session with `scorerThreads`.
   */
  scorerWorkers: z.number().int().min(0).max(64).optional(),
  /** onnxruntime intra-op threads of the in-thread `onnx` scorer (`scorerWorkers: 0` only). */
  scorerThreads: PositiveInt.default(DEFAULT_SCORER_THREADS),
});

/** The settings of `deepSvddPipeline` as given: every field optional. */
export type PipelineSettings = z.input<typeof PipelineSettingsSchema>;
/** The settings of `deepSvddPipeline` with every default applied. */
export type ResolvedPipelineSettings = z.output<typeof PipelineSettingsSchema>;
/** How τ is chosen (docs/maths.md §3.8), as given. */
export type ThresholdOptions = z.input<typeof ThresholdOptionsSchema>;

/** The defaults of every pipeline setting: {@link PipelineSettingsSchema} parsed from `{}`. */
export const PIPELINE_DEFAULTS: ResolvedPipelineSettings = PipelineSettingsSchema.parse({});

/**
 * The settings with every default applied.
 *
 * @throws {@link OptionError} naming the first bad setting, e.g. `deepSvddPipeline.threshold.q`
 * @example
 * ```ts
 * resolvePipelineSettings({ threshold: { windowFrames: 20 } }).threshold.sketch; // 'ddsketch'
 * ```
 */
export function resolvePipelineSettings(settings: PipelineSettings): ResolvedPipelineSettings {
  const result = PipelineSettingsSchema.safeParse(settings);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const value = valueAtPath(settings, path);
  throw new OptionError(
    OPERATOR,
    ['deepSvddPipeline', ...path.map(String)].join('.'),
    value,
    issue?.message ?? 'invalid',
  );
}
