import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/options.js';
import { writeEnviCube } from '../../src/io/envi/index.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { DatasetError } from '../../src/train/dataset-item.js';
import { trainingStages } from '../../src/train/operator-stages.js';
import { evaluateScene } from '../../src/train/scene-eval.js';
import { SCENE_REFERENCE_CONFIG, TrainrunSchema } from '../../src/train/trainrun-schema.js';

const H = 24;
const W = 20;
const B = 12;

/** A scene of correlated background spectra with a 3x3 target of a different shape at (5, 7). */
async function writeScene(dir: string, withMask = true): Promise<void> {
  await mkdir(dir, { recursive: true });
  const random = seededRandom(11);
  const data = new Float32Array(H * W * B);
  const mask = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const target = y >= 5 && y < 8 && x >= 7 && x < 10;
      mask[p] = target ? 1 : 0;
      const level = 800 + 200 * random();
      for (let b = 0; b < B; b++) {
        const shape = target ? 1 + 0.6 * Math.cos(b) : 1 + 0.3 * Math.sin(b / 2);
        data[p * B + b] = level * shape + 10 * random();
      }
    }
  }
  await writeEnviCube(
    path.join(dir, 'cube.hdr'),
    { lines: H, samples: W, bands: B, data },
    {
      dataType: 12,
      interleave: 'bsq',
      wavelengthUnits: 'index',
    },
  );
  if (withMask) {
    await writeEnviCube(
      path.join(dir, 'mask.hdr'),
      { lines: H, samples: W, bands: 1, data: mask },
      {
        dataType: 1,
        interleave: 'bsq',
      },
    );
  }
}

const tiny = TrainrunSchema.parse({
  ...SCENE_REFERENCE_CONFIG,
  engine: 'wasm',
  model: { bandpass: null, unitNorm: true, hidden: 16, rep: 4 },
  trainer: { epochs: 2, stepsPerEpoch: 2, batchSize: 128 },
});

describe('evaluateScene', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-scene-'));
    await writeScene(path.join(root, 'target-scene'));
    await writeScene(path.join(root, 'no-mask'), false);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('fits both detectors on the scene itself and scores every pixel against the mask', async () => {
    const result = await evaluateScene(path.join(root, 'target-scene'), tiny, { stages: trainingStages });
    expect(result).toMatchObject({ scene: 'target-scene', pixels: H * W, anomalies: 9 });
    expect(Object.keys(result.detectors['deep-svdd']).sort()).toEqual(
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
    // The threshold it used, and the pixels it flagged: recall and IoU cannot exceed flagged / anomalies.
    const deep = result.detectors['deep-svdd'];
    expect(deep).toMatchObject({ quantile: tiny.calibration.quantile, margin: tiny.calibration.margin });
    expect(deep.threshold).toBeGreaterThan(0);
    expect(deep.recall).toBeLessThanOrEqual(deep.flagged / 9);
    expect(deep.iou).toBeLessThanOrEqual(deep.flagged / 9);
    expect(result.pictures).toBeUndefined();
    expect(Object.keys(result.detectors.rx).sort()).toEqual(['ap', 'auroc', 'seconds']);
    // the target differs in spectral shape: RX ranks it first, and so does the unit-normed Deep SVDD
    expect(result.detectors.rx.auroc).toBeGreaterThan(0.99);
    expect(result.detectors['deep-svdd'].auroc).toBeGreaterThan(0.9);
    for (const value of Object.values(result.detectors['deep-svdd'])) {
      expect(Number.isFinite(value) && value >= 0).toBe(true);
    }
  });

  it('is deterministic for a seed', async () => {
    const a = await evaluateScene(path.join(root, 'target-scene'), tiny, { stages: trainingStages });
    const b = await evaluateScene(path.join(root, 'target-scene'), tiny, { stages: trainingStages });
    expect(b.detectors['deep-svdd'].auroc).toBe(a.detectors['deep-svdd'].auroc);
    expect(b.detectors['deep-svdd'].iou).toBe(a.detectors['deep-svdd'].iou);
  });

  it('needs a mask, and no band-pass on a scene without wavelengths', async () => {
    await expect(evaluateScene(path.join(root, 'no-mask'), tiny, { stages: trainingStages })).rejects.toThrow(
      DatasetError,
    );
    const withBandpass = TrainrunSchema.parse({
      ...tiny,
      model: { ...tiny.model, bandpass: { minNm: 700 } },
    });
    await expect(
      evaluateScene(path.join(root, 'target-scene'), withBandpass, { stages: trainingStages }),
    ).rejects.toThrow(OptionError);
  });
});
