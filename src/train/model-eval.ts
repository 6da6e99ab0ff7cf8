import { z } from 'zod';
import { type LoadedBundle, loadBundle } from '../model/bundle.js';
import { checkFrameMatchesInput } from '../model/input-spec.js';
import { type Dataset, openDataset } from './dataset.js';
import { streamDatasetFrames } from './dataset-frames.js';
import type { DatasetItem } from './dataset-item.js';
import { evaluateFrames } from './evaluate-frames.js';
import type { HeadlineMetrics } from './metrics.js';
import type { TrainingStages } from './training-stages.js';

/** What `cubestream eval --model DIR --data DIR --json` prints. */
export interface ModelEvaluation extends HeadlineMetrics {
  readonly model: string;
  readonly version: string;
  readonly detector: string;
  readonly data: string;
  /** `test`: the test split (from the manifest or the model card); `all`: every labelled cube. */
  readonly split: 'test' | 'all';
  readonly cubes: readonly string[];
  readonly pixels: number;
  readonly anomalies: number;
  /** The deployed threshold τ from `calibration.json`. */
  readonly threshold: number;
  /** Normal pixels flagged (score >= τ). */
  readonly falseAlarms: number;
  /** Normal pixels flagged / normal pixels: on clean frames, the pixel false-alarm rate. */
  readonly falseAlarmRate: number;
  /** Seconds spent scoring. */
  readonly seconds: number;
}

/** Options of {@link evaluateModel}. */
export interface EvaluateModelOptions {
  readonly stages: TrainingStages;
  /** Rows per block read from disk (default 64). */
  readonly blockRows?: number;
  /** `test` (default): the test split when one is known, else every cube; `all`: every cube. */
  readonly split?: 'test' | 'all';
}

/** The parts of a model card written by `cubestream train` that evaluation reads. */
const CardDataSchema = z.looseObject({
  data: z
    .looseObject({
      splits: z.looseObject({ test: z.array(z.string()).optional() }).optional(),
      normalClassIds: z.array(z.number().int().min(0).max(255)).optional(),
      anomalyClassIds: z.array(z.number().int().min(0).max(255)).nullable().optional(),
    })
    .optional(),
});

function testItems(
  dataset: Dataset,
  cardTest: readonly string[] | undefined,
): { items: DatasetItem[]; split: 'test' | 'all' } {
  if (dataset.manifest?.splits?.test !== undefined) return { items: [...dataset.splits.test], split: 'test' };
  if (cardTest !== undefined && cardTest.length > 0) {
    const byName = new Map(dataset.items.map((item) => [item.name, item]));
    const found = cardTest.map((name) => byName.get(name));
    if (found.every((item) => item !== undefined)) return { items: found as DatasetItem[], split: 'test' };
  }
  return { items: [...dataset.items], split: 'all' };
}

/**
 * Evaluates a bundle on a dataset's test split at the bundle's deployed threshold: the split
 * named by the dataset's manifest, else the test cubes recorded in the model card (when all are
 * in the folder), else every cube. Class ids come from the manifest, else the model card, else
 * binary masks. The cubes must have the bands the model expects.
 *
 * @throws `InvalidFrameError` naming the bands that differ from the model's; `BundleError`,
 *   `DatasetError` as they come
 * @example
 * ```ts
 * import { trainingStages } from './operator-stages.js';
 * const result = await evaluateModel('runs/lentils-1/model', 'data/sim', { stages: trainingStages });
 * result.iou;
 * ```
 */
export async function evaluateModel(
  modelDir: string,
  dataDir: string,
  options: EvaluateModelOptions,
): Promise<ModelEvaluation> {
  const bundle: LoadedBundle = await loadBundle(modelDir);
  const card = CardDataSchema.safeParse(bundle.card);
  const cardData = card.success ? card.data.data : undefined;
  const probe = await openDataset(dataDir);
  const fromManifest =
    probe.manifest?.normalClassIds !== undefined || probe.manifest?.anomalyClassIds !== undefined;
  const dataset =
    fromManifest || cardData?.normalClassIds === undefined
      ? probe
      : await openDataset(dataDir, {
          normalClassIds: cardData.normalClassIds,
          ...(cardData.anomalyClassIds == null ? {} : { anomalyClassIds: cardData.anomalyClassIds }),
        });
  checkFrameMatchesInput(bundle.manifest.input, dataset.input);
  const { items, split } =
    options.split === 'all'
      ? { items: [...dataset.items], split: 'all' as const }
      : testItems(dataset, cardData?.splits?.test);
  const { detectors } = await evaluateFrames(
    streamDatasetFrames(items, { blockRows: options.blockRows ?? 64 }),
    { model: { scorer: options.stages.fromBundle(bundle), threshold: bundle.calibration.threshold } },
    { classes: dataset.classes },
  );
  const m = detectors.model;
  return {
    model: modelDir,
    version: bundle.manifest.version,
    detector: bundle.manifest.detector,
    data: dataDir,
    split,
    cubes: items.map((item) => item.name),
    pixels: m.pixels,
    anomalies: m.positives,
    threshold: bundle.calibration.threshold,
    auroc: m.auroc,
    ap: m.ap,
    iou: m.iou,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    falseAlarms: m.fp,
    falseAlarmRate: m.fp + m.tn === 0 ? 0 : m.fp / (m.fp + m.tn),
    seconds: m.seconds,
  };
}
