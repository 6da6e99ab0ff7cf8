import { performance } from 'node:perf_hooks';
import type { OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../core/frame.js';
import { OptionError } from '../core/options.js';
import type { ScoredFrame } from '../core/scored-frame.js';
import { enviCubeFrame, findEnviDataFile, readEnviCube, readEnviMask } from '../io/envi/index.js';
import { type Calibration, loadBundle, saveBundle } from '../model/bundle.js';
import type { DeepSvddParams } from '../model/deep-svdd-params.js';
import { deepSvddFromBundle, deepSvddToBundle, rxToBundle } from '../model/detector-bundle.js';
import { initEngine } from '../scoring/engine.js';
import { calibrateOnFrames } from './calibrate.js';
import type { ModelCheckpoint } from './callbacks/checkpoint.js';
import { buildCallbacks } from './callbacks-from-config.js';
import { type Dataset, openDataset } from './dataset.js';
import { streamDatasetFrames } from './dataset-frames.js';
import type { DatasetItem } from './dataset-item.js';
import type { DeepSvddSnapshot } from './deep-svdd-variables.js';
import { type DetectorEvaluation, evaluateFrames, type ScorerUnderTest } from './evaluate-frames.js';
import { sha256File } from './file-hash.js';
import { resolveTrainEngine } from './gradient-engine.js';
import { runOnce } from './operator-runner.js';
import { createProgress } from './progress.js';
import { createRunFolder, type RunFolder } from './run-folder.js';
import { writeFramePictures, writeTrainingCurves } from './run-pictures.js';
import { statisticalInit } from './statistical-init.js';
import { type EpochRecord, trainDeepSvdd } from './trainer.js';
import { trainerOptionsOf } from './trainer-options.js';
import type { PreprocessSpec, TrainingStages } from './training-stages.js';
import type { TrainrunConfig } from './trainrun-schema.js';
import { paramsOfSnapshot, type ValidationContext, validateEpoch } from './validation.js';

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** The inference operators (`trainingStages` from `src/train/operator-stages.js`). */
  readonly stages: TrainingStages;
  /** Where progress lines and notes go (default: nowhere). */
  readonly write?: (text: string) => void;
  /** Redraw a progress bar (a terminal) instead of one line per epoch. */
  readonly tty?: boolean;
  /** Start time, for the run folder name (default now). */
  readonly now?: Date;
}

/** Names of the cubes in each split. */
export interface SplitNames {
  readonly train: readonly string[];
  readonly val: readonly string[];
  readonly test: readonly string[];
}

/** What a training run produced. */
export interface TrainRunResult {
  /** `<out>/<name>-<timestamp>`. */
  readonly runDir: string;
  /** The deployable Deep SVDD bundle, `<run>/model`. */
  readonly modelDir: string;
  /** The RX baseline bundle, `<run>/rx` (when `rx.enabled`). */
  readonly rxDir?: string;
  /** Model version (the run folder's name). */
  readonly version: string;
  /** The deployed calibration of the Deep SVDD model. */
  readonly calibration: Calibration;
  readonly history: readonly EpochRecord[];
  readonly stopReasons: readonly string[];
  /** Epoch (from 1, as in the logs) of the checkpoint deployed instead of the last epoch (`checkpoint.restoreBest`). */
  readonly restoredEpoch?: number;
  readonly splits: SplitNames;
  /** Metrics on the test split at the deployed thresholds, by detector (`deep-svdd`, `rx`). */
  readonly test?: Readonly<Record<string, DetectorEvaluation>>;
  /** Metrics on the validation split of the deployed model. */
  readonly validation?: Readonly<Record<string, DetectorEvaluation>>;
  /** PNG files written (curves and frame pictures). */
  readonly pictures: readonly string[];
  /** Seconds from start to the saved bundle. */
  readonly seconds: number;
}

function names(items: readonly DatasetItem[]): string[] {
  return items.map((item) => item.name);
}

async function dataHashes(items: readonly DatasetItem[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const item of items) {
    out.push({
      name: item.name,
      cubeSha256: await sha256File(await findEnviDataFile(item.cube)),
      ...(item.mask === undefined ? {} : { maskSha256: await sha256File(await findEnviDataFile(item.mask)) }),
    });
  }
  return out;
}

/**
 * The note a run prints when cubes have no mask (captures from `cubestream capture`): their
 * pixels are all trained on as normal, and held-out cubes without a mask give no metrics.
 */
