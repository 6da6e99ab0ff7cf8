import type { OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../core/frame.js';
import type { ScoredFrame } from '../core/scored-frame.js';
import type { Calibration } from '../model/bundle.js';
import type { ClassMap } from './class-map.js';
import { runOperator } from './operator-runner.js';
import { TrainOptionError } from './train-errors.js';

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

/**
 * The q-quantile of values sorted ascending with numpy's default `linear` interpolation:
 * h = (n-1)·q, between sorted[floor h] and sorted[ceil h].
 *
 * @throws {@link TrainOptionError} for no values or q outside [0, 1]
 * @example
 * ```ts
 * quantileOfSorted(Float32Array.of(1, 2, 3, 4), 0.5); // 2.5
 * ```
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new TrainOptionError('scores', '[]', 'no scores to take a quantile of');
  if (!(q >= 0 && q <= 1)) throw new TrainOptionError('quantile', q, 'must be within [0, 1]');
  const h = (sorted.length - 1) * q;
  const lower = Math.floor(h);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  const t = h - lower;
  return a === b ? a : t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
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
 * Calibration from training scores (DESIGN §3.8): the recorded quantiles and the deployed
 * threshold τ = quantile(q) x margin, as `calibration.json` stores it.
 *
 * @throws {@link TrainOptionError} for no scores, a non-finite score, q outside (0, 1] or margin <= 0
 * @example
 * ```ts
 * const calibration = calibrateScores(trainingScores, { quantile: 0.999, margin: 1.5 });
 * calibration.threshold; // τ
 * ```
 */
export function calibrateScores(scores: Float32Array, options: CalibrationOptions = {}): Calibration {
  const quantile = options.quantile ?? DEFAULT_CALIBRATION_QUANTILE;
  const margin = options.margin ?? DEFAULT_CALIBRATION_MARGIN;
  if (!(quantile > 0 && quantile <= 1))
    throw new TrainOptionError('calibration.quantile', quantile, 'must be in (0, 1]');
  if (!(margin > 0 && Number.isFinite(margin)))
    throw new TrainOptionError('calibration.margin', margin, 'must be finite and > 0');
  const sorted = Float32Array.from(scores).sort();
  if (sorted.length > 0 && !Number.isFinite(sorted[sorted.length - 1] as number)) {
    throw new TrainOptionError('scores', sorted[sorted.length - 1], 'training scores must be finite');
  }
  const scoreQuantiles: Record<string, number> = {};
  for (const q of [...(options.quantiles ?? REPORTED_QUANTILES), quantile].sort((a, b) => a - b)) {
    scoreQuantiles[String(q)] = quantileOfSorted(sorted, q);
  }
  return {
    threshold: Math.max(0, quantileOfSorted(sorted, quantile) * margin),
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
 * const { deepSvdd, rx } = await calibrateOnFrames(
 *   streamDatasetFrames(train),
 *   { deepSvdd: stages.deepSvdd(params), rx: stages.rx(rxModel) },
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
