import type { Observable } from 'rxjs';
import type { CubeFrame } from '../core/frame.js';
import { OptionError } from '../core/options.js';
import { disposeTensorFrame, type TensorFrame } from '../core/tensor-frame.js';
import {
  DEFAULT_HIDDEN,
  DEFAULT_REP,
  initProjection,
  initResidualProjection,
  type ProjectionWeights,
} from '../model/deep-svdd-params.js';
import { fitRobustWhitening, type WhiteningParams, whiteningAfterZscore } from '../model/robust-whitening.js';
import { RunningStats, type ZscoreStats } from '../model/running-stats.js';
import { fitRx, type RxModel, RxStats } from '../model/rx-stats.js';
import type { ClassMap } from './class-map.js';
import { runOperator } from './operator-runner.js';
import { PixelReservoir } from './pixel-reservoir.js';
import type { PreprocessSpec, TrainingStages } from './training-stages.js';

/** Default cap on the training pixels kept for the gradient phase. */
export const DEFAULT_MAX_TRAIN_PIXELS = 2_000_000;

/** Options of {@link statisticalInit}. */
export interface StatisticalInitOptions {
  /** Band-pass and unit norm, the stages before the z-score. */
  readonly preprocess: PreprocessSpec;
  /** Hidden width (default 128). */
  readonly hidden?: number;
  /** Embedding dimension D (default 32). */
  readonly rep?: number;
  /** Seed of the initial projection weights (default 0). */
  readonly seed?: number;
  /** Which labelled pixels are trained on (default: every pixel, labels ignored). */
  readonly classes?: ClassMap;
  /** Capacity of the training-pixel reservoir (default 2,000,000). */
  readonly maxTrainPixels?: number;
  /** Seed of the reservoir sampling (default `seed + 1`). */
  readonly reservoirSeed?: number;
  /** Also fit the RX baseline on the raw training pixels (default false). */
  readonly rx?: boolean;
  /**
   * The scene default (`configs/trainrun/scene_default.yaml`): a robust truncated whitening after the z-score (fitted on the
   * reservoir: trim the top `trim` share of RX scores, refit, keep `components`), then a
   * residual projection starting at the identity and a centre fixed at 0 (the robust mean).
   * Absent: the reference stages (random projection, centre = mean embedding).
   */
  readonly whiten?: { readonly components: number; readonly trim: number };
}

/** The statistical phase's result: every parameter initialised, and the training pixels. */
export interface StatisticalInit {
  /** Per-channel μ and σ of the preprocessed training pixels (float64 accumulation). */
  readonly zscore: ZscoreStats;
  /** The whitening stage on z-scored pixels, when asked for. */
  readonly whiten?: WhiteningParams;
  /** Initial projection weights (seeded). */
  readonly project: ProjectionWeights;
  /** Centre c: the mean embedding of every training pixel under the initial network. */
  readonly center: Float32Array;
  /** RX baseline on the raw bands, when asked for. */
  readonly rx?: RxModel;
  /** A uniform sample of the preprocessed training pixels for the gradient phase. */
  readonly reservoir: PixelReservoir;
  /** Training pixels seen (before sampling). */
  readonly pixels: number;
  /** Channels after the band-pass (the z-score's width). */
  readonly channels: number;
}

/** Reads a tensor frame's pixels back and frees it. */
function download(frame: TensorFrame): Float32Array {
  try {
    return frame.pixels.dataSync() as Float32Array;
  } finally {
    disposeTensorFrame(frame);
  }
}

function only<T>(outputs: T[]): T {
  const [first] = outputs;
  if (outputs.length !== 1 || first === undefined)
    throw new OptionError(
      'training',
      'stages',
      outputs.length,
      'a stage must emit one frame per input frame',
    );
  return first;
}

