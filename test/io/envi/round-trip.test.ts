import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnviWriteError } from '../../../src/io/envi/errors.js';
import { enviCubeFrame, openEnvi, readEnviCube, readEnviMask } from '../../../src/io/envi/reader.js';
import { createEnviWriter, writeEnviCube } from '../../../src/io/envi/writer.js';

type Interleave = 'bsq' | 'bil' | 'bip';
const INTERLEAVES: Interleave[] = ['bsq', 'bil', 'bip'];
const LINES = 5;
const SAMPLES = 3;
const BANDS = 4;

/** Test-local element codec, written independently of src/io/envi/data-types.ts. */
const TYPES: Record<number, { bytes: number; min: number; max: number; float?: boolean }> = {
  1: { bytes: 1, min: 0, max: 255 },
  2: { bytes: 2, min: -32768, max: 32767 },
  3: { bytes: 4, min: -(2 ** 24), max: 2 ** 24 },
  4: { bytes: 4, min: -1e6, max: 1e6, float: true },
  5: { bytes: 8, min: -1e6, max: 1e6, float: true },
  12: { bytes: 2, min: 0, max: 65535 },
  13: { bytes: 4, min: 0, max: 2 ** 24 },
  14: { bytes: 8, min: -(2 ** 24), max: 2 ** 24 },
  15: { bytes: 8, min: 0, max: 2 ** 24 },
};

const SETTERS: Record<number, (view: DataView, offset: number, value: number, le: boolean) => void> = {
  1: (v, o, x) => v.setUint8(o, x),
  2: (v, o, x, le) => v.setInt16(o, x, le),
  3: (v, o, x, le) => v.setInt32(o, x, le),
  4: (v, o, x, le) => v.setFloat32(o, x, le),
  5: (v, o, x, le) => v.setFloat64(o, x, le),
  12: (v, o, x, le) => v.setUint16(o, x, le),
  13: (v, o, x, le) => v.setUint32(o, x, le),
  14: (v, o, x, le) => v.setBigInt64(o, BigInt(x), le),
  15: (v, o, x, le) => v.setBigUint64(o, BigInt(x), le),
};

function setRaw(view: DataView, offset: number, code: number, value: number, le: boolean): void {
  const set = SETTERS[code];
  if (set === undefined) throw new Error(`no test codec for ${code}`);
  set(view, offset, value, le);
}

/** Index of value (line, sample, band) in a file of the given interleave. */
function fileIndex(interleave: Interleave, line: number, sample: number, band: number): number {
  if (interleave === 'bip') return (line * SAMPLES + sample) * BANDS + band;
  if (interleave === 'bil') return (line * BANDS + band) * SAMPLES + sample;
  return (band * LINES + line) * SAMPLES + sample;
}

/** Raw bytes of a BIP cube laid out as `interleave`, after `offset` filler bytes. */
function encodeRaw(bip: Float32Array, code: number, interleave: Interleave, byteOrder: 0 | 1, offset = 0) {
  const bytes = TYPES[code]?.bytes ?? 0;
  const out = new Uint8Array(offset + bip.length * bytes).fill(0xab, 0, offset);
  const view = new DataView(out.buffer);
  for (let l = 0; l < LINES; l++)
    for (let s = 0; s < SAMPLES; s++)
      for (let b = 0; b < BANDS; b++) {
        const v = bip[(l * SAMPLES + s) * BANDS + b] ?? Number.NaN;
        setRaw(view, offset + fileIndex(interleave, l, s, b) * bytes, code, v, byteOrder === 0);
      }
  return out;
}

/** Deterministic values exactly representable in float32 and in type `code`, extremes included. */
function cubeFor(code: number, seed: number): Float32Array {
  const t = TYPES[code];
  if (t === undefined) throw new Error(`no type ${code}`);
  const data = new Float32Array(LINES * SAMPLES * BANDS);
  let x = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const u = x / 2147483648;
    const v = t.min + u * (t.max - t.min);
    data[i] = t.float ? Math.fround(v) : Math.round(v);
  }
  data[0] = t.min;
  data[1] = t.max;
  return data;
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-envi-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const READ_CASES = Object.keys(TYPES).flatMap((code) =>
  INTERLEAVES.flatMap((interleave) =>
    ([0, 1] as const).map((byteOrder) => [Number(code), interleave, byteOrder] as const),
  ),
);

