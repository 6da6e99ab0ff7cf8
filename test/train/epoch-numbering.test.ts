import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEnviCube } from '../../src/io/envi/index.js';
import { loadBundle } from '../../src/model/bundle.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { CHECKPOINT_INDEX } from '../../src/train/callbacks/checkpoint.js';
import { trainingStages } from '../../src/train/operator-stages.js';
import { type TrainRunResult, trainRun } from '../../src/train/train-run.js';
import { TrainrunSchema } from '../../src/train/trainrun-schema.js';

const H = 12;
const W = 12;
const B = 6;

/** Four small cubes of smooth spectra, each with a mask and two bright anomalous pixels. */
async function writeCubes(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const random = seededRandom(5);
  for (const name of ['a', 'b', 'c', 'd']) {
    const data = new Float32Array(H * W * B);
    const mask = new Float32Array(H * W);
    for (let p = 0; p < H * W; p++) {
      const anomalous = p === 20 || p === 77;
      mask[p] = anomalous ? 1 : 0;
      for (let b = 0; b < B; b++) data[p * B + b] = (anomalous ? 3 : 1) * (0.3 + 0.05 * b) + 0.02 * random();
    }
    await writeEnviCube(
      path.join(dir, `${name}.hdr`),
      { lines: H, samples: W, bands: B, data, wavelengths: [700, 750, 800, 850, 900, 950] },
      { dataType: 4, interleave: 'bip' },
    );
    await writeEnviCube(
      path.join(dir, `${name}_mask.hdr`),
      { lines: H, samples: W, bands: 1, data: mask },
      { dataType: 1, interleave: 'bsq' },
    );
  }
}

/** Every number N of "epoch N/M" progress lines, in order. */
function loggedEpochs(log: string): number[] {
  return [...log.matchAll(/^epoch (\d+)\/5 {2}loss/gm)].map((m) => Number(m[1]));
}

describe('epoch numbering: one number per epoch in the log, metrics.jsonl, checkpoints and the deploy message', () => {
  let root: string;
  let log = '';
  let result: TrainRunResult;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-epochs-'));
    const data = path.join(root, 'cubes');
    await writeCubes(data);
    const config = TrainrunSchema.parse({
      name: 'epochs',
      seed: 1,
      out: path.join(root, 'runs'),
      engine: 'wasm',
      data: { dir: data, blockRows: 6, split: { val: 0.25, test: 0.25, seed: 0 } },
      model: { bandpass: null, unitNorm: false, hidden: 8, rep: 4 },
      trainer: { epochs: 5, batchSize: 64, stepsPerEpoch: 2 },
      callbacks: {
        // The learning rate never changes: best at epoch 1, a stop after epoch 3, whatever the data.
        earlyStopping: { monitor: 'lr', mode: 'max', patience: 2 },
        // The best by loss: whichever epoch it is, every place must name the same one.
        checkpoint: { monitor: 'loss', mode: 'min', saveTopK: 1, saveLast: true, restoreBest: true },
      },
      rx: { enabled: false },
      report: { frames: 0 },
    });
    result = await trainRun(config, {
      stages: trainingStages,
      write: (text) => {
        log += text;
      },
    });
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('numbers epochs from 1 in the progress lines, the history and metrics.jsonl', async () => {
    expect(loggedEpochs(log)).toEqual([1, 2, 3]);
    expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3]);
    const lines = (await readFile(path.join(result.runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { epoch: number }).epoch)).toEqual([1, 2, 3]);
    expect(log).toContain('stopped after epoch 3: lr did not improve for 2 epochs (best 0.001 at epoch 1)');
  });

  it('names the same best epoch in checkpoints/index.json, its folder and bundle, the deploy message and summary.json', async () => {
    const losses = result.history.map((r) => r.logs.loss as number);
    const bestByLoss = (losses.indexOf(Math.min(...losses)) as number) + 1;
    const index = JSON.parse(
      await readFile(path.join(result.runDir, 'checkpoints', CHECKPOINT_INDEX), 'utf8'),
    ) as { best: { epoch: number; path: string }[]; last: { epoch: number; path: string } };
    expect(index.best[0]?.epoch).toBe(bestByLoss);
    expect(path.basename(index.best[0]?.path as string)).toBe(`epoch-${String(bestByLoss).padStart(3, '0')}`);
    expect(index.last.epoch).toBe(3);
    expect(path.basename(index.last.path)).toBe('epoch-003');
    const folders = (await readdir(path.join(result.runDir, 'checkpoints'))).filter((f) =>
      f.startsWith('epoch-'),
    );
    expect(folders.sort()).toEqual(
      [...new Set([`epoch-${String(bestByLoss).padStart(3, '0')}`, 'epoch-003'])].sort(),
    );

    const checkpoint = await loadBundle(index.best[0]?.path as string);
    expect(checkpoint.manifest.version).toMatch(new RegExp(`-epoch-${String(bestByLoss).padStart(3, '0')}$`));
    expect(checkpoint.card).toMatchObject({ epoch: bestByLoss });

    expect(log).toContain(`deploying the best checkpoint: epoch ${bestByLoss} (loss `);
    expect(result.restoredEpoch).toBe(bestByLoss);
    const summary = JSON.parse(await readFile(path.join(result.runDir, 'summary.json'), 'utf8')) as {
      restoredEpoch: number;
      epochs: number;
    };
    expect(summary).toMatchObject({ restoredEpoch: bestByLoss, epochs: 3 });
  });
});
