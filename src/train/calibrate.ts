import type { OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../core/frame.js';
import { OptionError } from '../core/options.js';
import { sortedQuantile } from '../core/quantile.js';
import type { ScoredFrame } from '../core/scored-frame.js';
import type { Calibration } from '../model/bundle.js';
import type { ClassMap } from './class-map.js';
import { runOperator } from './operator-runner.js';

/**
 * Default quantile q of the training scores that the deployed threshold is taken at. Chosen by
 * measuring false alarms on clean simulated frames (docs/evaluation.md, "Choosing q and the margin").
 */
export const DEFAULT_CALIBRATION_QUANTILE = 0.999;

/** Default margin: τ = quantile(q) x margin (see {@link DEFAULT_CALIBRATION_QUANTILE}). */
export const DEFAULT_CALIBRATION_MARGIN = 2;

/** Quantiles of the training scores recorded in `calibration.json` (1 = the maximum). */
export const REPORTED_QUANTILES: readonly number[] = [0.5, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1];

/** Options of {@link calibrateScores}. */
export interface CalibrationOptions {
  /** q in (0, 1] (default {@link DEFAULT_CALIBRATION_QUANTILE}). */
  readonly quantile?: number;
  /** Multiplier > 0 (default {@link DEFAULT_CALIBRATION_MARGIN}). */
  readonly margin?: number;
  /** Quantiles to record (default {@link REPORTED_QUANTILES}; q is always added). */
  readonly quantiles?: readonly number[];
}

/** A float32 list that grows by doubling (scores of many frames). */
export class ScoreCollector {
  private buffer = new Float32Array(65_536);
  private size = 0;

  /** Scores collected. */
  get length(): number {
    return this.size;
  }

  /** Appends scores (all of them, or those where `keep` is non-zero). */
  add(scores: ArrayLike<number>, keep?: ArrayLike<number>): this {
    for (let i = 0; i < scores.length; i++) {
      if (keep !== undefined && keep[i] === 0) continue;
      if (this.size === this.buffer.length) {
        const next = new Float32Array(this.buffer.length * 2);
        next.set(this.buffer);
        this.buffer = next;
      }
      this.buffer[this.size++] = scores[i] as number;
    }
    return this;
  }

  /** The scores, sorted ascending (a copy). */
  sorted(): Float32Array {
    return this.buffer.slice(0, this.size).sort();
  }
}

/**
 * Calibration from training scores (docs/maths.md §3.8): the recorded quantiles and the deployed
 * threshold τ = quantile(q) x margin, as `calibration.json` stores it. The quantile is
 * `sortedQuantile` of src/core/quantile.ts, the one the runtime thresholds
 * (`quantileThreshold`, `rollingQuantileThreshold`) take, so a window of the training scores
 * gives the same τ bit for bit.
 *
 * @throws {@link OptionError} for no scores, a non-finite score, q outside (0, 1] or margin <= 0
 * @example
 * ```ts
 * declare const trainingScores: Float32Array; // scores of the normal training pixels
 * const calibration = calibrateScores(trainingScores, { quantile: 0.999, margin: 1.5 });
 * calibration.threshold; // τ
 * ```
 */
export function calibrateScores(scores: Float32Array, options: CalibrationOptions = {}): Calibration {
  const quantile = options.quantile ?? DEFAULT_CALIBRATION_QUANTILE;
  const margin = options.margin ?? DEFAULT_CALIBRATION_MARGIN;
  if (!(quantile > 0 && quantile <= 1))
    throw new OptionError('training', 'calibration.quantile', quantile, 'must be in (0, 1]');
  if (!(margin > 0 && Number.isFinite(margin)))
    throw new OptionError('training', 'calibration.margin', margin, 'must be finite and > 0');
  const sorted = Float32Array.from(scores).sort();
  if (sorted.length === 0)
    throw new OptionError('training', 'scores', '[]', 'no scores to take a quantile of');
  if (!Number.isFinite(sorted[sorted.length - 1] as number)) {
    throw new OptionError('training', 'scores', sorted[sorted.length - 1], 'training scores must be finite');
  }
  const scoreQuantiles: Record<string, number> = {};
  for (const q of [...(options.quantiles ?? REPORTED_QUANTILES), quantile].sort((a, b) => a - b)) {
    if (!(q >= 0 && q <= 1)) throw new OptionError('training', 'quantile', q, 'must be within [0, 1]');
    scoreQuantiles[String(q)] = sortedQuantile(sorted, q);
  }
  return {
    threshold: Math.max(0, sortedQuantile(sorted, quantile) * margin),
    quantile,
    margin,
    scoreQuantiles,
    pixels: sorted.length,
  };
}

/**
 * Scores the training frames with the deployed scorer(s) and calibrates each on the scores of
 * the normal pixels (all pixels when `classes` is absent or a frame has no labels). The frames
 * are read once and pushed through every scorer in turn.
 *
 * @example
 * ```ts
 * import { rxFromBundle } from 'cubestream';
 * import { streamDatasetFrames } from './dataset-frames.js';
 * import { trainingStages } from './operator-stages.js';
 * const rxModel = rxFromBundle(bundle).rx;
 * const { deepSvdd, rx } = await calibrateOnFrames(
 *   streamDatasetFrames(dataset.splits.train),
 *   { deepSvdd: trainingStages.deepSvdd(params), rx: trainingStages.rx(rxModel) },
 *   { classes: dataset.classes, quantile: 0.999, margin: 1.5 },
 * );
 * ```
 */
export async function calibrateOnFrames<K extends string>(
  frames: AsyncIterable<CubeFrame>,
  scorers: Readonly<Record<K, OperatorFunction<CubeFrame, ScoredFrame>>>,
  options: CalibrationOptions & { readonly classes?: ClassMap } = {},
): Promise<Record<K, Calibration>> {
  const names = Object.keys(scorers) as K[];
  const collectors = names.map(() => new ScoreCollector());
  const runs = names.map((name) => runOperator(scorers[name]));
  try {
    for await (const frame of frames) {
      const keep =
        options.classes === undefined || frame.labels === undefined
          ? undefined
          : options.classes.trainableMask(frame.labels);
      runs.forEach((run, i) => {
        for (const scored of run.push(frame)) collectors[i]?.add(scored.scores, keep);
      });
    }
  } finally {
    for (const run of runs) run.close();
  }
  const out = {} as Record<K, Calibration>;
  names.forEach((name, i) => {
    out[name] = calibrateScores((collectors[i] as ScoreCollector).sorted(), options);
  });
  return out;
}
