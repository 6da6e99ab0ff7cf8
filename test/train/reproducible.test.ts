import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/app/cli/main.js';
import { toFloat32 } from '../../src/io/safetensors.js';
import { loadBundle } from '../../src/model/bundle.js';
import { trainingStages } from '../../src/train/operator-stages.js';
import { trainRun } from '../../src/train/train-run.js';
import { TrainrunSchema } from '../../src/train/trainrun-schema.js';
import { captureIO } from '../helpers/capture-io.js';

/** All weights of a bundle as plain arrays, by name. */
async function weightsOf(dir: string): Promise<Record<string, number[]>> {
  const bundle = await loadBundle(dir);
  return Object.fromEntries([...bundle.weights].map(([name, tensor]) => [name, [...toFloat32(tensor)]]));
}

describe('a seeded training run', () => {
  let root: string;
  let data: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-repro-'));
    data = path.join(root, 'sim');
    const io = captureIO();
    const code = await runCli(
      ['simulate', '--out', data, '--frames', '3', '--width', '32', '--lines', '24', '--seed', '4'],
      io,
    );
    expect(code, io.stderr()).toBe(0);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const config = (seed: number) =>
    TrainrunSchema.parse({
      name: 'repro',
      seed,
      out: path.join(root, 'runs'),
      engine: 'wasm',
      data: { dir: data, blockRows: 8, split: { val: 0, test: 0 } },
      model: { bandpass: { minNm: 700 }, unitNorm: true, hidden: 16, rep: 4 },
      trainer: {
        epochs: 2,
        batchSize: 256,
        stages: [
          { fromEpoch: 0, trainable: ['project', 'boundary'] },
          { fromEpoch: 1, trainable: ['zscore', 'project', 'boundary'] },
        ],
      },
      rx: { enabled: false },
      report: { frames: 0 },
    });

  it('gives bit-identical weights and calibration twice with the same seed, and others with another', async () => {
    const a = await trainRun(config(7), { stages: trainingStages });
    const b = await trainRun(config(7), { stages: trainingStages });
    const c = await trainRun(config(8), { stages: trainingStages });
    expect(a.runDir).not.toBe(b.runDir);
    const [wa, wb, wc] = await Promise.all([
      weightsOf(a.modelDir),
      weightsOf(b.modelDir),
      weightsOf(c.modelDir),
    ]);
    expect(Object.keys(wa).sort()).toEqual([
      'center.c',
      'project.W1',
      'project.W2',
      'project.b1',
      'zscore.mean',
      'zscore.std',
    ]);
    expect(wb).toEqual(wa);
    expect(b.calibration).toEqual(a.calibration);
    expect(b.history.map((r) => r.logs.loss)).toEqual(a.history.map((r) => r.logs.loss));
    expect(wc['project.W1']).not.toEqual(wa['project.W1']);
  });
});