describe('ENVI reader', () => {
  it.each(READ_CASES)('reads data type %i, %s, byte order %i', async (code, interleave, byteOrder) => {
    const expected = cubeFor(code, code * 7 + byteOrder);
    const base = join(dir, `read-${code}-${interleave}-${byteOrder}`);
    const offset = code % 2 === 0 ? 0 : 7;
    await writeFile(`${base}.raw`, encodeRaw(expected, code, interleave, byteOrder, offset));
    await writeFile(
      `${base}.hdr`,
      `ENVI\nsamples = ${SAMPLES}\nlines = ${LINES}\nbands = ${BANDS}\nheader offset = ${offset}\ndata type = ${code}\ninterleave = ${interleave}\nbyte order = ${byteOrder}\n`,
    );
    const cube = await readEnviCube(`${base}.hdr`);
    expect(cube.dataPath).toBe(`${base}.raw`);
    expect([cube.lines, cube.samples, cube.bands]).toEqual([LINES, SAMPLES, BANDS]);
    expect(cube.data).toEqual(expected);
    expect(cube.wavelengthUnits).toBe('index');
    expect(Array.from(cube.wavelengths)).toEqual([0, 1, 2, 3]);

    const reader = await openEnvi(`${base}.hdr`);
    try {
      const stride = SAMPLES * BANDS;
      expect(await reader.readRows(1, 3)).toEqual(expected.slice(stride, 4 * stride));
      // Into a buffer of the caller's (reused: stale contents are overwritten).
      const into = new Float32Array(3 * stride).fill(-1);
      expect(await reader.readRows(1, 3, into)).toBe(into);
      expect(into).toEqual(expected.slice(stride, 4 * stride));
      await expect(reader.readRows(1, 2, into)).rejects.toThrow(
        /into holds 36 values, 2 lines of 3x4 need 24/,
      );
      const blocks = [];
      for await (const block of reader.rowBlocks(2)) blocks.push(block);
      expect(blocks.map((b) => [b.rowOffset, b.height])).toEqual([
        [0, 2],
        [2, 2],
        [4, 1],
      ]);
      const joined = new Float32Array(expected.length);
      for (const block of blocks) joined.set(block.data, block.rowOffset * stride);
      expect(joined).toEqual(expected);
    } finally {
      await reader.close();
    }
  });

  it('rejects row ranges outside the cube', async () => {
    const base = join(dir, 'range');
    await writeEnviCube(
      `${base}.hdr`,
      { lines: LINES, samples: SAMPLES, bands: BANDS, data: cubeFor(4, 1) },
      { dataType: 4, interleave: 'bip' },
    );
    const reader = await openEnvi(`${base}.hdr`);
    try {
      await expect(reader.readRows(4, 2)).rejects.toThrow(`rows 4+2 must lie within its ${LINES} lines`);
      await expect(reader.readRows(0, 0)).rejects.toThrow('rows 0+0 must lie within');
    } finally {
      await reader.close();
    }
  });
});

const WRITE_CASES = [1, 2, 4, 12].flatMap((code) =>
  INTERLEAVES.flatMap((interleave) =>
    ([0, 1] as const).map((byteOrder) => [code as 1 | 2 | 4 | 12, interleave, byteOrder] as const),
  ),
);

