import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/options.js';
import { initProjection } from '../../src/model/deep-svdd-params.js';
import { initEngine } from '../../src/scoring/engine.js';
import { EarlyStopping } from '../../src/train/callbacks/early-stopping.js';
import { ReduceLROnPlateau } from '../../src/train/callbacks/reduce-lr-on-plateau.js';
import { buildCallbacks } from '../../src/train/callbacks-from-config.js';
import type { DeepSvddInit } from '../../src/train/deep-svdd-variables.js';
import { createProgress, epochLine, formatEta } from '../../src/train/progress.js';
import { type EpochRecord, TrainingDivergedError, trainDeepSvdd } from '../../src/train/trainer.js';
import { smoothPixels } from './train-fixtures.js';

const C = 6;

function pixels(n: number, seed: number): Float32Array {
  return smoothPixels(n, C, seed);
}

function init(): DeepSvddInit {
  return {
    zscore: { mean: new Float32Array(C), std: new Float32Array(C).fill(0.3) },
    project: initProjection(C, { hidden: 16, rep: 4, seed: 2 }),
    center: Float32Array.of(0.2, -0.1, 0.05, 0.3),
  };
}

describe('trainDeepSvdd', () => {
  let dir: string;

  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-trainer-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs epochs of batches, lowers the loss and records every epoch', async () => {
    const data = pixels(1000, 1);
    const records: EpochRecord[] = [];
    const result = await trainDeepSvdd(
      init(),
      { data, bands: C },
      {
        epochs: 4,
        batchSize: 256,
        lr: 1e-2,
        seed: 1,
        onEpochEnd: (record) => {
          records.push(record);
        },
      },
    );
    expect(result.history).toHaveLength(4);
    expect(records.map((r) => r.epoch)).toEqual([1, 2, 3, 4]); // numbered from 1, as the progress lines
    expect(records.every((r) => r.steps === 4)).toBe(true);
    expect(result.steps).toBe(16);
    const losses = result.history.map((r) => r.logs.loss as number);
    expect(losses[3]).toBeLessThan(losses[0] as number);
    expect(result.history[0]?.logs).toMatchObject({ lr: 1e-2 });
    expect(result.stopReasons).toEqual([]);
    expect(result.snapshot.project.W1).toHaveLength(16 * C);
  });

  it('caps steps per epoch', async () => {
    const result = await trainDeepSvdd(
      init(),
      { data: pixels(1000, 1), bands: C },
      {
        epochs: 2,
        batchSize: 100,
        stepsPerEpoch: 3,
      },
    );
    expect(result.history.map((r) => r.steps)).toEqual([3, 3]);
  });

  it('freezes and unfreezes stages by name per the schedule', async () => {
    const start = init();
    const frozenZ = await trainDeepSvdd(
      start,
      { data: pixels(512, 2), bands: C },
      { epochs: 1, batchSize: 128 },
    );
    expect([...frozenZ.snapshot.zscore.mean]).toEqual([...start.zscore.mean]);
    expect([...frozenZ.snapshot.project.W1]).not.toEqual([...start.project.W1]);

    const notes: string[] = [];
    const scheduled = await trainDeepSvdd(
      start,
      { data: pixels(512, 2), bands: C },
      {
        epochs: 2,
        batchSize: 128,
        schedule: [
          { fromEpoch: 1, trainable: ['zscore', 'project', 'boundary'] },
          { fromEpoch: 0, trainable: ['boundary'] },
        ],
        progress: { step: () => undefined, epoch: () => undefined, note: (text) => notes.push(text) },
      },
    );
    expect(scheduled.history.map((r) => r.trainable)).toEqual([
      ['boundary'],
      ['zscore', 'project', 'boundary'],
    ]);
    expect([...scheduled.snapshot.zscore.mean]).not.toEqual([...start.zscore.mean]);
    expect(notes).toEqual(['epoch 2: training zscore, project, boundary']);
  });

  it('stops early when a callback asks, and lowers the learning rate on a plateau', async () => {
    const result = await trainDeepSvdd(
      init(),
      { data: pixels(300, 3), bands: C },
      {
        epochs: 10,
        batchSize: 100,
        validate: () => ({ val_auroc: 0.5 }),
        callbacks: (optimizer) => [
          new EarlyStopping({ monitor: 'val_auroc', mode: 'max', patience: 3 }),
          new ReduceLROnPlateau(optimizer, { monitor: 'val_auroc', mode: 'max', patience: 0, factor: 0.5 }),
        ],
      },
    );
    expect(result.history).toHaveLength(4);
    expect(result.stopReasons[0]).toMatch(/val_auroc did not improve for 3 epochs/);
    expect(result.history.map((r) => r.logs.lr)).toEqual([1e-3, 1e-3, 5e-4, 2.5e-4]);
    expect(result.history[0]?.logs.val_auroc).toBe(0.5);
  });

  it('builds the configured callbacks: checkpoints on disk, val_* monitors fall back to loss without validation', async () => {
    const notes: string[] = [];
    const runDir = path.join(dir, 'run');
    let built: ReturnType<typeof buildCallbacks> | undefined;
    const result = await trainDeepSvdd(
      init(),
      { data: pixels(300, 4), bands: C },
      {
        epochs: 3,
        batchSize: 100,
        callbacks: (optimizer) => {
          built = buildCallbacks(
            {
              earlyStopping: { monitor: 'val_auroc', mode: 'max', patience: 10 },
              checkpoint: { monitor: 'val_auroc', mode: 'max', saveTopK: 1, saveLast: true },
            },
            { optimizer, hasValidation: false, runDir, save: () => undefined, note: (t) => notes.push(t) },
          );
          return built.callbacks;
        },
      },
    );
    expect(result.history).toHaveLength(3);
    expect(notes).toEqual([
      'earlyStopping: no validation split, monitoring loss instead of val_auroc',
      'checkpoint: no validation split, monitoring loss instead of val_auroc',
    ]);
    const folders = (await readdir(path.join(runDir, 'checkpoints'))).sort();
    expect(folders).toContain('index.json');
    expect(folders).toContain('epoch-003');
    expect(built?.checkpoint?.best?.epoch).toBe(3); // the loss went down every epoch: the last, epoch 3
    expect(() =>
      buildCallbacks(
        { checkpoint: { monitor: 'loss', mode: 'min' } },
        { optimizer: { learningRates: () => [], setLearningRate: () => undefined }, hasValidation: true },
      ),
    ).toThrow(/needs a run folder/);
  });

  it('fails with TrainingDivergedError when the loss is not finite', async () => {
    const data = pixels(200, 5);
    data[7] = Number.NaN;
    const error = await trainDeepSvdd(init(), { data, bands: C }, { epochs: 1, batchSize: 200 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(error).toMatchObject({ epoch: 1, step: 1 });
    expect((error as Error).message).toMatch(/at epoch 1, step 1 /);
  });

  it('rejects a schedule that does not start at epoch 0 or names no stage', async () => {
    const data = { data: pixels(100, 6), bands: C };
    await expect(
      trainDeepSvdd(init(), data, {
        epochs: 1,
        batchSize: 50,
        schedule: [{ fromEpoch: 2, trainable: ['project'] }],
      }),
    ).rejects.toThrow(/stages\[0\]\.fromEpoch = 2: the first entry must have fromEpoch 0/);
    await expect(
      trainDeepSvdd(init(), data, { epochs: 1, batchSize: 50, schedule: [{ fromEpoch: 0, trainable: [] }] }),
    ).rejects.toThrow(OptionError);
    await expect(trainDeepSvdd(init(), data, { epochs: 0, batchSize: 50 })).rejects.toThrow(
      /trainer\.epochs = 0/,
    );
  });
});