function unlabelledCubesNote(splits: Dataset['splits']): string | undefined {
  const without = (items: readonly DatasetItem[]) => items.filter((item) => item.mask === undefined);
  const train = without(splits.train);
  const heldOut = [...without(splits.val), ...without(splits.test)];
  if (train.length === 0 && heldOut.length === 0) return undefined;
  const parts: string[] = [];
  if (train.length > 0) {
    parts.push(
      `${train.length} training cube(s) without a mask: every pixel is trained on as normal product`,
    );
  }
  if (heldOut.length > 0) {
    parts.push(
      `${heldOut.length} validation/test cube(s) without a mask (${names(heldOut).join(', ')}) are neither trained on nor scored: give them masks, or set data.split.val=0 and data.split.test=0`,
    );
  }
  return `${parts.join('; ')}\n`;
}

function metricsSummary(evaluation: DetectorEvaluation): Record<string, number> {
  const { auroc, ap, iou, precision, recall, f1, pixels, positives, threshold, seconds } = evaluation;
  return { auroc, ap, iou, precision, recall, f1, pixels, positives, threshold, seconds };
}

async function framePictures(
  dir: string,
  items: readonly DatasetItem[],
  scorer: ScorerUnderTest,
  dataset: Dataset,
): Promise<string[]> {
  const written: string[] = [];
  for (const item of items) {
    const cube = await readEnviCube(item.cube);
    const labels = item.mask === undefined ? undefined : await readEnviMask(item.mask);
    const frame = enviCubeFrame(cube, { cameraId: 'report' });
    const { scores } = runOnce(scorer.scorer, frame, 'scorer');
    written.push(
      ...(await writeFramePictures(dir, {
        name: item.name,
        height: cube.lines,
        width: cube.samples,
        bands: cube.bands,
        data: cube.data,
        wavelengths: cube.wavelengths,
        wavelengthUnits: cube.wavelengthUnits,
        scores,
        threshold: scorer.threshold ?? Number.POSITIVE_INFINITY,
        ...(labels === undefined ? {} : { truth: dataset.classes.truth(labels) }),
      })),
    );
  }
  return written;
}

/**
 * One whole training run, as `cubestream train` runs it:
 *
 * 1. open the dataset and split it; create `<out>/<name>-<timestamp>/` with `config.yaml`;
 * 2. statistical phase ({@link statisticalInit}): z-score, centre, RX, training-pixel reservoir;
 * 3. gradient phase ({@link trainDeepSvdd}) with per-epoch validation, `metrics.jsonl`,
 *    early stopping, checkpoints (loadable bundles) and ReduceLROnPlateau;
 * 4. calibration on the training pixels (τ = quantile(q) x margin) and the bundle in
 *    `<run>/model` with its model card (data and hashes, config, metrics); the RX baseline in `<run>/rx`;
 * 5. metrics of both on the test split at their deployed thresholds; training curves and
 *    validation-frame pictures (PNG); `summary.json`.
 *
 * @throws {@link OptionError} for a config that cannot work with the data (no data folder,
 *   a band-pass on data without wavelengths); `DatasetError`, ENVI and engine errors as they come
 * @example
 * ```ts
 * import { trainingStages } from './operator-stages.js';
 * import { TrainrunSchema } from './trainrun-schema.js';
 * const config = TrainrunSchema.parse({ data: { dir: 'data/sim' } }); // or a configs/trainrun/*.yaml, as `cubestream train` reads it
 * const result = await trainRun(config, { stages: trainingStages, write: (t) => process.stderr.write(t) });
 * result.test?.['deep-svdd']?.iou;
 * ```
 */
