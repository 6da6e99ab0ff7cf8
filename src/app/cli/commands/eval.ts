import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { validateConfig } from '../../../core/validate.js';
import { initEngine } from '../../../scoring/engine.js';
import { evaluateModel, type ModelEvaluation } from '../../../train/model-eval.js';
import { trainingStages } from '../../../train/operator-stages.js';
import { evaluateScene, type SceneDeepSvddResult, type SceneEvaluation } from '../../../train/scene-eval.js';
import { SCENE_DEFAULT_CONFIG, TrainrunSchema } from '../../../train/trainrun-schema.js';
import { applyOverrides, loadConfigFile } from '../../config/load-config.js';
import { type CliCommand, type CliIO, setOverrides, stringOption, UsageError } from '../command.js';

function f(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(4);
}

/** A percentage with 2 significant digits and no trailing zeros: 0.1, 1.6, 12. */
function percent(share: number): string {
  return String(Number((share * 100).toPrecision(2)));
}

/**
 * Why IoU and recall are low at a high-quantile threshold, from the numbers: τ is at least the
 * q-quantile of the scene's own scores, so at most (1 - q) of the pixels are flagged; when the
 * anomalies cover more than the flagged pixels, even a perfect ranking finds at most
 * flagged / anomalies of them, and IoU = TP / (TP + FP + FN) <= TP / anomalies is bounded alike.
 * Undefined when the bound does not bite (as many pixels flagged as anomalous).
 *
 * @example
 * ```ts
 * import type { SceneDeepSvddResult } from '../../../train/scene-eval.js';
 * declare const deep: SceneDeepSvddResult;
 * sceneThresholdBound(deep, 10_000, 155); // "why IoU and recall are low: ... cannot exceed 4/155 = 0.026 ..."
 * ```
 */
export function sceneThresholdBound(
  deep: Pick<SceneDeepSvddResult, 'quantile' | 'margin' | 'flagged'>,
  pixels: number,
  anomalies: number,
): string | undefined {
  if (anomalies === 0 || deep.flagged >= anomalies) return undefined;
  const bound = deep.flagged / anomalies;
  const atQuantile = Math.floor((1 - deep.quantile) * pixels);
  return (
    `  why IoU and recall are low: τ at the ${deep.quantile} quantile of the scene's own scores` +
    `${deep.margin === 1 ? '' : ` (x ${deep.margin})`} flags at most ${percent(1 - deep.quantile)} % of its pixels` +
    ` (${atQuantile} of ${pixels}; ${deep.flagged} here), while the anomalies cover ${percent(anomalies / pixels)} % (${anomalies}),` +
    ` so recall and IoU cannot exceed ${deep.flagged}/${anomalies} = ${bound.toPrecision(2)} however well the scores rank` +
    ' (AUROC and AP do not depend on τ)\n'
  );
}

