import { performance } from 'node:perf_hooks';
import { CubestreamError } from '../core/errors.js';
import { OptionError } from '../core/options.js';
import { AdamW, type LearningRateControl } from './adamw.js';
import { type Callback, type EpochLogs, runCallbacks } from './callbacks/callback.js';
import {
  type DeepSvddInit,
  type DeepSvddSnapshot,
  DeepSvddVariables,
  TRAIN_STAGES,
  type TrainStage,
} from './deep-svdd-variables.js';
import { DEFAULT_MAX_GRAD_NORM } from './grad-clip.js';
import { createGradientEngine, type TrainEngineChoice } from './gradient-engine.js';
import { PixelBatches, type PixelFrame } from './pixel-batches.js';
import { silentProgress, type TrainProgress } from './progress.js';
import { DEFAULT_NU } from './soft-boundary-loss.js';
import { DEFAULT_TRAIN_CENTER_ALPHA, type TrainLoss, trainStepWith } from './train-step.js';

/**
 * Once `fromEpoch` epochs have run, exactly the stages in `trainable` are trained; the rest are
 * frozen (`fromEpoch: 0`: from the first epoch, epoch 1; `fromEpoch: 10`: from epoch 11).
 */
export interface StageSchedule {
  readonly fromEpoch: number;
  readonly trainable: readonly TrainStage[];
}

/** The default schedule: projection and radius trained from the start, z-score kept statistical. */
export const DEFAULT_STAGE_SCHEDULE: readonly StageSchedule[] = [
  { fromEpoch: 0, trainable: ['project', 'boundary'] },
];

/** Options of {@link trainDeepSvdd} (the `trainer` section of a trainrun config, plus hooks). */
export interface TrainerOptions {
  /** Epochs to run at most. */
  readonly epochs: number;
  /** Pixels per batch. */
  readonly batchSize: number;
  /** Cap on the steps of one epoch (default: a full pass over the training pixels). */
  readonly stepsPerEpoch?: number;
  /** AdamW learning rate (default 1e-3). */
  readonly lr?: number;
  /** AdamW decoupled weight decay (default 0.01). */
  readonly weightDecay?: number;
  /** Global gradient-norm clip (default 1.0). */
  readonly maxGradNorm?: number;
  /** ν of the soft-boundary loss (default 0.05). */
  readonly nu?: number;
  /** EMA rate of the centre during training (default 0.1). */
  readonly centerAlpha?: number;
  /** Objective (default `soft-boundary`; `trimmed-one-class` in the scene default, `configs/trainrun/scene_default.yaml`). */
  readonly loss?: TrainLoss;
  /** Share of each batch dropped by the `trimmed-one-class` loss (default 0.02). */
  readonly trim?: number;
  /**
   * Where each batch's forward and backward pass runs (default `auto`: tfjs on native
   * TensorFlow, onnxruntime-node otherwise); clipping and AdamW always run in tfjs.
   */
  readonly engine?: TrainEngineChoice;
  /** Intra-op threads of the `onnx` engine (default 2); fixed, so seeded runs stay bit-identical. */
  readonly onnxThreads?: number;
  /** Seed of the batch order (default 0). */
  readonly seed?: number;
  /** Freeze / unfreeze stages by epoch (default {@link DEFAULT_STAGE_SCHEDULE}). */
  readonly schedule?: readonly StageSchedule[];
  /** Builds the callbacks once the optimizer exists (ReduceLROnPlateau needs it). */
  readonly callbacks?: (optimizer: LearningRateControl) => readonly Callback[];
  /** Validation after each epoch (numbered from 1): returns `val_*` metrics merged into the epoch logs. */
  readonly validate?: (epoch: number, model: DeepSvddSnapshot) => Promise<EpochLogs> | EpochLogs;
  /** Called with each epoch's record before the callbacks run (e.g. append to metrics.jsonl). */
  readonly onEpochEnd?: (record: EpochRecord) => Promise<void> | void;
  /** Progress output (default silent). */
  readonly progress?: TrainProgress;
}