/**
 * The statistical phase of training (docs/maths.md §3): streams the training frames once per stage
 * that needs statistics, in pipeline order, through the inference operators:
 *
 * 1. band-pass + unit norm -> per-channel μ, σ (float64, Chan merge) and a seeded reservoir of
 *    the preprocessed pixels for the gradient phase; the raw pixels -> RX μ, Σ when `rx` is on;
 * 2. band-pass + unit norm + z-score + the initial projection -> centre c = mean embedding (float64).
 *
 * Only pixels of normal classes are used when frames have labels (see {@link ClassMap}); the
 * dataset is never held in memory (`frames` is called once per pass and should stream from disk).
 *
 * @param frames - returns a fresh stream of the training frames on every call
 * @throws {@link OptionError} when no pixel is trainable; `StatisticsError` with fewer than 2 pixels
 * @example
 * ```ts
 * import { streamDatasetFrames } from './dataset-frames.js';
 * import { trainingStages } from './operator-stages.js';
 * const init = await statisticalInit(() => streamDatasetFrames(dataset.splits.train), trainingStages, {
 *   preprocess: { bandpass: { minNm: 700 }, unitNorm: true }, classes: dataset.classes, seed: 1, rx: true,
 * });
 * ```
 */
export async function statisticalInit(
  frames: () => AsyncIterable<CubeFrame>,
  stages: TrainingStages,
  options: StatisticalInitOptions,
): Promise<StatisticalInit> {
  const seed = options.seed ?? 0;
  const { classes } = options;
  const trainable = (data: Float32Array, bands: number, labels: Uint8Array | undefined): Float32Array =>
    classes === undefined ? data : classes.trainablePixels(data, bands, labels);

  // Pass 1: band-pass + unit norm -> z-score statistics, reservoir; raw -> RX statistics.
  const zstats = new RunningStats();
  let reservoir: PixelReservoir | undefined;
  let rxStats: RxStats | undefined;
  let channels = 0;
  const preprocess = runOperator(stages.preprocess(options.preprocess));
  try {
    for await (const frame of frames()) {
      if (options.rx === true) {
        rxStats ??= new RxStats(frame.bands);
        rxStats.add(trainable(frame.data, frame.bands, frame.labels));
      }
      const out = only(preprocess.push(frame));
      channels = out.bands;
      const pixels = trainable(download(out), channels, frame.labels);
      if (pixels.length === 0) continue;
      zstats.add(pixels, channels);
      reservoir ??= new PixelReservoir(
        channels,
        options.maxTrainPixels ?? DEFAULT_MAX_TRAIN_PIXELS,
        options.reservoirSeed ?? seed + 1,
      );
      reservoir.add(pixels);
    }
  } finally {
    preprocess.close();
  }
  if (reservoir === undefined || zstats.count === 0) {
    throw new OptionError(
      'training',
      'data.normalClassIds',
      `[${classes?.normalClassIds ?? []}]`,
      'no training pixel has a normal class id',
    );
  }
  const zscore = zstats.toZscore();
  if (options.whiten !== undefined) {
    const pool = reservoir.pixels();
    const fitted = fitRobustWhitening(() => [pool], channels, options.whiten);
    const whiten = whiteningAfterZscore(fitted, zscore);
    return {
      zscore,
      whiten,
      project: initResidualProjection(whiten.components, { hidden: options.hidden ?? DEFAULT_HIDDEN, seed }),
      center: new Float32Array(whiten.components),
      ...(rxStats === undefined ? {} : { rx: fitRx(rxStats) }),
      reservoir,
      pixels: zstats.count,
      channels,
    };
  }
  const project = initProjection(channels, {
    hidden: options.hidden ?? DEFAULT_HIDDEN,
    rep: options.rep ?? DEFAULT_REP,
    seed,
  });

  // Pass 2: ... + z-score + initial projection -> centre.
  const centerStats = new RunningStats(project.rep);
  const embed = runOperator((source: Observable<CubeFrame>) =>
    source.pipe(stages.preprocess(options.preprocess), stages.embed(zscore, project)),
  );
  try {
    for await (const frame of frames()) {
      const z = trainable(download(only(embed.push(frame))), project.rep, frame.labels);
      if (z.length > 0) centerStats.add(z, project.rep);
    }
  } finally {
    embed.close();
  }
  return {
    zscore,
    project,
    center: Float32Array.from(centerStats.mean),
    ...(rxStats === undefined ? {} : { rx: fitRx(rxStats) }),
    reservoir,
    pixels: zstats.count,
    channels,
  };
}
