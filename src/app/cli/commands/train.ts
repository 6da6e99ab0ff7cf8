import type { DetectorEvaluation } from '../../../train/evaluate-frames.js';
import { trainingStages } from '../../../train/operator-stages.js';
import { trainRun } from '../../../train/train-run.js';
import { TrainrunSchema } from '../../../train/trainrun-schema.js';
import { loadConfigFile } from '../../config/load-config.js';
import { type CliCommand, setOverrides, stringOption } from '../command.js';

function metricsLine(name: string, m: DetectorEvaluation): string {
  const f = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));
  return `  ${name.padEnd(9)} AUROC ${f(m.auroc)}  AP ${f(m.ap)}  IoU ${f(m.iou)}  P ${f(m.precision)}  R ${f(m.recall)}  F1 ${f(m.f1)}  (τ ${m.threshold.toPrecision(4)})\n`;
}

/**
 * `cubestream train`: a whole training run from a trainrun config (statistical phase, gradient
 * phase with validation and callbacks, calibration, bundle, test metrics, pictures). Progress
 * goes to stderr (a bar on a terminal, one line per epoch otherwise); the summary to stdout.
 *
 * @example
 * ```sh
 * cubestream train --config configs/trainrun/lentils.yaml --data data/sim --set trainer.epochs=5
 * ```
 */
export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train a Deep SVDD model on a folder of ENVI cubes and save a deployable bundle',
  usage: `cubestream train --config FILE [--data DIR] [--out DIR] [--set key=value ...]
  --config FILE          trainrun config (configs/trainrun/*.yaml)
  --data DIR             dataset folder (overrides data.dir): <name>.hdr + <name>_mask.hdr, or <scene>/cube.hdr + mask.hdr
  --out DIR              folder for run folders (overrides out; default runs)
  --set key=value        override a config value, e.g. --set trainer.epochs=5 (repeatable)`,
  options: {
    config: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    set: { type: 'string', multiple: true },
  },
  async run({ values }, io) {
    const configFile = stringOption(values, 'config', true);
    const overrides = setOverrides(values);
    const data = stringOption(values, 'data');
    const out = stringOption(values, 'out');
    if (data !== undefined) overrides.push(`data.dir=${JSON.stringify(data)}`);
    if (out !== undefined) overrides.push(`out=${JSON.stringify(out)}`);
    const config = await loadConfigFile(TrainrunSchema, configFile, overrides);
    const result = await trainRun(config, {
      stages: trainingStages,
      write: (text) => io.err(text),
      tty: process.stderr.isTTY === true,
    });
    const { calibration } = result;
    io.out(`run:       ${result.runDir}\n`);
    io.out(`model:     ${result.modelDir} (version ${result.version})\n`);
    if (result.rxDir !== undefined) io.out(`rx:        ${result.rxDir}\n`);
    io.out(
      `threshold: ${calibration.threshold.toPrecision(6)} = quantile ${calibration.quantile} of ${calibration.pixels} training scores x ${calibration.margin}\n`,
    );
    io.out(
      `epochs:    ${result.history.length}${result.stopReasons.length > 0 ? ` (${result.stopReasons.join('; ')})` : ''}\n`,
    );
    const lastEpoch = result.history[result.history.length - 1]?.epoch;
    io.out(
      result.restoredEpoch === undefined
        ? `deployed:  epoch ${lastEpoch ?? 'n/a'} (the last)\n`
        : `deployed:  epoch ${result.restoredEpoch} (the best checkpoint)\n`,
    );
    if (result.test !== undefined) {
      io.out(`test split (${result.splits.test.join(', ')}):\n`);
      for (const [name, metrics] of Object.entries(result.test)) io.out(metricsLine(name, metrics));
    }
    return 0;
  },
};
