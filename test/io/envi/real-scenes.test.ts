import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openEnvi, readEnviCube, readEnviMask } from '../../../src/io/envi/reader.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dataDir = resolve(repoRoot, '../shared/data');
const present = existsSync(dataDir);
const required = process.env.CI === 'true';
if (!present && !required) console.warn(`skipping real ENVI scenes: ${dataDir} is missing`);

/** The table of /work/shared/data/README.md. */
const SCENES = [
  ['abu-airport-1', 100, 100, 205, 144, 'bip'],
  ['abu-airport-2', 100, 100, 205, 87, 'bip'],
  ['abu-airport-3', 100, 100, 205, 170, 'bil'],
  ['abu-airport-4', 100, 100, 191, 60, 'bsq'],
  ['abu-beach-1', 150, 150, 188, 19, 'bsq'],
  ['abu-beach-2', 100, 100, 193, 202, 'bil'],
  ['abu-beach-3', 100, 100, 188, 11, 'bip'],
  ['abu-urban-1', 100, 100, 204, 67, 'bil'],
  ['abu-urban-2', 100, 100, 207, 155, 'bsq'],
  ['abu-urban-3', 100, 100, 191, 52, 'bip'],
  ['abu-urban-4', 100, 100, 205, 272, 'bil'],
  ['abu-urban-5', 100, 100, 205, 232, 'bsq'],
] as const;

/**
 * Per-band sums straight from the file bytes, following the header by hand; `weighted` weighs
 * each value by its pixel number + 1 so that misplaced pixels show (exact in float64 here).
 */
function rawBandSums(
  hdrText: string,
  img: Uint8Array,
): { sums: Float64Array; weighted: Float64Array; dims: number[]; dtype: number } {
  const key = (name: string) => {
    const m = new RegExp(`^${name}\\s*=\\s*(\\S+)`, 'im').exec(hdrText);
    if (m?.[1] === undefined) throw new Error(`no ${name}`);
    return m[1].toLowerCase();
  };
  const [lines, samples, bands, dtype] = ['lines', 'samples', 'bands', 'data type'].map((k) =>
    Number(key(k)),
  ) as [number, number, number, number];
  const interleave = key('interleave');
  const le = key('byte order') === '0';
  const view = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const sums = new Float64Array(bands);
  const weighted = new Float64Array(bands);
  for (let l = 0; l < lines; l++)
    for (let s = 0; s < samples; s++)
      for (let b = 0; b < bands; b++) {
        const index =
          interleave === 'bip'
            ? (l * samples + s) * bands + b
            : interleave === 'bil'
              ? (l * bands + b) * samples + s
              : (b * lines + l) * samples + s;
        const v = dtype === 2 ? view.getInt16(index * 2, le) : view.getUint16(index * 2, le);
        sums[b] = (sums[b] as number) + v;
        weighted[b] = (weighted[b] as number) + v * (l * samples + s + 1);
      }
  return { sums, weighted, dims: [lines, samples, bands], dtype };
}

function bipBandSums(data: Float32Array, bands: number, into = new Float64Array(bands)): Float64Array {
  for (let i = 0; i < data.length; i++) into[i % bands] = (into[i % bands] as number) + (data[i] as number);
  return into;
}

describe.skipIf(!present && !required)('real ENVI scenes (../shared/data)', () => {
  it('finds the data folder', () => {
    expect(present, `${dataDir} is missing`).toBe(true);
  });

  it.each(SCENES)('%s: %ix%ix%i, %i anomaly pixels, %s', async (name, h, w, bands, anomalies, interleave) => {
    const hdr = join(dataDir, name, 'cube.hdr');
    const cube = await readEnviCube(hdr);
    expect([cube.lines, cube.samples, cube.bands]).toEqual([h, w, bands]);
    expect(cube.header.interleave).toBe(interleave);
    expect([2, 12]).toContain(cube.header.dataType);
    expect(cube.data).toHaveLength(h * w * bands);

    const raw = rawBandSums(
      readFileSync(hdr, 'utf8'),
      new Uint8Array(readFileSync(join(dataDir, name, 'cube.img'))),
    );
    expect(raw.dims).toEqual([h, w, bands]);
    expect(raw.dtype).toBe(cube.header.dataType);
    const whole = bipBandSums(cube.data, bands);
    expect(Array.from(whole)).toEqual(Array.from(raw.sums));
    expect(whole.some((v) => v !== 0)).toBe(true);
    const weighted = new Float64Array(bands);
    for (let i = 0; i < cube.data.length; i++) {
      weighted[i % bands] =
        (weighted[i % bands] as number) + (cube.data[i] as number) * (Math.floor(i / bands) + 1);
    }
    expect(Array.from(weighted)).toEqual(Array.from(raw.weighted));

    const reader = await openEnvi(hdr);
    try {
      const blocked = new Float64Array(bands);
      for await (const block of reader.rowBlocks(37)) bipBandSums(block.data, bands, blocked);
      expect(Array.from(blocked)).toEqual(Array.from(raw.sums));
    } finally {
      await reader.close();
    }

    const mask = await readEnviMask(join(dataDir, name, 'mask.hdr'));
    expect(mask).toHaveLength(h * w);
    expect(mask.reduce((n, v) => n + (v === 1 ? 1 : 0), 0)).toBe(anomalies);
    expect(mask.every((v) => v === 0 || v === 1)).toBe(true);
  });
});
