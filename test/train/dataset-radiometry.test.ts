import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Radiometry } from '../../src/core/frame.js';
import { writeEnviCube } from '../../src/io/envi/index.js';
import { discoverDatasetItems, openDataset, readDatasetInput } from '../../src/train/dataset.js';
import { streamDatasetFrames } from '../../src/train/dataset-frames.js';
import { DatasetError } from '../../src/train/dataset-item.js';

/** A 2x2x3 cube whose header states `radiometry` (or nothing). */
async function writeCube(hdr: string, radiometry?: Radiometry): Promise<void> {
  await writeEnviCube(
    hdr,
    { lines: 2, samples: 2, bands: 3, data: new Float32Array(12).fill(0.5), wavelengths: [700, 750, 800] },
    { dataType: 4, interleave: 'bil', ...(radiometry === undefined ? {} : { radiometry }) },
  );
}

async function datasetOf(name: string, cubes: Record<string, Radiometry | undefined>): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir);
  for (const [cube, radiometry] of Object.entries(cubes))
    await writeCube(path.join(dir, `${cube}.hdr`), radiometry);
  return dir;
}

let root = '';
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-dataset-radiometry-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a dataset states its radiometry', () => {
  it('when every cube states the same, and its frames carry it', async () => {
    const dir = await datasetOf('reflectance', { a: 'reflectance', b: 'reflectance' });
    const dataset = await openDataset(dir, { split: { val: 0, test: 0 } });
    expect(dataset.input.radiometry).toBe('reflectance');
    const frames = [];
    for await (const frame of streamDatasetFrames(dataset.items)) frames.push(frame);
    expect(frames.map((f) => f.radiometry)).toEqual(['reflectance', 'reflectance']);
  });

  it('not when a cube does not state it', async () => {
    const dir = await datasetOf('partly', { a: 'counts', b: undefined });
    const input = await readDatasetInput(await discoverDatasetItems(dir));
    expect('radiometry' in input).toBe(false);
    const none = await datasetOf('none', { a: undefined });
    expect((await readDatasetInput(await discoverDatasetItems(none))).radiometry).toBeUndefined();
  });

  it('refuses cubes of counts mixed with cubes of reflectance, naming both', async () => {
    const dir = await datasetOf('mixed', { a: 'counts', b: undefined, c: 'reflectance' });
    const error = await readDatasetInput(await discoverDatasetItems(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).message).toBe(
      `dataset ${path.join(dir, 'c.hdr')}: holds reflectance, a holds counts (cubestream radiometry); a dataset needs one radiometry`,
    );
  });
});