export async function trainRun(config: TrainrunConfig, options: TrainRunOptions): Promise<TrainRunResult> {
  const started = performance.now();
  const write = options.write ?? (() => undefined);
  const { stages } = options;
  const dataDir = config.data.dir;
  if (dataDir === undefined) {
    throw new OptionError(
      'training',
      'data.dir',
      'unset',
      'give the dataset folder in the config or with --data',
    );
  }
  const engine = await initEngine({ backend: config.engine });
  const dataset = await openDataset(dataDir, {
    split: {
      val: config.data.split.val,
      test: config.data.split.test,
      seed: config.data.split.seed,
      ...(config.data.split.names === undefined ? {} : { names: config.data.split.names }),
    },
    ...(config.data.normalClassIds === undefined ? {} : { normalClassIds: config.data.normalClassIds }),
    ...(config.data.anomalyClassIds === undefined ? {} : { anomalyClassIds: config.data.anomalyClassIds }),
  });
  const bandpass = config.model.bandpass ?? undefined;
  if (bandpass !== undefined && dataset.input.wavelengthUnits === 'index') {
    throw new OptionError(
      'training',
      'model.bandpass',
      `{ minNm: ${bandpass.minNm} }`,
      `the cubes of ${dataDir} have no wavelengths (band indices only): set model.bandpass to null`,
    );
  }
  const { train, val, test } = dataset.splits;
  // The bundles record what the cubes hold when their headers all say the same.
  const radiometry = dataset.input.radiometry === undefined ? {} : { radiometry: dataset.input.radiometry };
  const run: RunFolder = await createRunFolder(config.out, config.name, options.now);
  await run.writeYaml('config.yaml', config);
  write(
    `run ${run.dir}: ${train.length} training, ${val.length} validation, ${test.length} test cubes (split from ${dataset.splits.source}), engine ${engine.backend}, gradients on ${resolveTrainEngine(config.trainer.engine)}\n`,
  );
  const unlabelledNote = unlabelledCubesNote(dataset.splits);
  if (unlabelledNote !== undefined) write(unlabelledNote);
  const frames = (items: readonly DatasetItem[]) => () =>
    streamDatasetFrames(items, { blockRows: config.data.blockRows });
  const preprocess: PreprocessSpec = {
    unitNorm: config.model.unitNorm,
    ...(bandpass === undefined ? {} : { bandpass }),
  };

  // Statistical phase.
  const init = await statisticalInit(frames(train), stages, {
    preprocess,
    hidden: config.model.hidden,
    rep: config.model.rep,
    ...(config.model.whiten === null ? {} : { whiten: config.model.whiten }),
    seed: config.seed,
    classes: dataset.classes,
    maxTrainPixels: config.data.maxTrainPixels,
    rx: config.rx.enabled,
  });
  write(
    `statistical init: ${init.pixels} training pixels, ${init.channels} channels, ${init.reservoir.count} kept for the gradient phase\n`,
  );

  // Gradient phase.
  const fixed: ValidationContext['input'] = {
    wavelengthsNm: dataset.input.wavelengths,
    wavelengthUnits: dataset.input.wavelengthUnits,
    unitNorm: config.model.unitNorm,
    ...(bandpass === undefined ? {} : { bandpass }),
  };
  const hasValidation = val.some((item) => item.mask !== undefined);
  const validation: ValidationContext = {
    stages,
    input: fixed,
    trainingPixels: init.reservoir.toFrame(),
    thresholdPixels: config.trainer.thresholdPixels,
    calibration: config.calibration,
    classes: dataset.classes,
    nu: config.trainer.nu,
    ...(hasValidation ? { frames: frames(val) } : {}),
  };
  let latest: { snapshot: DeepSvddSnapshot; calibration: Calibration } | undefined;
  let checkpoint: ModelCheckpoint | undefined;
  const versionOf = (epoch: number): string => `${run.id}-epoch-${String(epoch).padStart(3, '0')}`;
  const monitor =
    config.callbacks.earlyStopping?.monitor ??
    config.callbacks.checkpoint?.monitor ??
    config.callbacks.reduceLrOnPlateau?.monitor ??
    (hasValidation ? 'val_auroc' : 'loss');
  const progress = createProgress(write, {
    epochs: config.trainer.epochs,
    tty: options.tty ?? false,
    monitor,
  });
  const result = await trainDeepSvdd(init, init.reservoir.toFrame(), {
    ...trainerOptionsOf(config),
    progress,
    callbacks: (optimizer) => {
      const built = buildCallbacks(config.callbacks, {
        optimizer,
        hasValidation,
        runDir: run.dir,
        note: (text) => progress.note(text),
        save: async (dir, epoch) => {
          if (latest === undefined) return;
          await saveBundle(
            dir,
            deepSvddToBundle(paramsOfSnapshot(fixed, latest.snapshot), {
              version: versionOf(epoch),
              calibration: latest.calibration,
              card: { checkpointOf: run.id, epoch },
              ...radiometry,
            }),
          );
        },
      });
      checkpoint = built.checkpoint;
      return built.callbacks;
    },
    validate: async (_epoch, snapshot) => {
      const { logs, calibration } = await validateEpoch(validation, snapshot);
      latest = { snapshot, calibration };
      return logs;
    },
    onEpochEnd: (record) =>
      run.appendMetrics({
        epoch: record.epoch,
        ...record.logs,
        trainable: record.trainable,
        steps: record.steps,
        seconds: record.seconds,
      }),
  });

  // The deployed parameters: the best checkpoint, or the last epoch.
  let params: DeepSvddParams = paramsOfSnapshot(fixed, result.snapshot);
  let restoredEpoch: number | undefined;
  const kept = checkpoint as ModelCheckpoint | undefined;
  const best = kept?.best;
  if (config.callbacks.checkpoint?.restoreBest === true && kept !== undefined && best !== undefined) {
    params = deepSvddFromBundle(await loadBundle(best.path));
    restoredEpoch = best.epoch;
    write(
      `deploying the best checkpoint: epoch ${best.epoch} (${kept.monitored} ${Number(best.value.toPrecision(6))}, ${best.path})\n`,
    );
  }

  // Calibration on the training pixels, with the deployed scorers.
  const deep = stages.deepSvdd(params, run.id);
  const rx = init.rx;
  const scorers: Record<string, OperatorFunction<CubeFrame, ScoredFrame>> = { 'deep-svdd': deep };
  if (rx !== undefined) scorers.rx = stages.rx(rx, `${run.id}-rx`);
  const calibrations = await calibrateOnFrames(frames(train)(), scorers, {
    ...config.calibration,
    classes: dataset.classes,
  });
  const calibration = calibrations['deep-svdd'] as Calibration;
  const rxCalibration = calibrations.rx;
  const detectors = (): Record<string, ScorerUnderTest> => ({
    'deep-svdd': { scorer: stages.deepSvdd(params, run.id), threshold: calibration.threshold },
    ...(rx === undefined || rxCalibration === undefined
      ? {}
      : { rx: { scorer: stages.rx(rx, `${run.id}-rx`), threshold: rxCalibration.threshold } }),
  });
  const evaluate = async (items: readonly DatasetItem[]) =>
    items.some((item) => item.mask !== undefined)
      ? (await evaluateFrames(frames(items)(), detectors(), { classes: dataset.classes })).detectors
      : undefined;
  const testMetrics = await evaluate(test);
  const valMetrics = await evaluate(val);
  const summarise = (metrics: Record<string, DetectorEvaluation> | undefined) =>
    metrics === undefined
      ? null
      : Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, metricsSummary(m)]));

  const splits: SplitNames = { train: names(train), val: names(val), test: names(test) };
  const card = {
    data: {
      dir: dataDir,
      splitSource: dataset.splits.source,
      splits,
      ...dataset.classes.toJSON(),
      input: {
        bands: dataset.input.bands,
        wavelengthUnits: dataset.input.wavelengthUnits,
        radiometry: dataset.input.radiometry ?? null,
        wavelengthRange: [dataset.input.wavelengths[0], dataset.input.wavelengths[dataset.input.bands - 1]],
      },
      trainingPixels: init.pixels,
      gradientPixels: init.reservoir.count,
      files: await dataHashes(dataset.items),
    },
    config,
    training: {
      engine: engine.backend,
      gradientEngine: resolveTrainEngine(config.trainer.engine),
      epochs: result.history.length,
      steps: result.steps,
      stopReasons: result.stopReasons,
      restoredEpoch: restoredEpoch ?? null,
      seconds: (performance.now() - started) / 1000,
      lastEpoch: result.history[result.history.length - 1]?.logs ?? null,
    },
    metrics: { test: summarise(testMetrics), validation: summarise(valMetrics) },
  };
  const modelDir = run.file('model');
  await saveBundle(modelDir, deepSvddToBundle(params, { version: run.id, calibration, card, ...radiometry }));
  let rxDir: string | undefined;
  if (rx !== undefined && rxCalibration !== undefined) {
    rxDir = run.file('rx');
    await saveBundle(
      rxDir,
      rxToBundle(
        { rx, wavelengths: dataset.input.wavelengths, wavelengthUnits: dataset.input.wavelengthUnits },
        {
          version: `${run.id}-rx`,
          calibration: rxCalibration,
          card: { ...card, detector: 'rx' },
          ...radiometry,
        },
      ),
    );
  }
  const seconds = (performance.now() - started) / 1000;

  // Pictures: curves, and the first validation frames (test frames when there is no validation).
  const pictures = await writeTrainingCurves(run.dir, result.history, monitor);
  const shown = (val.length > 0 ? val : test).slice(0, config.report.frames);
  if (shown.length > 0) {
    pictures.push(
      ...(await framePictures(
        run.file('frames'),
        shown,
        detectors()['deep-svdd'] as ScorerUnderTest,
        dataset,
      )),
    );
  }
  await run.writeJson('summary.json', {
    run: run.id,
    model: modelDir,
    rx: rxDir ?? null,
    splits,
    calibration,
    test: summarise(testMetrics),
    validation: summarise(valMetrics),
    epochs: result.history.length,
    stopReasons: result.stopReasons,
    restoredEpoch: restoredEpoch ?? null,
  });
  return {
    runDir: run.dir,
    modelDir,
    ...(rxDir === undefined ? {} : { rxDir }),
    version: run.id,
    calibration,
    history: result.history,
    stopReasons: result.stopReasons,
    ...(restoredEpoch === undefined ? {} : { restoredEpoch }),
    splits,
    ...(testMetrics === undefined ? {} : { test: testMetrics }),
    ...(valMetrics === undefined ? {} : { validation: valMetrics }),
    pictures,
    seconds,
  };
}
