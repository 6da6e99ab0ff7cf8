import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config-error.js';
import { OptionError } from '../../src/core/options.js';
import { writeEnviCube } from '../../src/io/envi/index.js';
import { ClassMap } from '../../src/train/class-map.js';
import { discoverDatasetItems, openDataset } from '../../src/train/dataset.js';
import { streamDatasetFrames } from '../../src/train/dataset-frames.js';
import { DatasetError } from '../../src/train/dataset-item.js';
import { splitDataset } from '../../src/train/dataset-split.js';

const WAVELENGTHS = [700, 750, 800];

/** A 4x3x3 cube whose value encodes (row, col, band), and a mask of class ids. */
async function writePair(
  hdr: string,
  options: { maskHdr?: string; labels?: number[]; wavelengths?: number[]; lines?: number } = {},
): Promise<void> {
  const lines = options.lines ?? 4;
  const samples = 3;
  const bands = (options.wavelengths ?? WAVELENGTHS).length;
  const data = new Float32Array(lines * samples * bands);
  for (let i = 0; i < data.length; i++) data[i] = i;
  await writeEnviCube(
    hdr,
    { lines, samples, bands, data, wavelengths: options.wavelengths ?? WAVELENGTHS },
    { dataType: 4, interleave: 'bil' },
  );
  if (options.maskHdr !== undefined) {
    const labels = Float32Array.from(
      options.labels ?? Array.from({ length: lines * samples }, (_, i) => i % 3),
    );
    await writeEnviCube(
      options.maskHdr,
      { lines, samples, bands: 1, data: labels },
      { dataType: 1, interleave: 'bsq' },
    );
  }
}

