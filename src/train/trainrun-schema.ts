import { z } from 'zod';
import { ENGINE_BACKENDS } from '../scoring/engine.js';

const ClassIds = z.array(z.number().int().min(0).max(255));
const Names = z.array(z.string().min(1));
const StageName = z.enum(['zscore', 'project', 'boundary']);
const Monitor = {
  /** Metric in the epoch logs: `loss`, `val_loss`, `val_auroc`, `val_ap`, `val_iou`, `val_f1`, … */
  monitor: z.string().min(1),
  mode: z.enum(['min', 'max']),
  minDelta: z.number().nonnegative().default(0),
};

/** `data`: where the cubes are, how they are split and which classes are normal. */
const DataSchema = z.strictObject({
  /** Dataset folder (`--data` overrides it). */
  dir: z.string().min(1).optional(),
  /** Rows per block when streaming cubes from disk. */
  blockRows: z.number().int().positive().default(64),
  /** Class ids trained on (default: the manifest's, else [0]). */
  normalClassIds: ClassIds.min(1).optional(),
  /** Class ids that are anomalous (default: the manifest's, else [1]; see docs/evaluation.md). */
  anomalyClassIds: ClassIds.optional(),
  /** Training pixels kept (uniform reservoir) for the gradient phase. */
  maxTrainPixels: z.number().int().positive().default(2_000_000),
  split: z
    .strictObject({
      /** Cube names per split; wins over the manifest's `splits` and the fractions. */
      names: z
        .strictObject({ train: Names.optional(), val: Names.optional(), test: Names.optional() })
        .optional(),
      val: z.number().min(0).max(0.9).default(0.2),
      test: z.number().min(0).max(0.9).default(0.2),
      seed: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
});

/** `model`: the Deep SVDD stages before the learned ones, and the network's size. */
const ModelSchema = z.strictObject({
  /** Band-pass in nm (`null`: keep every band; required for sensors without wavelengths). */
  bandpass: z
    .strictObject({ minNm: z.number(), maxNm: z.number().optional() })
    .nullable()
    .default({ minNm: 700 }),
  unitNorm: z.boolean().default(true),
  hidden: z.number().int().positive().default(128),
  rep: z.number().int().positive().default(32),
  /**
   * Robust truncated whitening after the z-score, then a residual projection starting at the
   * identity and a centre fixed at 0 (the scene default; `rep` is then the component count). `null`: the
   * reference stages.
   */
  whiten: z
    .strictObject({
      components: z.number().int().positive().default(30),
      trim: z.number().min(0).lt(1).default(0.02),
    })
    .nullable()
    .default(null),
});

/** `trainer`: the gradient phase. */
const TrainerSchema = z.strictObject({
  epochs: z.number().int().positive().default(20),
  batchSize: z.number().int().positive().default(4096),
  /** Cap on steps per epoch (default: one pass over the training pixels). */
  stepsPerEpoch: z.number().int().positive().optional(),
  lr: z.number().positive().default(1e-3),
  weightDecay: z.number().nonnegative().default(0.01),
  maxGradNorm: z.number().positive().default(1),
  nu: z.number().gt(0).lte(1).default(0.05),
  centerAlpha: z.number().min(0).max(1).default(0.1),
  /** `soft-boundary` (cuvis) or `trimmed-one-class` (mean distance without each batch's top `trim`). */
  loss: z.enum(['soft-boundary', 'trimmed-one-class']).default('soft-boundary'),
  /** Share of each batch dropped by the `trimmed-one-class` loss. */
  trim: z.number().min(0).lt(1).default(0.02),
  /**
   * Where each batch's forward and backward pass runs: `onnx` (onnxruntime-node), `tfjs` (the
   * tfjs backend), or `auto`: tfjs on native TensorFlow, onnx otherwise.
   */
  engine: z.enum(['auto', 'onnx', 'tfjs']).default('auto'),
  /** Which stages train from which epoch on (the others are frozen). */
  stages: z
    .array(
      z.strictObject({ fromEpoch: z.number().int().nonnegative(), trainable: z.array(StageName).min(1) }),
    )
    .min(1)
    .default([{ fromEpoch: 0, trainable: ['project', 'boundary'] }]),
  /** Training pixels scored each epoch for the validation threshold. */
  thresholdPixels: z.number().int().positive().default(65_536),
});

/** `callbacks`: each one is on when its section is present. */
const CallbacksSchema = z.strictObject({
  earlyStopping: z
    .strictObject({ ...Monitor, patience: z.number().int().nonnegative().default(10) })
    .optional(),
  checkpoint: z
    .strictObject({
      ...Monitor,
      saveTopK: z.number().int().nonnegative().default(1),
      saveLast: z.boolean().default(true),
      /** Deploy the best checkpoint rather than the last epoch. */
      restoreBest: z.boolean().default(true),
    })
    .optional(),
  reduceLrOnPlateau: z
    .strictObject({
      ...Monitor,
      factor: z.number().gt(0).lt(1).default(0.5),
      patience: z.number().int().nonnegative().default(3),
      minLr: z.number().nonnegative().default(0),
      cooldown: z.number().int().nonnegative().default(0),
    })
    .optional(),
});

/**
 * A training run (`configs/trainrun/*.yaml`): data, model, trainer, callbacks, calibration.
 * Every field has a default except what a run cannot guess (the data folder, given here or by `--data`).
 *
 * @example
 * ```ts
 * const config = TrainrunSchema.parse({ data: { dir: 'data/sim' }, trainer: { epochs: 5 } }); // defaults for the rest
 * // `cubestream train` reads configs/trainrun/*.yaml (with --set overrides) into this schema
 * ```
 */
export const TrainrunSchema = z.strictObject({
  /** Run name: the run folder is `<out>/<name>-<timestamp>`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .default('deep_svdd'),
  /** Seed of the weights, the reservoir and the batch order. */
  seed: z.number().int().nonnegative().default(0),
  /** Folder that receives run folders (`--out` overrides it). */
  out: z.string().min(1).default('runs'),
  /** tfjs backend (`CUBESTREAM_BACKEND` applies when `auto`). */
  engine: z.enum(ENGINE_BACKENDS as readonly ['tensorflow', 'wasm', 'cpu', 'auto']).default('auto'),
  data: DataSchema.prefault({}),
  model: ModelSchema.prefault({}),
  trainer: TrainerSchema.prefault({}),
  callbacks: CallbacksSchema.prefault({}),
  /** Deployed threshold τ = quantile(q) x margin of the training scores. */
  calibration: z
    .strictObject({
      quantile: z.number().gt(0).lte(1).default(0.999),
      margin: z.number().positive().default(2),
    })
    .prefault({}),
  /** Fit the RX baseline too and save it as `<run>/rx`. */
  rx: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  /** Pictures of validation frames written to the run folder. */
  report: z.strictObject({ frames: z.number().int().nonnegative().default(4) }).prefault({}),
});

/** A parsed, defaulted training-run configuration. */
export type TrainrunConfig = z.output<typeof TrainrunSchema>;

/**
 * The reference settings of the literature protocol (`cubestream eval --scene` without
 * `--config`; the same as `configs/trainrun/scene_reference.yaml`): every band kept, unit norm,
 * z-score, 128 hidden, 32 rep, ν 0.05, AdamW lr 1e-3, a fixed 100 steps of 2048 pixels (10
 * epochs of 10 steps; no validation, no callbacks), which keeps every ABU scene under 60 s on a
 * 2-core machine with the wasm backend (docs/evaluation.md).
 */
export const SCENE_REFERENCE_CONFIG: TrainrunConfig = TrainrunSchema.parse({
  name: 'scene',
  model: { bandpass: null, unitNorm: true, hidden: 128, rep: 32 },
  trainer: { epochs: 10, stepsPerEpoch: 10, batchSize: 2048, lr: 1e-3, nu: 0.05 },
  calibration: { quantile: 0.999, margin: 2 },
});

/**
 * The default Deep SVDD of the literature protocol (`cubestream eval --scene` without
 * `--config`; the same as `configs/trainrun/scene_default.yaml`): every band, no unit norm,
 * z-score, robust whitening onto 30 components (2 % trimmed), a residual 64-hidden MLP starting
 * at the identity, centre fixed at 0, the trimmed one-class loss, a short gradient phase
 * (docs/evaluation.md says what was measured).
 */
export const SCENE_DEFAULT_CONFIG: TrainrunConfig = TrainrunSchema.parse({
  name: 'scene',
  model: { bandpass: null, unitNorm: false, hidden: 64, rep: 30, whiten: { components: 30, trim: 0.02 } },
  trainer: {
    epochs: 1,
    stepsPerEpoch: 20,
    batchSize: 2048,
    lr: 1e-4,
    weightDecay: 0.01,
    centerAlpha: 0,
    loss: 'trimmed-one-class',
    trim: 0.02,
    stages: [{ fromEpoch: 0, trainable: ['project'] }],
  },
  calibration: { quantile: 0.999, margin: 2 },
});
