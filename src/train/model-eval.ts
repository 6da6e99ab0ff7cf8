import { z } from 'zod';
import type { CubeFrame } from '../core/frame.js';
import type { ScoredFrame } from '../core/scored-frame.js';
import { type LoadedBundle, loadBundle } from '../model/bundle.js';
import { checkFrameMatchesInput } from '../model/input-spec.js';
import { chooseRgbBands } from '../report/false-colour.js';
import type { ClassMap } from './class-map.js';
import { type Dataset, openDataset } from './dataset.js';
import { streamDatasetFrames } from './dataset-frames.js';
import type { DatasetItem } from './dataset-item.js';
import { evaluateFrames, type FramesEvaluation } from './evaluate-frames.js';
import type { HeadlineMetrics } from './metrics.js';
import { writeFramePictures } from './run-pictures.js';
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
  /** PNG files written (only when `pictures` was given). */
  readonly pictures?: readonly string[];
}

/** Options of {@link evaluateModel}. */
export interface EvaluateModelOptions {
  readonly stages: TrainingStages;
  /** Rows per block read from disk (default 64). */
  readonly blockRows?: number;
  /** `test` (default): the test split when one is known, else every cube; `all`: every cube. */
  readonly split?: 'test' | 'all';
  /**
   * Folder for pictures of every evaluated cube: `<cube>-rgb.png` (false colour),
   * `<cube>-scores.png` (score heatmap with its colour bar, beside the truth) and
   * `<cube>-mask.png` (decisions at τ against the truth); none when absent.
   */
  readonly pictures?: string;
}

/** One cube assembled from its scored blocks, for its pictures. */
interface CubeForPictures {
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: CubeFrame['wavelengthUnits'];
  /** The three bands of the false colour, `[height * width, 3]`. */
  readonly rgb: Float32Array;
  readonly scores: Float32Array;
  readonly truth: Uint8Array;
}

/**
 * Gathers each cube's scored blocks (the frames stream cube after cube) and writes a cube's
 * pictures once its last block is in: at most one cube is held besides the one being written.
 */
class PictureWriter {
  private current: CubeForPictures | undefined;
  private currentId = -1;
  private rgbBands: [number, number, number] = [0, 0, 0];
  private pending: Promise<void> = Promise.resolve();
  /** The first write that failed: later cubes are not drawn, and {@link finish} throws it. */
  private failure: { error: unknown } | undefined;
  readonly files: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly names: readonly string[],
    private readonly classes: ClassMap,
    private readonly threshold: number,
  ) {}

  add(frame: CubeFrame, scored: ScoredFrame): void {
    if (frame.labels === undefined) return;
    if (frame.frameId !== this.currentId) {
      this.flush();
      const bands = chooseRgbBands(frame.wavelengths, frame.wavelengthUnits);
      const pixels = frame.totalRows * frame.width;
      this.currentId = frame.frameId;
      this.current = {
        name: this.names[frame.frameId] ?? `cube-${frame.frameId}`,
        height: frame.totalRows,
        width: frame.width,
        wavelengths: Float32Array.from(bands, (b) => frame.wavelengths[b] as number),
        wavelengthUnits: frame.wavelengthUnits,
        rgb: new Float32Array(pixels * 3),
        scores: new Float32Array(pixels),
        truth: new Uint8Array(pixels),
      };
      this.rgbBands = bands;
    }
    const cube = this.current as CubeForPictures;
    const offset = frame.rowOffset * frame.width;
    cube.scores.set(scored.scores, offset);
    cube.truth.set(this.classes.truth(frame.labels), offset);
    const [r, g, b] = this.rgbBands;
    for (let p = 0; p < frame.height * frame.width; p++) {
      const o = (offset + p) * 3;
      cube.rgb[o] = frame.data[p * frame.bands + r] as number;
      cube.rgb[o + 1] = frame.data[p * frame.bands + g] as number;
      cube.rgb[o + 2] = frame.data[p * frame.bands + b] as number;
    }
  }

  /** Queues the pictures of the cube gathered so far. */
  private flush(): void {
    const cube = this.current;
    if (cube === undefined) return;
    this.current = undefined;
    this.pending = this.pending
      .then(async () => {
        if (this.failure !== undefined) return;
        this.files.push(
          ...(await writeFramePictures(this.dir, {
            name: cube.name,
            height: cube.height,
            width: cube.width,
            bands: 3,
            data: cube.rgb,
            wavelengths: cube.wavelengths,
            wavelengthUnits: cube.wavelengthUnits,
            rgbBands: [0, 1, 2],
            scores: cube.scores,
            threshold: this.threshold,
            truth: cube.truth,
          })),
        );
      })
      .catch((error: unknown) => {
        this.failure ??= { error };
      });
  }

  /** Writes the last cube's pictures and waits for all of them; throws the first write's error. */
  async finish(): Promise<string[]> {
    this.flush();
    await this.pending;
    if (this.failure !== undefined) throw this.failure.error;
    return this.files;
  }
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
  const threshold = bundle.calibration.threshold;
  const writer =
    options.pictures === undefined
      ? undefined
      : new PictureWriter(
          options.pictures,
          items.map((item) => item.name),
          dataset.classes,
          threshold,
        );
  let evaluated: FramesEvaluation<'model'>;
  try {
    evaluated = await evaluateFrames(
      streamDatasetFrames(items, { blockRows: options.blockRows ?? 64 }),
      { model: { scorer: options.stages.fromBundle(bundle), threshold } },
      {
        classes: dataset.classes,
        ...(writer === undefined ? {} : { onScored: (_name, frame, scored) => writer.add(frame, scored) }),
      },
    );
  } catch (error) {
    // The pictures already queued finish first; the evaluation's error is the one reported.
    await writer?.finish().catch(() => undefined);
    throw error;
  }
  const pictures = await writer?.finish();
  const m = evaluated.detectors.model;
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
    ...(pictures === undefined ? {} : { pictures }),
  };
}