describe('datasets', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cubestream-dataset-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('discovers flat <name>.hdr + <name>_mask.hdr pairs, and cubes without a mask', async () => {
    const dir = path.join(root, 'flat');
    await mkdir(dir);
    await writePair(path.join(dir, 'b.hdr'), { maskHdr: path.join(dir, 'b_mask.hdr') });
    await writePair(path.join(dir, 'a.hdr'), { maskHdr: path.join(dir, 'a_mask.hdr') });
    await writePair(path.join(dir, 'c.hdr'));
    const items = await discoverDatasetItems(dir);
    expect(items.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    expect(items[0]?.mask).toBe(path.join(dir, 'a_mask.hdr'));
    expect(items[2]?.mask).toBeUndefined();
  });

  it('discovers per-scene folders (cube.hdr + mask.hdr) named by folder, and a single scene folder', async () => {
    const dir = path.join(root, 'scenes');
    for (const scene of ['urban', 'beach']) {
      await mkdir(path.join(dir, scene), { recursive: true });
      await writePair(path.join(dir, scene, 'cube.hdr'), { maskHdr: path.join(dir, scene, 'mask.hdr') });
    }
    const items = await discoverDatasetItems(dir);
    expect(items.map((i) => i.name)).toEqual(['beach', 'urban']);
    expect(items[1]?.mask).toBe(path.join(dir, 'urban', 'mask.hdr'));
    const single = await discoverDatasetItems(path.join(dir, 'urban'));
    expect(single.map((i) => i.name)).toEqual(['urban']);
  });

  it('fails with a DatasetError naming a missing folder', async () => {
    const missing = path.join(root, 'nope');
    await expect(discoverDatasetItems(missing)).rejects.toThrow(DatasetError);
    await expect(discoverDatasetItems(missing)).rejects.toThrow(/nope/);
  });

  it('splits by fraction after a seeded shuffle: deterministic, disjoint, train never empty', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, cube: `f${i}.hdr` }));
    const a = splitDataset(items, { val: 0.2, test: 0.3, seed: 5 });
    const b = splitDataset(items, { val: 0.2, test: 0.3, seed: 5 });
    const c = splitDataset(items, { val: 0.2, test: 0.3, seed: 6 });
    expect(a).toEqual(b);
    expect(a.source).toBe('fraction');
    expect([a.train.length, a.val.length, a.test.length]).toEqual([5, 2, 3]);
    const all = [...a.train, ...a.val, ...a.test].map((i) => i.name).sort();
    expect(all).toEqual(items.map((i) => i.name).sort());
    expect(c.test.map((i) => i.name)).not.toEqual(a.test.map((i) => i.name));
    const tiny = splitDataset(items.slice(0, 2), { val: 0.5, test: 0.5 });
    expect(tiny.train.length).toBe(1);
    expect(tiny.val.length + tiny.test.length).toBe(1);
  });

  it('takes splits from config names over the manifest, and names unknown cubes', () => {
    const items = ['a', 'b', 'c'].map((name) => ({ name, cube: `${name}.hdr` }));
    const manifest = { splits: { train: ['a'], val: ['b'], test: ['c'] } };
    expect(splitDataset(items, {}, manifest)).toMatchObject({ source: 'manifest', test: [{ name: 'c' }] });
    const fromConfig = splitDataset(items, { names: { train: ['c', 'b'], test: ['a'] } }, manifest);
    expect(fromConfig.source).toBe('config');
    expect(fromConfig.train.map((i) => i.name)).toEqual(['c', 'b']);
    expect(() => splitDataset(items, {}, { splits: { train: ['a', 'zz'] } })).toThrow(/"zz".*not a cube/);
    expect(() => splitDataset(items, { names: { train: ['a'], test: ['a'] } })).toThrow(
      /also in the train split/,
    );
    expect(() => splitDataset(items, { names: { test: ['a'] } })).toThrow(DatasetError);
  });

  it('opens a dataset: manifest splits and class ids, common wavelengths', async () => {
    const dir = path.join(root, 'manifest');
    await mkdir(dir);
    for (const name of ['x', 'y', 'z']) {
      await writePair(path.join(dir, `${name}.hdr`), { maskHdr: path.join(dir, `${name}_mask.hdr`) });
    }
    await writeFile(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        generator: { any: 'thing' },
        splits: { train: ['x', 'y'], test: ['z'] },
        normalClassIds: [1, 2],
        anomalyClassIds: [0],
      }),
    );
    const dataset = await openDataset(dir);
    expect(dataset.splits.train.map((i) => i.name)).toEqual(['x', 'y']);
    expect(dataset.splits.val).toEqual([]);
    expect(dataset.classes.normalClassIds).toEqual([1, 2]);
    expect(dataset.classes.isAnomaly(0)).toBe(true);
    expect(dataset.input).toMatchObject({ bands: 3, wavelengthUnits: 'nm' });
    expect([...dataset.input.wavelengths]).toEqual(WAVELENGTHS);
    const overridden = await openDataset(dir, { normalClassIds: [0], anomalyClassIds: [2] });
    expect(overridden.classes.isAnomaly(2)).toBe(true);
    expect(overridden.classes.isAnomaly(1)).toBe(false);
  });

  it('rejects a manifest that is not JSON or has bad class ids, naming the file and path', async () => {
    const dir = path.join(root, 'bad-manifest');
    await mkdir(dir);
    await writePair(path.join(dir, 'x.hdr'));
    await writeFile(path.join(dir, 'manifest.json'), '{"normalClassIds": [1, 300]}');
    const error = await openDataset(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/manifest\.json[\s\S]*normalClassIds\.1/);
    await writeFile(path.join(dir, 'manifest.json'), '{oops');
    await expect(openDataset(dir)).rejects.toThrow(/not valid JSON/);
  });

  it('defaults to binary masks (0 normal, 1 anomaly) and rejects cubes with different bands', async () => {
    const dir = path.join(root, 'mixed');
    await mkdir(dir);
    await writePair(path.join(dir, 'a.hdr'));
    const binary = await openDataset(dir);
    expect(binary.classes.toJSON()).toEqual({ normalClassIds: [0], anomalyClassIds: [1] });
    await writePair(path.join(dir, 'b.hdr'), { wavelengths: [700, 750, 801] });
    await expect(openDataset(dir)).rejects.toThrow(/b\.hdr.*band 2 is at 801/);
    await writePair(path.join(dir, 'b.hdr'), { wavelengths: [700, 750] });
    await expect(openDataset(dir)).rejects.toThrow(/has 2 bands/);
  });

  it('rejects a mask whose size differs from its cube', async () => {
    const dir = path.join(root, 'bad-mask');
    await mkdir(dir);
    await writePair(path.join(dir, 'a.hdr'));
    await writeEnviCube(
      path.join(dir, 'a_mask.hdr'),
      { lines: 2, samples: 3, bands: 1, data: new Float32Array(6) },
      { dataType: 1, interleave: 'bsq' },
    );
    await expect(openDataset(dir)).rejects.toThrow(/a_mask\.hdr: is 2x3x1, expected 4x3x1/);
  });

  it('streams cubes block by block with their labels, in item order', async () => {
    const dir = path.join(root, 'stream');
    await mkdir(dir);
    const labels = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0];
    await writePair(path.join(dir, 'a.hdr'), { maskHdr: path.join(dir, 'a_mask.hdr'), labels, lines: 5 });
    await writePair(path.join(dir, 'b.hdr'));
    const items = await discoverDatasetItems(dir);
    const blocks = [];
    for await (const block of streamDatasetFrames(items, { blockRows: 2 })) blocks.push(block);
    expect(blocks.map((b) => [b.frameId, b.rowOffset, b.height])).toEqual([
      [0, 0, 2],
      [0, 2, 2],
      [0, 4, 1],
      [1, 0, 2],
      [1, 2, 2],
    ]);
    expect([...(blocks[1]?.labels ?? [])]).toEqual([7, 8, 9, 10, 11, 12]);
    expect(blocks[3]?.labels).toBeUndefined();
    // value i of the cube is i: the block at row 2 starts at 2 rows x 3 samples x 3 bands = 18
    expect(blocks[1]?.data[0]).toBe(18);
    expect(blocks[0]).toMatchObject({ totalRows: 5, width: 3, bands: 3, wavelengthUnits: 'nm' });
  });

  it('streams a mask value that is no class id as a DatasetError naming the pixel', async () => {
    const dir = path.join(root, 'fractional-mask');
    await mkdir(dir);
    await writePair(path.join(dir, 'a.hdr'));
    await writeEnviCube(
      path.join(dir, 'a_mask.hdr'),
      {
        lines: 4,
        samples: 3,
        bands: 1,
        data: Float32Array.from({ length: 12 }, (_, i) => (i === 7 ? 0.5 : 1)),
      },
      { dataType: 4, interleave: 'bsq' },
    );
    const items = await discoverDatasetItems(dir);
    const drain = async () => {
      for await (const _ of streamDatasetFrames(items)) {
        // consume
      }
    };
    await expect(drain()).rejects.toThrow(/row 2, col 1\) = 0\.5 is not a class id/);
  });
});

