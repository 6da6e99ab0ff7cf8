import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FALSE_ALARM_COLOUR,
  HIT_COLOUR,
  MISSED_COLOUR,
  writeFramePictures,
  writeTrainingCurves,
} from '../../src/train/run-pictures.js';
import type { EpochRecord } from '../../src/train/trainer.js';

async function readPng(file: string): Promise<PNG> {
  return PNG.sync.read(await readFile(file));
}

function count(png: PNG, colour: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4)
    if (png.data[i] === colour[0] && png.data[i + 1] === colour[1] && png.data[i + 2] === colour[2]) n++;
  return n;
}

describe('run pictures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-run-pictures-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the loss, lr and monitored-metric curves of a history', async () => {
    const history: EpochRecord[] = [1, 2, 3].map((epoch) => ({
      epoch,
      logs: { loss: 1 / epoch, val_loss: 1.2 / epoch, lr: 1e-3, val_auroc: 0.9 + epoch / 100 },
      trainable: ['project'],
      steps: 4,
      seconds: 1,
    }));
    const files = await writeTrainingCurves(dir, history, 'val_auroc');
    expect(files.map((f) => path.basename(f))).toEqual([
      'curve-loss.png',
      'curve-lr.png',
      'curve-val_auroc.png',
    ]);
    const loss = await readPng(files[0] as string);
    expect([loss.width, loss.height]).toEqual([640, 360]);
    // Two curves in the legend's and the plot's colours (tab10 blue and orange).
    expect(count(loss, [31, 119, 180])).toBeGreaterThan(100);
    expect(count(loss, [255, 127, 14])).toBeGreaterThan(100);
    expect(await writeTrainingCurves(dir, [])).toEqual([]);
  });

  it('writes a false-colour picture, a heatmap figure beside the truth, and prediction vs truth', async () => {
    const [height, width, bands] = [6, 8, 3];
    const scores = new Float32Array(height * width).fill(0.1);
    const truth = new Uint8Array(height * width);
    scores[0] = 2; // hit
    truth[0] = 1;
    truth[9] = 1; // missed
    scores[20] = 1.5; // false alarm
    const files = await writeFramePictures(dir, {
      name: 'cube 1',
      height,
      width,
      bands,
      data: Float32Array.from({ length: height * width * bands }, (_, i) => i % 7),
      wavelengths: Float32Array.from([460, 550, 640]),
      wavelengthUnits: 'nm',
      scores,
      threshold: 1,
      truth,
    });
    expect(files.map((f) => path.basename(f))).toEqual([
      'cube_1-rgb.png',
      'cube_1-scores.png',
      'cube_1-mask.png',
    ]);
    const rgb = await readPng(files[0] as string);
    expect([rgb.width, rgb.height]).toEqual([width, height]);
    const heat = await readPng(files[1] as string);
    expect(heat.width).toBeGreaterThan(2 * 8 * 16); // heatmap and truth, 16x each
    const mask = await readPng(files[2] as string);
    // One pixel of each kind, 16x16 each, plus a 10x10 legend swatch.
    for (const colour of [HIT_COLOUR, MISSED_COLOUR, FALSE_ALARM_COLOUR])
      expect(count(mask, colour)).toBe(256 + 100);
  });
});
