import { EvaluationInputError } from './train-errors.js';

/** Pixel-level evaluation of an anomaly detector (docs/maths.md §3.11), pooled over all evaluated pixels. */
export interface EvaluationMetrics {
  /** Pixels evaluated. */
  readonly pixels: number;
  /** Anomalous pixels (ground truth). */
  readonly positives: number;
  /** Confusion at the decision threshold (0 when no decisions were given). */
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  /** TP / (TP + FP), 0 when nothing was flagged. */
  readonly precision: number;
  /** TP / (TP + FN), 0 when there are no anomalous pixels. */
  readonly recall: number;
  /** 2PR / (P + R), 0 when both are 0. */
  readonly f1: number;
  /** TP / (TP + FP + FN), 0 when that is empty. */
  readonly iou: number;
  /** Area under the ROC curve of the raw scores, ties counted half (NaN without both classes). */
  readonly auroc: number;
  /** Average precision of the raw scores (NaN without anomalous pixels). */
  readonly ap: number;
}

/** The headline figures of an evaluation, as `eval` reports them. */
export type HeadlineMetrics = Pick<EvaluationMetrics, 'auroc' | 'ap' | 'iou' | 'precision' | 'recall' | 'f1'>;

/** Options of {@link EvaluationAccumulator}. */
export interface EvaluationAccumulatorOptions {
  /** Scores reserved up front, grown by doubling (default 65,536). */
  initialCapacity?: number;
}

/** A float32 array that grows by doubling. */
class GrowableFloat32 {
  private buffer: Float32Array;
  length = 0;

  constructor(capacity: number) {
    this.buffer = new Float32Array(Math.max(1, capacity));
  }

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const next = new Float32Array(this.buffer.length * 2);
      next.set(this.buffer);
      this.buffer = next;
    }
    this.buffer[this.length++] = value;
  }

  /** The values sorted ascending (a copy). */
  sorted(): Float32Array {
    return this.buffer.slice(0, this.length).sort();
  }
}

/**
 * The anomaly mask of a label map: 1 where the label is one of `anomalyClassIds`.
 *
 * @example
 * ```ts
 * const truth = frame.labels === undefined ? undefined : anomalyMask(frame.labels, [3]);
 * ```
 */
export function anomalyMask(labels: Uint8Array, anomalyClassIds: readonly number[]): Uint8Array {
  const anomalous = new Set(anomalyClassIds);
  const mask = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) mask[i] = anomalous.has(labels[i] as number) ? 1 : 0;
  return mask;
}

/**
 * Area under the ROC curve from the scores of anomalous (`positives`) and normal (`negatives`)
 * pixels, both sorted ascending: the Mann-Whitney U statistic with tied ranks averaged,
 * U / (P·N) = P(s⁺ > s⁻) + ½·P(s⁺ = s⁻). O(P + N) after the sorts. NaN when a class is empty.
 */
export function aurocFromSorted(positives: Float32Array, negatives: Float32Array): number {
  if (positives.length === 0 || negatives.length === 0) return Number.NaN;
  let below = 0; // negatives strictly below the current positive value
  let u = 0;
  let i = 0;
  while (i < positives.length) {
    const value = positives[i] as number;
    let run = 0;
    while (i < positives.length && positives[i] === value) {
      run++;
      i++;
    }
    while (below < negatives.length && (negatives[below] as number) < value) below++;
    let equal = 0;
    while (below + equal < negatives.length && negatives[below + equal] === value) equal++;
    u += run * (below + equal / 2);
  }
  return u / (positives.length * negatives.length);
}

/**
 * Average precision from sorted-ascending scores of anomalous and normal pixels: the mean, over
 * anomalous pixels ranked by descending score, of the precision at that pixel's score (pixels
 * with equal scores share one threshold, as scikit-learn's `average_precision_score`). NaN
 * when there are no anomalous pixels.
 */
