import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/app/cli/main.js';
import { writeEnviCube } from '../../../src/io/envi/index.js';
import { loadBundle } from '../../../src/model/bundle.js';
import { deepSvddFromBundle } from '../../../src/model/detector-bundle.js';
import { captureIO } from '../../helpers/capture-io.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LENTILS = path.join(repoRoot, 'configs/trainrun/lentils.yaml');

describe('cubestream train (simulated lentils)', () => {
  let root: string;
  let data: string;
  let out: string;
  let runDir: string;
  let trainOut: string;
  let trainErr: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-train-cli-'));
    data = path.join(root, 'sim');
    out = path.join(root, 'runs');
    const sim = captureIO();
    const simulated = await runCli(
      [
        'simulate',
        '--out',
        data,
        '--frames',
        '8',
        '--width',
        '128',
        '--lines',
        '64',
        '--seed',
        '3',
        '--anomaly-rate',
        '0.05',
      ],
      sim,
    );
    expect(simulated, sim.stderr()).toBe(0);
    const io = captureIO();
    const code = await runCli(
      ['train', '--config', LENTILS, '--data', data, '--out', out, '--set', 'trainer.epochs=3'],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    trainOut = io.stdout();
    trainErr = io.stderr();
    const [run] = await readdir(out);
    runDir = path.join(out, run as string);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prints the run, the bundle, the threshold and the test metrics', () => {
    expect(trainOut).toContain(`run:       ${runDir}`);
    expect(trainOut).toContain(`model:     ${path.join(runDir, 'model')}`);
    expect(trainOut).toMatch(/threshold: [\d.e+-]+ = quantile 0.999 of \d+ training scores x 2/);
    expect(trainOut).toMatch(/deep-svdd AUROC/);
    expect(path.basename(runDir)).toMatch(/^lentils-\d{8}T\d{6}Z$/);
  });

  it('writes metrics.jsonl, curves, frame pictures, checkpoints and summary.json into the run folder', async () => {
    const lines = (await readFile(path.join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.length).toBeLessThanOrEqual(3);
    expect(records[0]).toMatchObject({ epoch: 1, lr: 0.001, trainable: ['project', 'boundary'] });
    expect(records.map((r) => r.epoch)).toEqual(records.map((_, i) => i + 1));
    for (const key of ['loss', 'val_loss', 'val_auroc', 'val_ap', 'val_iou', 'val_f1', 'threshold']) {
      expect(typeof records[0]?.[key], key).toBe('number');
    }
    const files = await readdir(runDir);
    for (const file of [
      'config.yaml',
      'curve-loss.png',
      'curve-lr.png',
      'curve-val_auroc.png',
      'summary.json',
    ]) {
      expect(files).toContain(file);
    }
    const frames = await readdir(path.join(runDir, 'frames'));
    expect(frames.filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(3);
    const png = await readFile(
      path.join(runDir, 'frames', frames.find((f) => f.endsWith('-mask.png')) as string),
    );
    expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    const index = JSON.parse(await readFile(path.join(runDir, 'checkpoints', 'index.json'), 'utf8')) as {
      best: { path: string }[];
    };
    expect((await stat(index.best[0]?.path as string)).isDirectory()).toBe(true);
    await loadBundle(index.best[0]?.path as string); // a checkpoint is a loadable bundle
  });

  it('names each epoch by one number in the progress lines, metrics.jsonl, checkpoints/index.json and the deploy messages', async () => {
    const records = (await readFile(path.join(runDir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { epoch: number });
    const logged = [...trainErr.matchAll(/^epoch (\d+)\/3 {2}loss/gm)].map((m) => Number(m[1]));
    expect(logged).toEqual(records.map((r) => r.epoch));
    const index = JSON.parse(await readFile(path.join(runDir, 'checkpoints', 'index.json'), 'utf8')) as {
      best: { epoch: number; path: string }[];
      last: { epoch: number };
    };
    const best = index.best[0]?.epoch as number;
    expect(path.basename(index.best[0]?.path as string)).toBe(`epoch-${String(best).padStart(3, '0')}`);
    expect(index.last.epoch).toBe(records.length);
    // lentils.yaml restores the best checkpoint: stderr, stdout and summary.json name its epoch.
    expect(trainErr).toContain(`deploying the best checkpoint: epoch ${best} (val_auroc `);
    expect(trainOut).toContain(`deployed:  epoch ${best} (the best checkpoint)\n`);
    const summary = JSON.parse(await readFile(path.join(runDir, 'summary.json'), 'utf8')) as {
      restoredEpoch: number;
    };
    expect(summary.restoredEpoch).toBe(best);
    // An early stop (val_auroc, minDelta 1e-4) names the last epoch that improved by more than
    // minDelta: the best checkpoint (no minDelta) is that one or a later, slightly better one.
    const stop = trainErr.match(
      /improve by more than 0\.0001 for \d+ epochs \(last such improvement: [\d.e+-]+ at epoch (\d+)\)/,
    );
    if (stop !== null) expect(Number(stop[1])).toBeLessThanOrEqual(best);
  });

  it('saves a bundle that loads, with the calibrated threshold and a model card of data, config, metrics', async () => {
    const bundle = await loadBundle(path.join(runDir, 'model'));
    expect(bundle.manifest.detector).toBe('deep-svdd');
    expect(bundle.manifest.version).toBe(path.basename(runDir));
    expect(bundle.manifest.input.bands).toBe(61);
    expect(bundle.calibration).toMatchObject({ quantile: 0.999, margin: 2 });
    expect(bundle.calibration.threshold).toBeGreaterThan(0);
    const params = deepSvddFromBundle(bundle);
    expect(params.unitNorm).toBe(false);
    expect(params.bandpass).toBeUndefined();
    const card = bundle.card as Record<string, Record<string, unknown>>;
    expect(card.data).toMatchObject({
      splitSource: 'fraction',
      normalClassIds: [1, 2, 4],
      anomalyClassIds: [3, 5, 6, 7],
    });
    expect(card.data?.files).toHaveLength(8);
    expect(card.config).toMatchObject({ name: 'lentils', model: { unitNorm: false } });
    expect(card.metrics?.test).toBeTruthy();
    expect(card.hashes).toMatchObject({ weightsSha256: bundle.weightsSha256 });
    const rx = await loadBundle(path.join(runDir, 'rx'));
    expect(rx.manifest.detector).toBe('rx');
  });

  it('meets the acceptance target: `eval --model` on its test split, AUROC >= 0.98 and IoU >= 0.7 at the deployed threshold', async () => {
    const io = captureIO();
    const code = await runCli(['eval', '--model', path.join(runDir, 'model'), '--data', data, '--json'], io);
    expect(code, io.stderr()).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] as string) as Record<string, unknown>;
    const summary = JSON.parse(await readFile(path.join(runDir, 'summary.json'), 'utf8')) as {
      splits: { test: string[] };
      test: { 'deep-svdd': { iou: number; auroc: number } };
    };
    expect(result).toMatchObject({ detector: 'deep-svdd', split: 'test', cubes: summary.splits.test });
    expect(result.auroc).toBeGreaterThanOrEqual(0.98);
    expect(result.iou).toBeGreaterThanOrEqual(0.7);
    expect(result.iou).toBeCloseTo(summary.test['deep-svdd'].iou, 10);
    expect(result.anomalies).toBeGreaterThan(0);
  });

  it('fails with exit code 2 without --config and 1 with the bad config path named', async () => {
    const noConfig = captureIO();
    expect(await runCli(['train', '--data', data], noConfig)).toBe(2);
    expect(noConfig.stderr()).toMatch(/--config/);
    const bad = captureIO();
    expect(
      await runCli(['train', '--config', LENTILS, '--data', data, '--set', 'trainer.epochs=0'], bad),
    ).toBe(1);
    expect(bad.stderr()).toMatch(/trainer\.epochs/);
    const missing = captureIO();
    expect(
      await runCli(['train', '--config', LENTILS, '--data', path.join(root, 'no-such-data')], missing),
    ).toBe(1);
    expect(missing.stderr()).toMatch(/no-such-data/);
  });

  it('refuses a band-pass on cubes without wavelengths, naming model.bandpass', async () => {
    const dir = path.join(root, 'index-only');
    await mkdir(dir);
    await writeEnviCube(
      path.join(dir, 'a.hdr'),
      { lines: 2, samples: 2, bands: 3, data: new Float32Array(12) },
      {
        dataType: 4,
        interleave: 'bip',
        wavelengthUnits: 'index',
      },
    );
    const io = captureIO();
    const reference = path.join(repoRoot, 'configs/trainrun/deep_svdd.yaml');
    expect(
      await runCli(['train', '--config', reference, '--data', dir, '--out', path.join(root, 'other')], io),
    ).toBe(1);
    expect(io.stderr()).toMatch(/model\.bandpass.*\(band indices only\): set model\.bandpass to null/);
  });
});