describe('ENVI writer', () => {
  it.each(WRITE_CASES)(
    'writes data type %i, %s, byte order %i in row blocks',
    async (code, interleave, byteOrder) => {
      const expected = cubeFor(code, code + byteOrder * 3);
      const hdr = join(dir, `write-${code}-${interleave}-${byteOrder}.hdr`);
      const writer = await createEnviWriter(hdr, {
        samples: SAMPLES,
        lines: LINES,
        bands: BANDS,
        dataType: code,
        interleave,
        byteOrder,
        wavelengths: [400, 500, 600, 700],
        description: 'round trip',
      });
      const stride = SAMPLES * BANDS;
      await writer.writeRows(expected.slice(0, 2 * stride));
      await writer.writeRows(expected.slice(2 * stride, 3 * stride));
      await writer.writeRows(expected.slice(3 * stride));
      expect(writer.linesWritten).toBe(LINES);
      await writer.close();

      const bytes = new Uint8Array(await readFile(writer.dataPath));
      expect(bytes).toEqual(encodeRaw(expected, code, interleave, byteOrder));
      const cube = await readEnviCube(hdr);
      expect(cube.data).toEqual(expected);
      expect(cube.header).toMatchObject({ dataType: code, interleave, byteOrder, description: 'round trip' });
      expect(cube.wavelengthUnits).toBe('nm');
      expect(Array.from(cube.wavelengths)).toEqual([400, 500, 600, 700]);
    },
  );

  it('rounds half away from zero and clamps integer types, NaN to 0', async () => {
    const hdr = join(dir, 'clamp.hdr');
    const data = Float32Array.of(-3, 2.5, 300, Number.NaN, -2.5, 254.4);
    await writeEnviCube(hdr, { lines: 1, samples: 6, bands: 1, data }, { dataType: 1, interleave: 'bsq' });
    expect(Array.from(await readEnviMask(hdr))).toEqual([0, 3, 255, 0, 0, 254]);
    await writeEnviCube(hdr, { lines: 1, samples: 6, bands: 1, data }, { dataType: 2, interleave: 'bsq' });
    expect(Array.from((await readEnviCube(hdr)).data)).toEqual([-3, 3, 300, 0, -3, 254]);
  });

  it('refuses to close before every line was written, and rows past the end', async () => {
    const hdr = join(dir, 'short.hdr');
    const writer = await createEnviWriter(hdr, {
      samples: 2,
      lines: 3,
      bands: 1,
      dataType: 4,
      interleave: 'bsq',
    });
    await expect(writer.writeRows(new Float32Array(3))).rejects.toThrow(
      'rows must hold a whole number of lines of samples*bands = 2*1 = 2 values, got 3',
    );
    await expect(writer.writeRows(new Float32Array(8))).rejects.toThrow(
      '4 more rows after 0 would exceed the 3 lines of the file',
    );
    await writer.writeRows(new Float32Array(4));
    const error = await writer.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnviWriteError);
    expect((error as Error).message).toBe(`ENVI writer ${hdr}: closed after 2 of 3 lines; no header written`);
    await expect(readFile(hdr)).rejects.toThrow(/ENOENT/);
  });

  it('rejects band names a header cannot hold (found by fuzzing the header round trip)', async () => {
    const spec = { samples: 1, lines: 1, bands: 2, dataType: 4 as const, interleave: 'bsq' as const };
    for (const bad of ['a,b', 'x}', ' ', 'two\nlines']) {
      await expect(
        createEnviWriter(join(dir, 'names.hdr'), { ...spec, bandNames: ['ok', bad] }),
      ).rejects.toThrow(
        `bandNames[1] = ${JSON.stringify(bad)} must be non-empty, without "," "{" "}" or line breaks`,
      );
    }
  });

  it('writes radiometry into the header, and enviCubeFrame carries it into the frame', async () => {
    const data = Float32Array.of(0.25, 0.5, 0.75, 1);
    const stated = join(dir, 'reflectance.hdr');
    await writeEnviCube(
      stated,
      { lines: 1, samples: 2, bands: 2, data },
      { dataType: 4, interleave: 'bil', radiometry: 'reflectance' },
    );
    expect(await readFile(stated, 'utf8')).toContain('cubestream radiometry = reflectance');
    const frame = enviCubeFrame(await readEnviCube(stated), { cameraId: 'scene' });
    expect(frame.radiometry).toBe('reflectance');
    expect([...frame.data]).toEqual([0.25, 0.5, 0.75, 1]);

    const unstated = join(dir, 'unstated.hdr');
    await writeEnviCube(
      unstated,
      { lines: 1, samples: 2, bands: 2, data },
      { dataType: 4, interleave: 'bil' },
    );
    expect('radiometry' in enviCubeFrame(await readEnviCube(unstated), { cameraId: 'scene' })).toBe(false);
    await expect(
      createEnviWriter(join(dir, 'bad-radiometry.hdr'), {
        samples: 1,
        lines: 1,
        bands: 1,
        dataType: 4,
        interleave: 'bip',
        // @ts-expect-error: not a radiometry
        radiometry: 'radiance',
      }),
    ).rejects.toThrow('radiometry must be counts or reflectance, got "radiance"');
  });

  it('rejects a bad spec before creating files', async () => {
    await expect(
      createEnviWriter(join(dir, 'bad.hdr'), {
        samples: 2,
        lines: 0,
        bands: 1,
        dataType: 4,
        interleave: 'bip',
      }),
    ).rejects.toThrow('lines must be a positive integer, got 0');
    await expect(
      createEnviWriter(join(dir, 'bad.img'), {
        samples: 2,
        lines: 1,
        bands: 1,
        dataType: 4,
        interleave: 'bip',
      }),
    ).rejects.toThrow('the header path must end in .hdr');
    await expect(
      createEnviWriter(join(dir, 'bad.hdr'), {
        samples: 2,
        lines: 1,
        bands: 1,
        // @ts-expect-error: data type 5 is not writable
        dataType: 5,
        interleave: 'bip',
      }),
    ).rejects.toThrow('dataType must be 1, 2, 4 or 12, got 5');
  });
});