describe('ClassMap', () => {
  it('follows cuvis: explicit anomaly ids are anomalous, everything else counts as normal', () => {
    const classes = new ClassMap([1, 2, 4], [3, 5, 6, 7]);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((id) => classes.isAnomaly(id))).toEqual([
      false,
      false,
      false,
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
    expect([...classes.truth(Uint8Array.of(0, 3, 4, 7))]).toEqual([0, 1, 0, 1]);
  });

  it('without anomaly ids, every id that is not normal is anomalous', () => {
    const classes = new ClassMap([0]);
    expect(classes.isAnomaly(0)).toBe(false);
    expect(classes.isAnomaly(1)).toBe(true);
    expect(classes.isAnomaly(200)).toBe(true);
  });

  it('trains on listed normal ids only: unlabelled 0 is neither trained on nor anomalous', () => {
    const classes = new ClassMap([1, 2, 4], [3]);
    const data = Float32Array.of(10, 11, 20, 21, 30, 31, 40, 41);
    const kept = classes.trainablePixels(data, 2, Uint8Array.of(1, 0, 3, 4));
    expect([...kept]).toEqual([10, 11, 40, 41]);
    expect(classes.trainablePixels(data, 2, undefined)).toBe(data);
    expect([...classes.trainableMask(Uint8Array.of(1, 0, 3, 4))]).toEqual([1, 0, 0, 1]);
    expect(classes.isAnomaly(0)).toBe(false);
  });

  it('rejects ids outside 0..255 and ids listed as both', () => {
    expect(() => new ClassMap([1, 256])).toThrow(OptionError);
    expect(() => new ClassMap([1, 2], [2])).toThrow(/ids 2 are also normal/);
    expect(() => new ClassMap([])).toThrow(/at least one id/);
  });
});
