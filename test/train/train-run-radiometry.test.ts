import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEnviCube } from '../../src/io/envi/index.js';
import { loadBundle } from '../../src/model/bundle.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { trainingStages } from '../../src/train/operator-stages.js';
import { trainRun } from '../../src/train/train-run.js';
import { TrainrunSchema } from '../../src/train/trainrun-schema.js';

describe('a training run on cubes that state their radiometry', () => {
  let root: string;
  let data: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-train-radiometry-'));
    data = path.join(root, 'cubes');
    await mkdir(data);
    // Two 16x16x6 cubes of smooth random spectra whose headers state reflectance.
    const random = seededRandom(2);
    for (const name of ['a', 'b']) {
      const values = Float32Array.from(
        { length: 16 * 16 * 6 },
        (_, i) => 0.3 + 0.05 * (i % 6) + 0.02 * random(),
      );
      await writeEnviCube(
        path.join(data, `${name}.hdr`),
        { lines: 16, samples: 16, bands: 6, data: values, wavelengths: [700, 750, 800, 850, 900, 950] },
        { dataType: 4, interleave: 'bil', radiometry: 'reflectance' },
      );
    }
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('records it in the input of the Deep SVDD and RX bundles', async () => {
    const config = TrainrunSchema.parse({
      name: 'radiometry',
      seed: 1,
      out: path.join(root, 'runs'),
      engine: 'wasm',
      data: { dir: data, blockRows: 8, split: { val: 0, test: 0 } },
      model: { bandpass: null, unitNorm: true, hidden: 8, rep: 4 },
      trainer: { epochs: 1, batchSize: 128 },
      rx: { enabled: true },
      report: { frames: 0 },
    });
    const result = await trainRun(config, { stages: trainingStages });
    expect((await loadBundle(result.modelDir)).manifest.input.radiometry).toBe('reflectance');
    expect(result.rxDir).toBeDefined();
    expect((await loadBundle(result.rxDir as string)).manifest.input.radiometry).toBe('reflectance');
  });
});
