import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OptionError } from '../../../src/core/options.js';
import { checkpointDirName, ModelCheckpoint } from '../../../src/train/callbacks/checkpoint.js';

describe('ModelCheckpoint', () => {
  let runDir: string;
  beforeEach(async () => {
    runDir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-ckpt-'));
  });
  afterEach(async () => {
    await rm(runDir, { recursive: true, force: true });
  });

  /** A save callback that writes the epoch and its loss into the folder. */
  const save = async (dir: string, epoch: number, logs: Record<string, number>) => {
    await writeFile(path.join(dir, 'weights.json'), JSON.stringify({ epoch, ...logs }));
  };

  async function kept(): Promise<string[]> {
    return (await readdir(path.join(runDir, 'checkpoints')))
      .filter((name) => name.startsWith('epoch-'))
      .sort();
  }

  it('keeps the best k by the monitored metric plus the last, deleting the rest', async () => {
    const checkpoint = new ModelCheckpoint({ runDir, monitor: 'val_loss', saveTopK: 2, save });
    const losses = [5, 3, 4, 1, 2, 6];
    const after: string[][] = [];
    // Epochs numbered from 1, as the trainer numbers them.
    for (const [i, val_loss] of losses.entries()) {
      await checkpoint.onEpochEnd(i + 1, { val_loss });
      after.push(await kept());
    }
    expect(after[0]).toEqual(['epoch-001']);
    expect(after[1]).toEqual(['epoch-001', 'epoch-002']);
    expect(after[2]).toEqual(['epoch-002', 'epoch-003']); // top-2 = {2: 3, 3: 4}; epoch 1 (5) evicted
    expect(after[3]).toEqual(['epoch-002', 'epoch-004']);
    expect(after[5]).toEqual(['epoch-004', 'epoch-005', 'epoch-006']);
    expect(checkpoint.best?.epoch).toBe(4);
    expect(checkpoint.bestCheckpoints.map((c) => c.epoch)).toEqual([4, 5]);
    expect(checkpoint.last?.epoch).toBe(6);
    const saved = JSON.parse(
      await readFile(path.join(runDir, 'checkpoints', 'epoch-004', 'weights.json'), 'utf8'),
    );
    expect(saved).toEqual({ epoch: 4, val_loss: 1 });
    const index = JSON.parse(await readFile(path.join(runDir, 'checkpoints', 'index.json'), 'utf8'));
    expect(index.best.map((c: { epoch: number }) => c.epoch)).toEqual([4, 5]);
    expect(index.last.path).toBe(path.join(runDir, 'checkpoints', 'epoch-006'));
  });

  it('with saveLast false and mode max saves only improvements', async () => {
    const epochsSaved: number[] = [];
    const checkpoint = new ModelCheckpoint({
      runDir,
      monitor: 'auroc',
      mode: 'max',
      saveLast: false,
      save: (_dir, epoch) => {
        epochsSaved.push(epoch);
      },
    });
    for (const [i, auroc] of [0.7, 0.8, 0.75, Number.NaN, 0.9].entries())
      await checkpoint.onEpochEnd(i + 1, { auroc });
    expect(epochsSaved).toEqual([1, 2, 5]);
    expect(await kept()).toEqual(['epoch-005']);
    expect(checkpoint.last).toBeUndefined();
  });

  it('names folders epoch-NNN and rejects settings that keep nothing', () => {
    expect(checkpointDirName(7)).toBe('epoch-007');
    expect(checkpointDirName(1234)).toBe('epoch-1234');
    expect(() => new ModelCheckpoint({ runDir, save, saveTopK: 0, saveLast: false })).toThrow(OptionError);
    expect(() => new ModelCheckpoint({ runDir, save, saveTopK: 1.5 })).toThrow(/saveTopK/);
  });
});