/** What one epoch did. */
export interface EpochRecord {
  /**
   * The epoch's number, from 1: the same number in the progress lines, `metrics.jsonl`, the
   * callbacks, checkpoint folders and `checkpoints/index.json`.
   */
  readonly epoch: number;
  /** `loss` (mean over the epoch's steps), `lr`, `radius2`, `grad_norm`, and the validation metrics. */
  readonly logs: EpochLogs;
  /** Stages trained in this epoch. */
  readonly trainable: readonly TrainStage[];
  readonly steps: number;
  readonly seconds: number;
}

/** The trained model and its history. */
export interface TrainResult {
  /** Parameters after the last epoch run. */
  readonly snapshot: DeepSvddSnapshot;
  readonly history: readonly EpochRecord[];
  /** Why training stopped before `epochs` (callback reasons); empty when it ran them all. */
  readonly stopReasons: readonly string[];
  /** Optimisation steps taken. */
  readonly steps: number;
}

/** The loss became NaN or infinite: training diverged (lower the learning rate). */
export class TrainingDivergedError extends CubestreamError {
  /** Epoch (from 1, as in the progress lines) at which the loss stopped being finite. */
  readonly epoch: number;
  /** Step of that epoch (from 1). */
  readonly step: number;

  constructor(epoch: number, step: number, loss: number) {
    super(
      'diverged',
      `training diverged: loss = ${loss} at epoch ${epoch}, step ${step} (lower trainer.lr or check the data for constant bands)`,
    );
    this.epoch = epoch;
    this.step = step;
  }
}

function checkSchedule(schedule: readonly StageSchedule[]): readonly StageSchedule[] {
  const sorted = [...schedule].sort((a, b) => a.fromEpoch - b.fromEpoch);
  if (sorted[0]?.fromEpoch !== 0)
    throw new OptionError(
      'training',
      'trainer.stages[0].fromEpoch',
      sorted[0]?.fromEpoch,
      'the first entry must have fromEpoch 0 (trained from the first epoch on)',
    );
  sorted.forEach((entry, i) => {
    const unknown = entry.trainable.find((stage) => !TRAIN_STAGES.includes(stage));
    if (unknown !== undefined)
      throw new OptionError(
        'training',
        `trainer.stages[${i}].trainable`,
        unknown,
        `is not one of ${TRAIN_STAGES.join(', ')}`,
      );
    if (entry.trainable.length === 0)
      throw new OptionError('training', `trainer.stages[${i}].trainable`, '[]', 'names no stage to train');
  });
  return sorted;
}

function stagesAt(schedule: readonly StageSchedule[], epoch: number): readonly TrainStage[] {
  let current = schedule[0]?.trainable ?? [];
  for (const entry of schedule) if (entry.fromEpoch <= epoch) current = entry.trainable;
  return current;
}

function positiveInt(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new OptionError('training', option, value, 'must be a positive integer');
  return value;
}

/**
 * The gradient phase of training (docs/maths.md §3.7): epochs of seeded pixel mini-batches drawn
 * across all training frames ({@link PixelBatches} over the preprocessed pixels), each step
 * the soft-boundary loss, global gradient-norm clipping and AdamW with decoupled decay
 * ({@link trainStepWith}), stages frozen or unfrozen by name per the schedule; after each epoch
 * validation, the epoch record, then the callbacks (early stopping, checkpoints,
 * ReduceLROnPlateau), any of which may stop the run. The batch forward and backward pass runs
 * on `options.engine` (onnxruntime-node unless tfjs runs on native TensorFlow). Deterministic:
 * the same init, pixels, options, engine and backend give bit-identical weights.
 *
 * @param init - parameters from the statistical phase
 * @param pixels - preprocessed (band-passed, unit-normed) training pixels
 * @throws {@link OptionError} for a bad option or schedule; {@link TrainingDivergedError}
 *   when the loss is not finite
 * @example
 * ```ts
 * import { EarlyStopping } from './callbacks/early-stopping.js';
 * import type { StatisticalInit } from './statistical-init.js';
 * import { type ValidationContext, validateEpoch } from './validation.js';
 * declare const init: StatisticalInit, validation: ValidationContext;
 * const result = await trainDeepSvdd(init, init.reservoir.toFrame(), {
 *   epochs: 20, batchSize: 4096, seed: 1,
 *   callbacks: () => [new EarlyStopping({ monitor: 'val_auroc', mode: 'max', patience: 5 })],
 *   validate: async (_epoch, snapshot) => (await validateEpoch(validation, snapshot)).logs,
 * });
 * ```
 */
