/**
 * Runs the literature protocol (`cubestream eval --scene DIR --json`) on every scene of a folder
 * (default `../shared/data`, the 12 ABU scenes) for one or more trainrun configs, one CLI process
 * per scene and config, in sequence, and prints a markdown table (RX, then each config: AUROC, AP,
 * seconds; mean row; wall-clock per process) followed by every result as JSON lines.
 *
 * Usage (from the repository root):
 *   node --import tsx scripts/eval-scenes.ts [--data ../shared/data]
 *     [--config configs/trainrun/scene_reference.yaml --config configs/trainrun/scene_default.yaml]
 *     [--set key=value ...] [--scene abu-urban-5 ...]
 * Without --config the CLI's default (the issue-5 default) runs. `--set` applies to every config.
 * `--in-process` skips the CLI and calls `evaluateScene` directly (faster; for tuning only).
 */
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { applyOverrides, loadConfigFile } from '../src/app/config/load-config.js';
import { validateConfig } from '../src/core/validate.js';
import { trainingStages } from '../src/train/operator-stages.js';
import { evaluateScene, type SceneEvaluation } from '../src/train/scene-eval.js';
import { SCENE_DEFAULT_CONFIG, TrainrunSchema } from '../src/train/trainrun-schema.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(repoRoot, '../shared/data') },
    config: { type: 'string', multiple: true },
    set: { type: 'string', multiple: true },
    scene: { type: 'string', multiple: true },
    'in-process': { type: 'boolean', default: false },
  },
});

interface Row {
  readonly config: string;
  readonly result: SceneEvaluation;
  /** Wall-clock of the whole process (start, read, both detectors), seconds. */
  readonly wall: number;
}

async function runOne(scene: string, config: string | undefined, overrides: string[]): Promise<Row> {
  const label = config === undefined ? 'default' : path.basename(config, '.yaml');
  const started = performance.now();
  if (values['in-process']) {
    const parsed =
      config === undefined
        ? validateConfig(TrainrunSchema, applyOverrides(SCENE_DEFAULT_CONFIG, overrides), '--set')
        : await loadConfigFile(TrainrunSchema, config, overrides);
    const result = await evaluateScene(scene, parsed, { stages: trainingStages });
    return { config: label, result, wall: (performance.now() - started) / 1000 };
  }
  const args = ['--import', 'tsx', path.join(repoRoot, 'src/app/cli.ts'), 'eval', '--scene', scene, '--json'];
  if (config !== undefined) args.push('--config', config);
  for (const o of overrides) args.push('--set', o);
  const child = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`eval --scene ${scene} failed (${child.status}): ${child.stderr}`);
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return {
    config: label,
    result: JSON.parse(line) as SceneEvaluation,
    wall: (performance.now() - started) / 1000,
  };
}

const fmt = (v: number, digits = 4): string => v.toFixed(digits);

async function main(): Promise<void> {
  const data = path.resolve(values.data);
  const names =
    values.scene ??
    (await readdir(data, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  const configs: (string | undefined)[] = values.config ?? [undefined];
  const overrides = values.set ?? [];
  const rows: Row[] = [];
  for (const name of names) {
    for (const config of configs) {
      const row = await runOne(path.join(data, name), config, overrides);
      rows.push(row);
      process.stderr.write(
        `${name} ${row.config}: deep-svdd ${fmt(row.result.detectors['deep-svdd'].auroc)} rx ${fmt(row.result.detectors.rx.auroc)} (${row.wall.toFixed(1)} s)\n`,
      );
    }
  }
  const labels = [...new Set(rows.map((r) => r.config))];
  const head = ['scene', 'RX AUROC', 'RX AP', 'RX s'];
  for (const label of labels) head.push(`${label} AUROC`, `${label} AP`, `${label} s`, `${label} wall s`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const sums = new Array<number>(head.length).fill(0);
  const isSeconds = (cell: number): boolean => head[cell + 1]?.endsWith(' s') ?? false;
  for (const name of names) {
    const mine = rows.filter((r) => r.result.scene === name);
    const first = mine[0];
    if (first === undefined) continue;
    const cells = [
      first.result.detectors.rx.auroc,
      first.result.detectors.rx.ap,
      first.result.detectors.rx.seconds,
    ];
    for (const label of labels) {
      const row = mine.find((r) => r.config === label);
      const deep = row?.result.detectors['deep-svdd'];
      cells.push(
        deep?.auroc ?? Number.NaN,
        deep?.ap ?? Number.NaN,
        deep?.seconds ?? Number.NaN,
        row?.wall ?? Number.NaN,
      );
    }
    cells.forEach((v, i) => {
      sums[i + 1] = (sums[i + 1] ?? 0) + v;
    });
    lines.push(`| ${name} | ${cells.map((v, i) => fmt(v, isSeconds(i) ? 1 : 4)).join(' | ')} |`);
  }
  const means = sums.slice(1).map((v, i) => (isSeconds(i) ? '' : `**${fmt(v / names.length)}**`));
  lines.push(`| **mean** | ${means.join(' | ')} |`);
  const worst = labels.map((label) => {
    let gap = Number.POSITIVE_INFINITY;
    let at = '';
    for (const r of rows.filter((x) => x.config === label)) {
      const d = r.result.detectors['deep-svdd'].auroc - r.result.detectors.rx.auroc;
      if (d < gap) {
        gap = d;
        at = r.result.scene;
      }
    }
    return `${label}: worst AUROC vs RX ${gap >= 0 ? '+' : ''}${fmt(gap)} (${at})`;
  });
  process.stdout.write(`${lines.join('\n')}\n\n${worst.join('\n')}\n\n`);
  for (const row of rows)
    process.stdout.write(`${JSON.stringify({ config: row.config, wall: row.wall, ...row.result })}\n`);
}

await main();
