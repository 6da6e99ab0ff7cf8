import { validateConfig } from '../../../core/validate.js';
import { initEngine } from '../../../scoring/engine.js';
import { evaluateModel, type ModelEvaluation } from '../../../train/model-eval.js';
import { trainingStages } from '../../../train/operator-stages.js';
import { evaluateScene, type SceneEvaluation } from '../../../train/scene-eval.js';
import { SCENE_DEFAULT_CONFIG, TrainrunSchema } from '../../../train/trainrun-schema.js';
import { applyOverrides, loadConfigFile } from '../../config/load-config.js';
import { type CliCommand, type CliIO, setOverrides, stringOption, UsageError } from '../command.js';

function f(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(4);
}

function printScene(io: CliIO, r: SceneEvaluation): void {
  const deep = r.detectors['deep-svdd'];
  const { rx } = r.detectors;
  io.out(`${r.scene}: ${r.pixels} pixels, ${r.anomalies} anomalous\n`);
  io.out(
    `  deep-svdd  AUROC ${f(deep.auroc)}  AP ${f(deep.ap)}  IoU ${f(deep.iou)}  P ${f(deep.precision)}  R ${f(deep.recall)}  F1 ${f(deep.f1)}  ${deep.seconds.toFixed(1)} s\n`,
  );
  io.out(`  rx         AUROC ${f(rx.auroc)}  AP ${f(rx.ap)}  ${rx.seconds.toFixed(1)} s\n`);
}

function printModel(io: CliIO, r: ModelEvaluation): void {
  io.out(
    `${r.detector} model ${r.version} on ${r.split === 'test' ? 'the test split' : 'every cube'} of ${r.data} (${r.cubes.join(', ')}): ${r.pixels} pixels, ${r.anomalies} anomalous\n`,
  );
  io.out(
    `  AUROC ${f(r.auroc)}  AP ${f(r.ap)}  at τ ${r.threshold.toPrecision(4)}: IoU ${f(r.iou)}  P ${f(r.precision)}  R ${f(r.recall)}  F1 ${f(r.f1)}  false alarms ${r.falseAlarms} (${(r.falseAlarmRate * 100).toPrecision(3)}% of normal pixels)\n`,
  );
}

/** JSON with NaN (a metric without both classes) written as null, as JSON has no NaN. */
function json(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`;
}

/**
 * `cubestream eval`: metrics of a trained bundle on a dataset's test split at its deployed
 * threshold (`--model --data`), or the literature protocol on one scene (`--scene`): Deep SVDD
 * and RX fitted on the scene's own pixels, every pixel scored. `--json` prints exactly one
 * JSON object on stdout.
 *
 * @example
 * ```sh
 * cubestream eval --model runs/lentils-20261129T055300Z/model --data data/sim --json
 * cubestream eval --scene /data/scenes/abu-urban-2 --json
 * ```
 */
export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Evaluate a bundle on a dataset, or Deep SVDD vs RX on one scene (literature protocol)',
  usage: `cubestream eval --model DIR --data DIR [--split test|all] [--json]
       cubestream eval --scene DIR [--config FILE] [--set key=value ...] [--json]
  --model DIR            a model bundle (e.g. runs/<run>/model)
  --data DIR             dataset folder; its test split (manifest, else the model card's) is evaluated
  --split S              test (default; every cube when no test split is known) or all (e.g. clean frames
                         for the false-alarm rate)
  --scene DIR            a scene folder with cube.hdr and mask.hdr (e.g. /data/scenes/abu-urban-2)
  --config FILE          trainrun config for --scene (default: the issue-5 default, configs/trainrun/scene_default.yaml;
                         the cuvis reference settings: configs/trainrun/scene_reference.yaml)
  --set key=value        override a config value for --scene (repeatable)
  --json                 print one JSON object instead of text`,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    scene: { type: 'string' },
    config: { type: 'string' },
    set: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    const asJson = values.json === true;
    const scene = stringOption(values, 'scene');
    const model = stringOption(values, 'model');
    if (scene !== undefined) {
      if (model !== undefined || values.data !== undefined || values.split !== undefined)
        throw new UsageError('--scene cannot be combined with --model, --data or --split');
      const configFile = stringOption(values, 'config');
      const overrides = setOverrides(values);
      const config =
        configFile === undefined
          ? validateConfig(TrainrunSchema, applyOverrides(SCENE_DEFAULT_CONFIG, overrides), '--set')
          : await loadConfigFile(TrainrunSchema, configFile, overrides);
      const result = await evaluateScene(scene, config, { stages: trainingStages });
      if (asJson) io.out(json(result));
      else printScene(io, result);
      return 0;
    }
    if (model === undefined) throw new UsageError('give --model DIR --data DIR, or --scene DIR');
    if (values.config !== undefined || values.set !== undefined)
      throw new UsageError('--config and --set apply to --scene only');
    const data = stringOption(values, 'data', true);
    const split = stringOption(values, 'split') ?? 'test';
    if (split !== 'test' && split !== 'all')
      throw new UsageError(`--split must be test or all, got "${split}"`);
    await initEngine();
    const result = await evaluateModel(model, data, { stages: trainingStages, split });
    if (asJson) io.out(json(result));
    else printModel(io, result);
    return 0;
  },
};
