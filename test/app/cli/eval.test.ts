import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/app/cli/main.js';
import { writeEnviCube } from '../../../src/io/envi/index.js';
import { saveBundle } from '../../../src/model/bundle.js';
import { initProjection } from '../../../src/model/deep-svdd-params.js';
import { deepSvddToBundle } from '../../../src/model/detector-bundle.js';
import { captureIO } from '../../helpers/capture-io.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sharedData = path.resolve(repoRoot, '../shared/data');
const present = existsSync(path.join(sharedData, 'abu-urban-2', 'cube.hdr'));
if (!present && process.env.CI !== 'true') {
  console.warn(`skipping the real-scene eval test: ${sharedData} is missing`);
}

describe('cubestream eval: command line', () => {
  it('needs --model with --data, or --scene alone (exit code 2)', async () => {
    const none = captureIO();
    expect(await runCli(['eval'], none)).toBe(2);
    expect(none.stderr()).toMatch(/--model DIR --data DIR, or --scene DIR/);
    const both = captureIO();
    expect(await runCli(['eval', '--scene', 'x', '--model', 'y'], both)).toBe(2);
    const configWithModel = captureIO();
    expect(await runCli(['eval', '--model', 'y', '--data', 'z', '--config', 'c.yaml'], configWithModel)).toBe(
      2,
    );
    const noData = captureIO();
    expect(await runCli(['eval', '--model', 'y'], noData)).toBe(2);
    expect(noData.stderr()).toMatch(/--data/);
  });
});

describe('cubestream eval --model', () => {
  let root: string;
  let model: string;
  const wavelengths = [700, 750, 800, 850];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-eval-cli-'));
    model = path.join(root, 'model');
    const bands = wavelengths.length;
    const params = {
      wavelengthsNm: Float32Array.from(wavelengths),
      unitNorm: false,
      zscore: { mean: new Float32Array(bands).fill(100), std: new Float32Array(bands).fill(10) },
      project: initProjection(bands, { hidden: 8, rep: 3, seed: 1 }),
      center: new Float32Array(3),
    };
    const calibration = {
      threshold: 1,
      quantile: 0.999,
      margin: 2,
      scoreQuantiles: { '0.999': 0.5 },
      pixels: 10,
    };
    await saveBundle(model, deepSvddToBundle(params, { version: 'test-1', calibration }));
    // data: background at 100, two anomalous pixels far away (label 1)
    for (const [name, bandsAt] of [
      ['good', wavelengths],
      ['shifted', [700, 760, 800, 850]],
    ] as const) {
      const dir = path.join(root, name);
      await mkdir(dir);
      const data = new Float32Array(4 * 5 * bands).fill(100);
      const mask = new Float32Array(20);
      for (const p of [3, 12]) {
        mask[p] = 1;
        data.fill(400, p * bands, (p + 1) * bands);
      }
      await writeEnviCube(
        path.join(dir, 'a.hdr'),
        { lines: 4, samples: 5, bands, data, wavelengths: bandsAt },
        {
          dataType: 4,
          interleave: 'bip',
        },
      );
      await writeEnviCube(
        path.join(dir, 'a_mask.hdr'),
        { lines: 4, samples: 5, bands: 1, data: mask },
        {
          dataType: 1,
          interleave: 'bsq',
        },
      );
    }
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prints one JSON object with the metrics at the bundle threshold (every cube without a test split)', async () => {
    const io = captureIO();
    expect(await runCli(['eval', '--model', model, '--data', path.join(root, 'good'), '--json'], io)).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(result).toMatchObject({
      version: 'test-1',
      detector: 'deep-svdd',
      split: 'all',
      cubes: ['a'],
      pixels: 20,
      anomalies: 2,
      threshold: 1,
    });
    for (const key of ['auroc', 'ap', 'iou', 'precision', 'recall', 'f1', 'falseAlarmRate', 'seconds']) {
      expect(typeof result[key], key).toBe('number');
    }
    expect(result.auroc).toBe(1); // the two far pixels score highest
  });

  it("uses the manifest's test split, and prints text without --json", async () => {
    await writeFile(
      path.join(root, 'good', 'manifest.json'),
      JSON.stringify({ splits: { train: ['a'], test: [] } }),
    );
    const io = captureIO();
    expect(await runCli(['eval', '--model', model, '--data', path.join(root, 'good')], io)).toBe(0);
    expect(io.stdout()).toMatch(/deep-svdd model test-1 on the test split/);
    expect(io.stdout()).toMatch(/0 pixels/);
    const all = captureIO();
    expect(
      await runCli(
        ['eval', '--model', model, '--data', path.join(root, 'good'), '--split', 'all', '--json'],
        all,
      ),
    ).toBe(0);
    expect(JSON.parse(all.stdout())).toMatchObject({ split: 'all', cubes: ['a'], pixels: 20 });
    const bad = captureIO();
    expect(
      await runCli(['eval', '--model', model, '--data', path.join(root, 'good'), '--split', 'val'], bad),
    ).toBe(2);
    await rm(path.join(root, 'good', 'manifest.json'));
  });

  it('refuses data whose wavelengths differ from the model, naming the band', async () => {
    const io = captureIO();
    expect(await runCli(['eval', '--model', model, '--data', path.join(root, 'shifted'), '--json'], io)).toBe(
      1,
    );
    expect(io.stderr()).toMatch(/band 1: model 750\.00, frame 760\.00/);
    expect(io.stdout()).toBe('');
  });
});

describe.skipIf(!present && process.env.CI !== 'true')('cubestream eval --scene on a real ABU scene', () => {
  it('prints exactly one JSON object of the documented shape, RX AUROC as in ../shared/data/README.md', async () => {
    expect(present, `${sharedData} is missing (required in CI)`).toBe(true);
    const io = captureIO();
    const code = await runCli(
      ['eval', '--scene', path.join(sharedData, 'abu-urban-2'), '--json', '--set', 'trainer.epochs=2'],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const text = io.stdout();
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(text) as {
      scene: string;
      pixels: number;
      anomalies: number;
      detectors: Record<string, Record<string, number>>;
    };
    expect(Object.keys(result)).toEqual(['scene', 'pixels', 'anomalies', 'detectors']);
    expect(result).toMatchObject({ scene: 'abu-urban-2', pixels: 10_000, anomalies: 155 });
    expect(Object.keys(result.detectors).sort()).toEqual(['deep-svdd', 'rx']);
    expect(Object.keys(result.detectors['deep-svdd'] ?? {}).sort()).toEqual(
      ['ap', 'auroc', 'f1', 'iou', 'precision', 'recall', 'seconds'].sort(),
    );
    expect(Object.keys(result.detectors.rx ?? {}).sort()).toEqual(['ap', 'auroc', 'seconds']);
    expect(Math.abs((result.detectors.rx?.auroc as number) - 0.9946)).toBeLessThan(1e-3);
    expect(result.detectors['deep-svdd']?.auroc).toBeGreaterThan(0.5);
  });
});