function printScene(io: CliIO, r: SceneEvaluation): void {
  const deep = r.detectors['deep-svdd'];
  const { rx } = r.detectors;
  io.out(`${r.scene}: ${r.pixels} pixels, ${r.anomalies} anomalous\n`);
  io.out(
    `  deep-svdd  AUROC ${f(deep.auroc)}  AP ${f(deep.ap)}  IoU ${f(deep.iou)}  P ${f(deep.precision)}  R ${f(deep.recall)}  F1 ${f(deep.f1)}  ${deep.seconds.toFixed(1)} s\n`,
  );
  io.out(
    `  threshold: τ ${deep.threshold.toPrecision(4)} = quantile ${deep.quantile} of the scene's ${r.pixels} scores x ${deep.margin}; ${deep.flagged} pixels flagged (${percent(deep.flagged / Math.max(1, r.pixels))} %)\n`,
  );
  const why = sceneThresholdBound(deep, r.pixels, r.anomalies);
  if (why !== undefined) io.out(why);
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

/** Name of the result file that `--out DIR` writes beside the pictures. */
export const EVAL_JSON = 'eval.json';

/** Writes `<out>/eval.json` (what `--json` prints) and says where, unless stdout is the JSON. */
async function writeResult(
  io: CliIO,
  out: string,
  result: { readonly pictures?: readonly string[] },
  asJson: boolean,
): Promise<void> {
  const file = path.join(out, EVAL_JSON);
  await mkdir(out, { recursive: true });
  await writeFile(file, json(result));
  if (!asJson) io.out(`wrote ${file} and ${result.pictures?.length ?? 0} pictures to ${out}\n`);
}

/**
 * `cubestream eval`: metrics of a trained bundle on a dataset's test split at its deployed
 * threshold (`--model --data`), or the literature protocol on one scene (`--scene`): Deep SVDD
 * and RX fitted on the scene's own pixels, every pixel scored. `--json` prints exactly one
 * JSON object on stdout. `--out DIR` also writes that object to `DIR/eval.json` and, for every
 * evaluated cube (or the scene), `<cube>-rgb.png`, `<cube>-scores.png` (score heatmap with its
 * colour bar, beside the truth) and `<cube>-mask.png` (prediction vs truth) into DIR.
 *
 * @example
 * ```sh
 * cubestream eval --model runs/lentils-20261129T055300Z/model --data data/sim --json
 * cubestream eval --model runs/lentils-20261129T055300Z/model --data data/sim --out runs/lentils-20261129T055300Z/eval
 * cubestream eval --scene /data/scenes/abu-urban-2 --json
 * ```
 */
export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Evaluate a bundle on a dataset, or Deep SVDD vs RX on one scene (literature protocol)',
  usage: `cubestream eval --model DIR --data DIR [--split test|all] [--out DIR] [--json]
       cubestream eval --scene DIR [--config FILE] [--set key=value ...] [--out DIR] [--json]
  --model DIR            a model bundle (e.g. runs/<run>/model)
  --data DIR             dataset folder; its test split (manifest, else the model card's) is evaluated
  --split S              test (default; every cube when no test split is known) or all (e.g. clean frames
                         for the false-alarm rate)
  --scene DIR            a scene folder with cube.hdr and mask.hdr (e.g. /data/scenes/abu-urban-2)
  --config FILE          trainrun config for --scene (default: the scene default, configs/trainrun/scene_default.yaml:
                         whitening and the trimmed one-class loss; the cuvis reference settings:
                         configs/trainrun/scene_reference.yaml)
  --set key=value        override a config value for --scene (repeatable)
  --out DIR              also write the result to DIR/eval.json and, per cube, DIR/<cube>-rgb.png (false colour),
                         DIR/<cube>-scores.png (score heatmap with colour bar, beside the truth) and
                         DIR/<cube>-mask.png (predicted mask vs ground truth: hits, misses, false alarms)
  --json                 print one JSON object instead of text`,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    scene: { type: 'string' },
    config: { type: 'string' },
    set: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    out: { type: 'string' },
  },
  async run({ values }, io) {
    const asJson = values.json === true;
    const scene = stringOption(values, 'scene');
    const model = stringOption(values, 'model');
    const out = stringOption(values, 'out');
    if (scene !== undefined) {
      if (model !== undefined || values.data !== undefined || values.split !== undefined)
        throw new UsageError('--scene cannot be combined with --model, --data or --split');
      const configFile = stringOption(values, 'config');
      const overrides = setOverrides(values);
      const config =
        configFile === undefined
          ? validateConfig(TrainrunSchema, applyOverrides(SCENE_DEFAULT_CONFIG, overrides), '--set')
          : await loadConfigFile(TrainrunSchema, configFile, overrides);
      const result = await evaluateScene(scene, config, {
        stages: trainingStages,
        ...(out === undefined ? {} : { pictures: out }),
      });
      if (asJson) io.out(json(result));
      else printScene(io, result);
      if (out !== undefined) await writeResult(io, out, result, asJson);
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
    const result = await evaluateModel(model, data, {
      stages: trainingStages,
      split,
      ...(out === undefined ? {} : { pictures: out }),
    });
    if (asJson) io.out(json(result));
    else printModel(io, result);
    if (out !== undefined) await writeResult(io, out, result, asJson);
    return 0;
  },
};
