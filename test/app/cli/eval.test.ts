import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sceneThresholdBound } from '../../../src/app/cli/commands/eval.js';
import { runCli } from '../../../src/app/cli/main.js';
import { writeEnviCube } from '../../../src/io/envi/index.js';
import { saveBundle } from '../../../src/model/bundle.js';
import { initProjection } from '../../../src/model/deep-svdd-params.js';
import { deepSvddToBundle } from '../../../src/model/detector-bundle.js';
import { seededRandom } from '../../../src/model/seeded-random.js';
import { captureIO } from '../../helpers/capture-io.js';

/** Width and height of a PNG file. */
async function pngSize(file: string): Promise<[number, number]> {
  const png = PNG.sync.read(await readFile(file));
  return [png.width, png.height];
}

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

  it('documents --out in --help, and neither eval nor train help names an issue number', async () => {
    for (const command of ['eval', 'train']) {
      const io = captureIO();
      expect(await runCli([command, '--help'], io)).toBe(0);
      expect(io.stdout(), command).not.toMatch(/issue[- ]?\d|#\d/i);
    }
    const io = captureIO();
    await runCli(['eval', '--help'], io);
    expect(io.stdout()).toMatch(/--out DIR +also write the result to DIR\/eval\.json/);
    expect(io.stdout()).toMatch(/default: the scene default, configs\/trainrun\/scene_default\.yaml/);
  });

  it('explains from the numbers why recall and IoU are low at a high-quantile threshold', () => {
    const line = sceneThresholdBound({ quantile: 0.999, margin: 2, flagged: 4 }, 10_000, 155);
    expect(line).toBe(
      "  why IoU and recall are low: τ at the 0.999 quantile of the scene's own scores (x 2) flags at most 0.1 % of its pixels (10 of 10000; 4 here), while the anomalies cover 1.6 % (155), so recall and IoU cannot exceed 4/155 = 0.026 however well the scores rank (AUROC and AP do not depend on τ)\n",
    );
    // No bound to explain when as many pixels are flagged as are anomalous.
    expect(sceneThresholdBound({ quantile: 0.999, margin: 2, flagged: 20 }, 10_000, 15)).toBeUndefined();
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

  it('--out DIR writes eval.json (what --json prints) and a heatmap and mask PNG per cube', async () => {
    const out = path.join(root, 'eval-out');
    const asJson = captureIO();
    expect(
      await runCli(
        ['eval', '--model', model, '--data', path.join(root, 'good'), '--out', out, '--json'],
        asJson,
      ),
    ).toBe(0);
    const printed = JSON.parse(asJson.stdout()) as Record<string, unknown>;
    const written = JSON.parse(await readFile(path.join(out, 'eval.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(written).toEqual(printed);
    const files = ['a-rgb.png', 'a-scores.png', 'a-mask.png'].map((f) => path.join(out, f));
    expect(written.pictures).toEqual(files);
    expect((await readdir(out)).sort()).toEqual(['a-mask.png', 'a-rgb.png', 'a-scores.png', 'eval.json']);
    expect(await pngSize(path.join(out, 'a-rgb.png'))).toEqual([5, 4]);
    // The figures: the 5x4 cube enlarged 8 times, with a colour bar, labels and captions around it;
    // the heatmap beside the truth, the mask in three panels (prediction, truth, comparison).
    const [heatW, heatH] = await pngSize(path.join(out, 'a-scores.png'));
    expect(heatW).toBeGreaterThan(2 * 8 * 5);
    expect(heatH).toBeGreaterThan(120); // at least the colour bar's height
    const [maskW] = await pngSize(path.join(out, 'a-mask.png'));
    expect(maskW).toBeGreaterThan(3 * 8 * 5);

    const text = captureIO();
    expect(
      await runCli(['eval', '--model', model, '--data', path.join(root, 'good'), '--out', out], text),
    ).toBe(0);
    expect(text.stdout()).toContain(`wrote ${path.join(out, 'eval.json')} and 3 pictures to ${out}\n`);
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

describe('cubestream eval --scene on a small synthetic scene', () => {
  let root: string;
  let scene: string;
  let config: string;
  const H = 24;
  const W = 20;
  const B = 8;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-eval-scene-'));
    scene = path.join(root, 'tiny-scene');
    await mkdir(scene);
    // Correlated background; a 3x3 target of another spectral shape: 9 of 480 pixels (1.9 %).
    const random = seededRandom(11);
    const data = new Float32Array(H * W * B);
    const mask = new Float32Array(H * W);
    for (let p = 0; p < H * W; p++) {
      const [y, x] = [Math.floor(p / W), p % W];
      const target = y >= 5 && y < 8 && x >= 7 && x < 10;
      mask[p] = target ? 1 : 0;
      const level = 800 + 200 * random();
      for (let b = 0; b < B; b++)
        data[p * B + b] =
          level * (target ? 1 + 0.6 * Math.cos(b) : 1 + 0.3 * Math.sin(b / 2)) + 10 * random();
    }
    await writeEnviCube(
      path.join(scene, 'cube.hdr'),
      { lines: H, samples: W, bands: B, data },
      { dataType: 4, interleave: 'bip', wavelengthUnits: 'index' },
    );
    await writeEnviCube(
      path.join(scene, 'mask.hdr'),
      { lines: H, samples: W, bands: 1, data: mask },
      { dataType: 1, interleave: 'bsq' },
    );
    config = path.join(root, 'tiny.yaml');
    await writeFile(
      config,
      [
        'name: tiny',
        'engine: wasm',
        'model: { bandpass: null, unitNorm: true, hidden: 8, rep: 4 }',
        'trainer: { epochs: 1, stepsPerEpoch: 2, batchSize: 128 }',
        'calibration: { quantile: 0.999, margin: 2 }',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prints the threshold it used and, when few pixels are flagged, why recall and IoU are low', async () => {
    const out = path.join(root, 'out');
    const io = captureIO();
    expect(await runCli(['eval', '--scene', scene, '--config', config, '--out', out], io), io.stderr()).toBe(
      0,
    );
    const text = io.stdout();
    const threshold = text.match(
      /^ {2}threshold: τ ([\d.e+-]+) = quantile 0\.999 of the scene's 480 scores x 2; (\d+) pixels flagged \(([\d.]+) %\)$/m,
    );
    expect(threshold, text).not.toBeNull();
    const flagged = Number(threshold?.[2]);
    expect(flagged).toBeLessThan(9); // at most 0.1 % of 480 pixels score above the 0.999 quantile
    expect(text).toContain(
      `flags at most 0.1 % of its pixels (0 of 480; ${flagged} here), while the anomalies cover 1.9 % (9), so recall and IoU cannot exceed ${flagged}/9 = ${(flagged / 9).toPrecision(2)}`,
    );
    const written = JSON.parse(await readFile(path.join(out, 'eval.json'), 'utf8')) as {
      detectors: { 'deep-svdd': Record<string, number> };
      pictures: string[];
    };
    expect(written.detectors['deep-svdd']).toMatchObject({ quantile: 0.999, margin: 2, flagged });
    expect(written.detectors['deep-svdd'].recall).toBeLessThanOrEqual(flagged / 9);
    expect(written.pictures).toEqual(
      ['tiny-scene-rgb.png', 'tiny-scene-scores.png', 'tiny-scene-mask.png'].map((f) => path.join(out, f)),
    );
    expect(await pngSize(path.join(out, 'tiny-scene-rgb.png'))).toEqual([W, H]);
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
      [
        'ap',
        'auroc',
        'f1',
        'iou',
        'precision',
        'recall',
        'threshold',
        'quantile',
        'margin',
        'flagged',
        'seconds',
      ].sort(),
    );
    expect(result.detectors['deep-svdd']).toMatchObject({ quantile: 0.999, margin: 2 });
    // Recall and IoU are bounded by flagged / anomalous.
    const deep = result.detectors['deep-svdd'] as Record<string, number>;
    expect(deep.recall).toBeLessThanOrEqual((deep.flagged as number) / result.anomalies + 1e-12);
    expect(Object.keys(result.detectors.rx ?? {}).sort()).toEqual(['ap', 'auroc', 'seconds']);
    expect(Math.abs((result.detectors.rx?.auroc as number) - 0.9946)).toBeLessThan(1e-3);
    expect(result.detectors['deep-svdd']?.auroc).toBeGreaterThan(0.5);
  });
});
