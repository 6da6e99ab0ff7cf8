import { performance } from 'node:perf_hooks';
import type { OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../core/frame.js';
import { OptionError } from '../core/options.js';
import type { ScoredFrame } from '../core/scored-frame.js';
import { enviCubeFrame, readEnviCube, readEnviMask } from '../io/envi/index.js';
import { fitRx, RxStats } from '../model/rx-stats.js';
import { initEngine } from '../scoring/engine.js';
import { calibrateScores } from './calibrate.js';
import { BINARY_ANOMALY_CLASS_IDS, BINARY_NORMAL_CLASS_IDS, ClassMap } from './class-map.js';
import { discoverDatasetItems } from './dataset.js';
import { DatasetError } from './dataset-item.js';
import { EvaluationAccumulator, type HeadlineMetrics } from './metrics.js';
import { runOnce } from './operator-runner.js';
import { writeFramePictures } from './run-pictures.js';
import { statisticalInit } from './statistical-init.js';
import { trainDeepSvdd } from './trainer.js';
import { trainerOptionsOf } from './trainer-options.js';
import type { TrainingStages } from './training-stages.js';
import type { TrainrunConfig } from './trainrun-schema.js';
import { paramsOfSnapshot } from './validation.js';

/**
 * Deep SVDD's result on a scene: ranking metrics, and metrics at the threshold its bundle would
 * deploy with (τ = quantile(q) x margin of the scene's own scores), and the time.
 */
export interface SceneDeepSvddResult extends HeadlineMetrics {
  /** The threshold τ = quantile(q) x margin of the scene's own scores; a pixel is flagged iff score >= τ. */
  readonly threshold: number;
  /** q of the threshold (e.g. 0.999: at most 0.1 % of the scene's pixels score above quantile(q)). */
  readonly quantile: number;
  /** The margin of the threshold. */
  readonly margin: number;
  /** Pixels flagged at τ. Recall and IoU cannot exceed flagged / anomalies. */
  readonly flagged: number;
  /** Fit (statistical + gradient phase), calibration and scoring, in seconds. */ readonly seconds: number;
}

/** RX's result on a scene. */
export interface SceneRxResult extends Pick<HeadlineMetrics, 'auroc' | 'ap'> {
  /** Fit and scoring, in seconds. */ readonly seconds: number;
}

/** What `cubestream eval --scene DIR --json` prints: exactly this object. */
export interface SceneEvaluation {
  /** The scene folder's name, e.g. `abu-urban-2`. */
  readonly scene: string;
  readonly pixels: number;
  readonly anomalies: number;
  readonly detectors: { readonly 'deep-svdd': SceneDeepSvddResult; readonly rx: SceneRxResult };
  /** PNG files written (only when `pictures` was given). */
  readonly pictures?: readonly string[];
}

/** Options of {@link evaluateScene}. */
export interface EvaluateSceneOptions {
  readonly stages: TrainingStages;
  /**
   * Folder for pictures of Deep SVDD's result: `<scene>-rgb.png`, `<scene>-scores.png` (score
   * heatmap beside the truth) and `<scene>-mask.png` (decisions at τ against the truth); none when absent.
   */
  readonly pictures?: string;
}

async function* once(frame: CubeFrame): AsyncGenerator<CubeFrame> {
  yield frame;
}

function scoreWith(scorer: OperatorFunction<CubeFrame, ScoredFrame>, frame: CubeFrame): Float32Array {
  return runOnce(scorer, frame, 'scorer').scores;
}

/**
 * The hyperspectral anomaly-detection literature's protocol on one scene (`cube.hdr` +
 * `mask.hdr`, as in the ABU scene collection): both detectors are fitted on the scene's own pixels
 * (unsupervised, the anomalies included), every pixel is scored, and the scores are compared
 * with the mask (1 = anomaly). Deep SVDD runs the trainer with `config` (statistical phase,
 * then a fixed number of epochs, no validation or callbacks) and is thresholded as its bundle
 * would be: τ = quantile(q) x margin of the scene's scores. RX is global RX (docs/maths.md §3.10).
 *
 * @throws {@link DatasetError} when the folder does not hold exactly one cube with a mask;
 *   {@link OptionError} for a band-pass on a scene without wavelengths
 * @example
 * ```ts
 * import { trainingStages } from './operator-stages.js';
 * import { SCENE_REFERENCE_CONFIG } from './trainrun-schema.js';
 * const result = await evaluateScene('/data/scenes/abu-urban-2', SCENE_REFERENCE_CONFIG, { stages: trainingStages });
 * result.detectors.rx.auroc; // 0.9946
 * ```
 */
export async function evaluateScene(
  dir: string,
  config: TrainrunConfig,
  options: EvaluateSceneOptions,
): Promise<SceneEvaluation> {
  const items = await discoverDatasetItems(dir);
  const [item] = items;
  if (items.length !== 1 || item?.mask === undefined) {
    throw new DatasetError(
      dir,
      `a scene folder holds one cube with its mask (found ${items.length} cubes${item?.mask === undefined ? ', no mask' : ''})`,
    );
  }
  const cube = await readEnviCube(item.cube);
  const labels = await readEnviMask(item.mask);
  const bandpass = config.model.bandpass ?? undefined;
  if (bandpass !== undefined && cube.wavelengthUnits === 'index') {
    throw new OptionError(
      'training',
      'model.bandpass',
      `{ minNm: ${bandpass.minNm} }`,
      `scene ${item.name} has band indices only: set it to null`,
    );
  }
  await initEngine({ backend: config.engine });
  const frame = enviCubeFrame(cube, { cameraId: 'scene' });
  const classes = new ClassMap(BINARY_NORMAL_CLASS_IDS, BINARY_ANOMALY_CLASS_IDS);
  const truth = classes.truth(labels);
  const anomalies = truth.reduce((sum, v) => sum + v, 0);

  // Deep SVDD, fitted on every pixel of the scene.
  const deepStarted = performance.now();
  const preprocess = { unitNorm: config.model.unitNorm, ...(bandpass === undefined ? {} : { bandpass }) };
  const init = await statisticalInit(() => once(frame), options.stages, {
    preprocess,
    hidden: config.model.hidden,
    rep: config.model.rep,
    ...(config.model.whiten === null ? {} : { whiten: config.model.whiten }),
    seed: config.seed,
    maxTrainPixels: config.data.maxTrainPixels,
  });
  const trained = await trainDeepSvdd(init, init.reservoir.toFrame(), trainerOptionsOf(config));
  const params = paramsOfSnapshot(
    {
      wavelengthsNm: cube.wavelengths,
      wavelengthUnits: cube.wavelengthUnits,
      unitNorm: config.model.unitNorm,
      ...(bandpass === undefined ? {} : { bandpass }),
    },
    trained.snapshot,
  );
  const deepScores = scoreWith(options.stages.deepSvdd(params), frame);
  const calibration = calibrateScores(deepScores, config.calibration);
  const { threshold } = calibration;
  const deepSeconds = (performance.now() - deepStarted) / 1000;
  const deep = new EvaluationAccumulator().add(deepScores, truth, threshold).compute();

  // Global RX on every pixel.
  const rxStarted = performance.now();
  const rxModel = fitRx(new RxStats(cube.bands).add(cube.data));
  const rxScores = scoreWith(options.stages.rx(rxModel), frame);
  const rxSeconds = (performance.now() - rxStarted) / 1000;
  const rx = new EvaluationAccumulator().add(rxScores, truth).compute();

  const pictures =
    options.pictures === undefined
      ? []
      : await writeFramePictures(options.pictures, {
          name: item.name,
          height: cube.lines,
          width: cube.samples,
          bands: cube.bands,
          data: cube.data,
          wavelengths: cube.wavelengths,
          wavelengthUnits: cube.wavelengthUnits,
          scores: deepScores,
          threshold,
          truth,
        });
  const result: SceneEvaluation = {
    scene: item.name,
    pixels: truth.length,
    anomalies,
    detectors: {
      'deep-svdd': {
        auroc: deep.auroc,
        ap: deep.ap,
        iou: deep.iou,
        precision: deep.precision,
        recall: deep.recall,
        f1: deep.f1,
        threshold,
        quantile: calibration.quantile,
        margin: calibration.margin,
        flagged: deep.tp + deep.fp,
        seconds: deepSeconds,
      },
      rx: { auroc: rx.auroc, ap: rx.ap, seconds: rxSeconds },
    },
  };
  return options.pictures === undefined ? result : { ...result, pictures };
}
