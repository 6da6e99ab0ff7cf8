import { performance } from 'node:perf_hooks';
import type { OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../core/frame.js';
import type { ScoredFrame } from '../core/scored-frame.js';
import type { ClassMap } from './class-map.js';
import { EvaluationAccumulator, type EvaluationMetrics } from './metrics.js';
import { runOperator } from './operator-runner.js';

/** One detector to evaluate: its scorer and the threshold its decisions use. */
export interface ScorerUnderTest {
  readonly scorer: OperatorFunction<CubeFrame, ScoredFrame>;
  /** τ: pixel flagged iff score >= τ (omit for ranking metrics only; P/R/F1/IoU are then 0). */
  readonly threshold?: number;
}

/** Metrics of one detector over a set of frames, and the time its scoring took. */
export interface DetectorEvaluation extends EvaluationMetrics {
  /** Seconds spent in the scorer (tensor work and downloads; not the disk reads). */
  readonly seconds: number;
  /** The threshold the decisions used (NaN when none was given). */
  readonly threshold: number;
}

/** Options of {@link evaluateFrames}. */
export interface EvaluateFramesOptions {
  /** Ground truth: which label ids are anomalous. */
  readonly classes: ClassMap;
  /** Called with every scored block (e.g. to compute a validation loss or keep scores for pictures). */
  readonly onScored?: (detector: string, frame: CubeFrame, scored: ScoredFrame) => void;
}

/** What {@link evaluateFrames} returns: metrics per detector, and the frames it saw. */
export interface FramesEvaluation<K extends string> {
  readonly detectors: Record<K, DetectorEvaluation>;
  /** Blocks evaluated (with labels). */
  readonly blocks: number;
  /** Blocks skipped because they have no labels. */
  readonly unlabelledBlocks: number;
}

/**
 * Scores labelled frames with one or more detectors (each frame read once, pushed through every
 * scorer) and pools the pixel metrics of docs/maths.md §3.11 per detector: AUROC and AP on the raw
 * scores, precision / recall / F1 / IoU at the detector's threshold. Blocks without labels are
 * skipped.
 *
 * @example
 * ```ts
 * import { streamDatasetFrames } from './dataset-frames.js';
 * import { trainingStages } from './operator-stages.js';
 * const { detectors } = await evaluateFrames(streamDatasetFrames(dataset.splits.test), {
 *   'deep-svdd': { scorer: trainingStages.deepSvdd(params), threshold: bundle.calibration.threshold },
 * }, { classes: dataset.classes });
 * detectors['deep-svdd'].iou;
 * ```
 */
export async function evaluateFrames<K extends string>(
  frames: AsyncIterable<CubeFrame>,
  detectors: Readonly<Record<K, ScorerUnderTest>>,
  options: EvaluateFramesOptions,
): Promise<FramesEvaluation<K>> {
  const names = Object.keys(detectors) as K[];
  const runs = names.map((name) => runOperator(detectors[name].scorer));
  const accumulators = names.map(() => new EvaluationAccumulator());
  const seconds = names.map(() => 0);
  let blocks = 0;
  let unlabelledBlocks = 0;
  try {
    for await (const frame of frames) {
      if (frame.labels === undefined) {
        unlabelledBlocks++;
        continue;
      }
      blocks++;
      const truth = options.classes.truth(frame.labels);
      names.forEach((name, i) => {
        const started = performance.now();
        const outputs = runs[i]?.push(frame) ?? [];
        seconds[i] = (seconds[i] ?? 0) + (performance.now() - started) / 1000;
        const threshold = detectors[name].threshold;
        for (const scored of outputs) {
          accumulators[i]?.add(scored.scores, truth, threshold);
          options.onScored?.(name, frame, scored);
        }
      });
    }
  } finally {
    for (const run of runs) run.close();
  }
  const out = {} as Record<K, DetectorEvaluation>;
  names.forEach((name, i) => {
    out[name] = {
      ...(accumulators[i] as EvaluationAccumulator).compute(),
      seconds: seconds[i] ?? 0,
      threshold: detectors[name].threshold ?? Number.NaN,
    };
  });
  return { detectors: out, blocks, unlabelledBlocks };
}