export async function trainDeepSvdd(
  init: DeepSvddInit,
  pixels: PixelFrame,
  options: TrainerOptions,
): Promise<TrainResult> {
  const epochs = positiveInt('trainer.epochs', options.epochs);
  const batchSize = positiveInt('trainer.batchSize', options.batchSize);
  const cap =
    options.stepsPerEpoch === undefined
      ? undefined
      : positiveInt('trainer.stepsPerEpoch', options.stepsPerEpoch);
  const schedule = checkSchedule(options.schedule ?? DEFAULT_STAGE_SCHEDULE);
  const onnx =
    options.onnxThreads === undefined
      ? {}
      : { threads: positiveInt('trainer.onnxThreads', options.onnxThreads) };
  const progress = options.progress ?? silentProgress;
  const seed = options.seed ?? 0;
  const stepOptions = {
    nu: options.nu ?? DEFAULT_NU,
    centerAlpha: options.centerAlpha ?? DEFAULT_TRAIN_CENTER_ALPHA,
    maxGradNorm: options.maxGradNorm ?? DEFAULT_MAX_GRAD_NORM,
    ...(options.loss === undefined ? {} : { loss: options.loss }),
    ...(options.trim === undefined ? {} : { trim: options.trim }),
  };
  const batches = new PixelBatches([pixels], { batchSize, seed: seed + 2 });
  const model = DeepSvddVariables.create(init, { trainable: stagesAt(schedule, 0) });
  const optimizer = new AdamW(model.allVariables(), {
    lr: options.lr ?? 1e-3,
    weightDecay: options.weightDecay ?? 0.01,
  });
  const gradients = createGradientEngine(options.engine, onnx);
  const history: EpochRecord[] = [];
  let stopReasons: string[] = [];
  let totalSteps = 0;
  try {
    const callbacks = options.callbacks?.(optimizer) ?? [];
    let trainable: readonly TrainStage[] = [];
    // Epochs are numbered from 1 everywhere they are seen (logs, records, callbacks, checkpoints);
    // `done` = epochs already run indexes the schedule and the batch order.
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const done = epoch - 1;
      const started = performance.now();
      const stages = stagesAt(schedule, done);
      if (stages.join() !== trainable.join()) {
        for (const stage of TRAIN_STAGES) model.setTrainable(stage, stages.includes(stage));
        if (done > 0) progress.note(`epoch ${epoch}: training ${stages.join(', ')}`);
        trainable = stages;
      }
      const steps = Math.min(batches.batchesPerEpoch, cap ?? Number.POSITIVE_INFINITY);
      const lr = optimizer.learningRates()[0] ?? Number.NaN;
      let lossSum = 0;
      let normSum = 0;
      let radius2 = Number.NaN;
      let step = 0;
      for (const batch of batches.epoch(done)) {
        if (step >= steps) break;
        const result = await trainStepWith(gradients, model, optimizer, batch, stepOptions);
        if (!Number.isFinite(result.loss)) throw new TrainingDivergedError(epoch, step + 1, result.loss);
        lossSum += result.loss;
        normSum += result.gradNorm;
        radius2 = result.radiusSquared;
        step++;
        totalSteps++;
        progress.step(epoch, step, steps, lossSum / step);
      }
      const logs: Record<string, number> = {
        loss: lossSum / step,
        lr,
        radius2,
        grad_norm: normSum / step,
      };
      if (options.validate !== undefined)
        Object.assign(logs, await options.validate(epoch, model.snapshot()));
      const seconds = (performance.now() - started) / 1000;
      const record: EpochRecord = { epoch, logs, trainable, steps: step, seconds };
      history.push(record);
      await options.onEpochEnd?.(record);
      progress.epoch(epoch, logs, seconds);
      const { stop, reasons } = await runCallbacks(callbacks, epoch, logs);
      if (stop) {
        stopReasons = reasons;
        progress.note(`stopped after epoch ${epoch}: ${reasons.join('; ')}`);
        break;
      }
    }
    return { snapshot: model.snapshot(), history, stopReasons, steps: totalSteps };
  } finally {
    await gradients.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
