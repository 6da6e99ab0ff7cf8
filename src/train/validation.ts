import type { CubeFrame } from '../core/frame.js';
import type { Calibration } from '../model/bundle.js';
import type { DeepSvddParams } from '../model/deep-svdd-params.js';
import { type CalibrationOptions, calibrateScores } from './calibrate.js';
import type { EpochLogs } from './callbacks/callback.js';
import type { ClassMap } from './class-map.js';
import type { DeepSvddSnapshot } from './deep-svdd-variables.js';
import { evaluateFrames } from './evaluate-frames.js';
import { scorePreprocessedPixels, spreadSample } from './score-pixels.js';
import { DEFAULT_NU, SOFTPLUS_BETA } from './soft-boundary-loss.js';
import type { TrainingStages } from './training-stages.js';

/** Everything an epoch's validation needs besides the model. */
export interface ValidationContext {
  readonly stages: TrainingStages;
  /** The fixed parts of the parameters (wavelengths, band-pass, unit norm). */
  readonly input: Pick<DeepSvddParams, 'wavelengthsNm' | 'wavelengthUnits' | 'bandpass' | 'unitNorm'>;
  /** Preprocessed training pixels; a spread sample of them calibrates the epoch's threshold. */
  readonly trainingPixels: { readonly data: Float32Array; readonly bands: number };
  /** Training pixels scored for the threshold (default 65,536). */
  readonly thresholdPixels?: number;
  readonly calibration: CalibrationOptions;
  /** The validation frames, streamed afresh each epoch (absent: threshold only). */
  readonly frames?: () => AsyncIterable<CubeFrame>;
  readonly classes: ClassMap;
  /** ν of the soft-boundary loss, for `val_loss` (default 0.05). */
  readonly nu?: number;
}

/** An epoch's validation: its logs and the calibration a checkpoint of this epoch carries. */
export interface EpochValidation {
  /** `threshold`, and with validation frames `val_loss`, `val_auroc`, `val_ap`, `val_iou`, `val_f1`, `val_precision`, `val_recall`. */
  readonly logs: EpochLogs;
  readonly calibration: Calibration;
}

/** R² = softplus_β(r)², in float64 (β = 10), as the loss computes it. */
export function radiusSquaredOf(r: number, beta: number = SOFTPLUS_BETA): number {
  const x = beta * r;
  const softplus = x > 30 ? x : Math.log1p(Math.exp(x));
  return (softplus / beta) ** 2;
}

/** Full Deep SVDD parameters from a training snapshot and the fixed input stages. */
export function paramsOfSnapshot(
  input: ValidationContext['input'],
  snapshot: DeepSvddSnapshot,
): DeepSvddParams {
  return {
    wavelengthsNm: input.wavelengthsNm,
    ...(input.wavelengthUnits === undefined ? {} : { wavelengthUnits: input.wavelengthUnits }),
    ...(input.bandpass === undefined ? {} : { bandpass: input.bandpass }),
    unitNorm: input.unitNorm,
    zscore: snapshot.zscore,
    ...(snapshot.whiten === undefined ? {} : { whiten: snapshot.whiten }),
    project: snapshot.project,
    center: snapshot.center,
  };
}

/**
 * Validates the model after an epoch (docs/maths.md §3.11): calibrates the threshold on a spread
 * sample of the training pixels (as the final calibration will, on all of them), then scores
 * the validation frames with the inference operators and pools AUROC, AP and, at that
 * threshold, precision, recall, F1 and IoU; `val_loss` is the soft-boundary loss of the
 * validation frames' normal pixels under the epoch's R².
 *
 * @example
 * ```ts
 * declare const context: ValidationContext; // stages, the fixed input stages, training pixels, validation frames
 * const { logs, calibration } = await validateEpoch(context, model.snapshot());
 * logs.val_auroc;
 * ```
 */
export async function validateEpoch(
  context: ValidationContext,
  snapshot: DeepSvddSnapshot,
): Promise<EpochValidation> {
  const { data, bands } = context.trainingPixels;
  const sample = spreadSample(data, bands, context.thresholdPixels ?? 65_536);
  const calibration = calibrateScores(
    scorePreprocessedPixels(context.stages, snapshot, sample, bands),
    context.calibration,
  );
  const logs: Record<string, number> = { threshold: calibration.threshold };
  if (context.frames === undefined) return { logs, calibration };
  const r2 = radiusSquaredOf(snapshot.r);
  let excess = 0;
  let normal = 0;
  const params = paramsOfSnapshot(context.input, snapshot);
  const { detectors, blocks } = await evaluateFrames(
    context.frames(),
    { 'deep-svdd': { scorer: context.stages.deepSvdd(params), threshold: calibration.threshold } },
    {
      classes: context.classes,
      onScored: (_name, frame, scored) => {
        const labels = frame.labels;
        if (labels === undefined) return;
        for (let i = 0; i < scored.scores.length; i++) {
          if (!context.classes.isTrainable(labels[i] as number)) continue;
          excess += Math.max(0, (scored.scores[i] as number) - r2);
          normal++;
        }
      },
    },
  );
  if (blocks === 0) return { logs, calibration };
  const metrics = detectors['deep-svdd'];
  Object.assign(logs, {
    val_loss: normal === 0 ? Number.NaN : r2 + excess / normal / (context.nu ?? DEFAULT_NU),
    val_auroc: metrics.auroc,
    val_ap: metrics.ap,
    val_iou: metrics.iou,
    val_f1: metrics.f1,
    val_precision: metrics.precision,
    val_recall: metrics.recall,
  });
  return { logs, calibration };
}