export function averagePrecisionFromSorted(positives: Float32Array, negatives: Float32Array): number {
  if (positives.length === 0) return Number.NaN;
  let p = positives.length - 1;
  let n = negatives.length - 1;
  let tp = 0;
  let fp = 0;
  let sum = 0;
  while (p >= 0) {
    const value = Math.max(
      positives[p] as number,
      n >= 0 ? (negatives[n] as number) : Number.NEGATIVE_INFINITY,
    );
    let newTp = 0;
    while (p >= 0 && positives[p] === value) {
      newTp++;
      p--;
    }
    while (n >= 0 && negatives[n] === value) {
      fp++;
      n--;
    }
    tp += newTp;
    if (newTp > 0) sum += newTp * (tp / (tp + fp));
  }
  return sum / positives.length;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/**
 * Streaming pixel-level evaluation: feed it frame after frame (scores, ground-truth mask and
 * optionally the detector's decisions), then `compute()` the pooled metrics. Scores are kept
 * (float32, split by class, grown by doubling: 4 bytes a pixel) for AUROC and AP, which cost
 * O(n log n) at the end; the confusion counts are updated as frames arrive.
 *
 * @example
 * ```ts
 * import type { ThresholdedFrame } from 'cubestream';
 * declare const thresholded: readonly ThresholdedFrame[]; // labelled frames, scored and thresholded
 * const evaluation = new EvaluationAccumulator();
 * for (const f of thresholded) if (f.labels) evaluation.add(f.scores, anomalyMask(f.labels, [3]), f.threshold);
 * const { f1, iou, auroc, ap } = evaluation.compute();
 * ```
 */
export class EvaluationAccumulator {
  private readonly positives: GrowableFloat32;
  private readonly negatives: GrowableFloat32;
  private tp = 0;
  private fp = 0;
  private fn = 0;
  private tn = 0;
  private withDecisions: boolean | undefined;

  constructor(options: EvaluationAccumulatorOptions = {}) {
    const capacity = options.initialCapacity ?? 65_536;
    this.positives = new GrowableFloat32(capacity / 16);
    this.negatives = new GrowableFloat32(capacity);
  }

  /** Pixels added so far. */
  get pixels(): number {
    return this.positives.length + this.negatives.length;
  }

  /**
   * Adds one frame (or block).
   *
   * @param scores - raw anomaly score per pixel (finite)
   * @param truth - per pixel, non-zero = anomalous (see {@link anomalyMask})
   * @param predicted - the decisions: a per-pixel mask (non-zero = flagged) or a threshold τ
   *   (flagged iff score >= τ). Give it for every frame or for none.
   * @throws {@link EvaluationInputError} for mismatching lengths, a non-finite score, or
   *   decisions given for some frames only
   */
  add(scores: ArrayLike<number>, truth: ArrayLike<number>, predicted?: ArrayLike<number> | number): this {
    if (truth.length !== scores.length) {
      throw new EvaluationInputError('truth', `has ${truth.length} pixels, scores have ${scores.length}`);
    }
    if (typeof predicted !== 'number' && predicted !== undefined && predicted.length !== scores.length) {
      throw new EvaluationInputError(
        'predicted',
        `has ${predicted.length} pixels, scores have ${scores.length}`,
      );
    }
    const has = predicted !== undefined;
    if (this.withDecisions !== undefined && this.withDecisions !== has) {
      throw new EvaluationInputError(
        'predicted',
        has ? 'given now but not for earlier frames' : 'missing but given for earlier frames',
      );
    }
    if (typeof predicted === 'number' && Number.isNaN(predicted)) {
      throw new EvaluationInputError('predicted', 'threshold is NaN');
    }
    for (let i = 0; i < scores.length; i++) {
      if (!Number.isFinite(scores[i]))
        throw new EvaluationInputError(`scores[${i}]`, `${scores[i]} is not finite`);
    }
    this.withDecisions = has;
    for (let i = 0; i < scores.length; i++) {
      const score = scores[i] as number;
      const positive = (truth[i] as number) !== 0;
      (positive ? this.positives : this.negatives).push(score);
      if (predicted === undefined) continue;
      const flagged = typeof predicted === 'number' ? score >= predicted : (predicted[i] as number) !== 0;
      if (positive) {
        if (flagged) this.tp++;
        else this.fn++;
      } else if (flagged) this.fp++;
      else this.tn++;
    }
    return this;
  }

  /** The pooled metrics over everything added so far (the accumulator stays usable). */
  compute(): EvaluationMetrics {
    const positives = this.positives.sorted();
    const negatives = this.negatives.sorted();
    const { tp, fp, fn, tn } = this;
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    return {
      pixels: this.pixels,
      positives: positives.length,
      tp,
      fp,
      fn,
      tn,
      precision,
      recall,
      f1: ratio(2 * precision * recall, precision + recall),
      iou: ratio(tp, tp + fp + fn),
      auroc: aurocFromSorted(positives, negatives),
      ap: averagePrecisionFromSorted(positives, negatives),
    };
  }
}