describe('progress', () => {
  /** A clock the test moves by hand (milliseconds). */
  function fakeClock(): { now: () => number; advance: (ms: number) => void } {
    let t = 1000;
    return { now: () => t, advance: (ms) => (t += ms) };
  }

  it('prints one line per epoch off a terminal, with loss, lr, the monitored metric and the ETA', () => {
    let out = '';
    const clock = fakeClock();
    const progress = createProgress(
      (t) => {
        out += t;
      },
      { epochs: 20, tty: false, monitor: 'val_auroc', now: clock.now },
    );
    for (let epoch = 1; epoch <= 3; epoch++) {
      clock.advance(4000);
      progress.step(epoch, 10, 10, 0.5);
      if (epoch === 3) out = '';
      progress.epoch(epoch, { loss: 0.0123, lr: 0.001, val_auroc: 0.99123 }, 4);
    }
    // 3 epochs in 12 s: 17 more at 4 s each.
    expect(out).toBe('epoch 3/20  loss 0.0123  lr 1.00e-3  val_auroc 0.9912  4.0 s  ETA 1 min 08 s\n');
  });

  it('redraws a bar with \\r on a terminal, with an ETA from the steps of the first epoch', () => {
    let out = '';
    const clock = fakeClock();
    const progress = createProgress(
      (t) => {
        out += t;
      },
      { epochs: 2, tty: true, barWidth: 4, now: clock.now },
    );
    clock.advance(1500);
    progress.step(1, 1, 2, 1.5); // 1.5 s a step: 1 step left in this epoch, 2 in the next
    clock.advance(1500);
    progress.epoch(1, { loss: 1.25, lr: 0.01 }, 3);
    expect(out).toBe(
      '\repoch 1/2 [##..] 1/2 loss 1.5000 ETA 5 s\x1b[K\repoch 1/2  loss 1.2500  lr 1.00e-2  3.0 s  ETA 3 s\x1b[K\n',
    );
    out = '';
    clock.advance(1000);
    progress.step(2, 1, 2, 1); // the epoch so far runs faster than the last: the last one's time counts
    expect(out).toBe('\repoch 2/2 [##..] 1/2 loss 1.0000 ETA 2 s\x1b[K');
    expect(epochLine(1, 1, { loss: Number.NaN, lr: 1 }, 'val_iou', 0, 10)).toBe(
      'epoch 1/1  loss n/a  lr 1.00e+0  0.0 s',
    );
  });

  it('formats the ETA for humans', () => {
    expect(formatEta(0)).toBe('0 s');
    expect(formatEta(44.2)).toBe('45 s');
    expect(formatEta(185)).toBe('3 min 05 s');
    expect(formatEta(3725)).toBe('1 h 03 min');
    expect(formatEta(Number.NaN)).toBe('n/a');
  });
});
