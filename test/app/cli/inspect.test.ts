import { existsSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/app/cli/main.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';
import { encodeSafetensors } from '../../../src/io/safetensors.js';
import { captureIO } from '../../helpers/capture-io.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-inspect-'));
  await writeEnviCube(
    join(dir, 'cube.hdr'),
    { lines: 4, samples: 3, bands: 2, data: new Float32Array(24).fill(7), wavelengths: [900, 450] },
    { dataType: 12, interleave: 'bil', byteOrder: 1, description: 'test cube' },
  );
  await writeFile(
    join(dir, 'frame.safetensors'),
    encodeSafetensors(
      {
        cube: { dtype: 'U16', shape: [1, 2, 3], data: new Uint16Array(6) },
        wavelengths: { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) },
      },
      { camera_id: 'cam3', frame_id: '12' },
    ),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inspect(...args: string[]) {
  const io = captureIO();
  const code = await runCli(['inspect', ...args], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('cubestream inspect', () => {
  it('describes an ENVI cube as JSON', async () => {
    const { code, out, err } = await inspect(join(dir, 'cube.hdr'), '--json');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      format: 'envi',
      file: join(dir, 'cube.hdr'),
      lines: 4,
      samples: 3,
      bands: 2,
      dataType: 12,
      dataTypeName: 'uint16',
      interleave: 'bil',
      byteOrder: 1,
      headerOffset: 0,
      wavelengthRange: [450, 900],
      wavelengthUnits: 'nm',
      dataFile: join(dir, 'cube.img'),
      expectedBytes: 48,
      actualBytes: 48,
      sizeOk: true,
      description: 'test cube',
    });
  });

  it('describes an ENVI cube as text', async () => {
    const { code, out } = await inspect(join(dir, 'cube.hdr'));
    expect(code).toBe(0);
    expect(out).toContain(`ENVI cube ${join(dir, 'cube.hdr')}\n`);
    expect(out).toMatch(/lines x samples x bands +4 x 3 x 2\n/);
    expect(out).toMatch(/data type +12 \(uint16\)\n/);
    expect(out).toMatch(/byte order +1 \(big-endian\)\n/);
    expect(out).toMatch(/wavelengths +450 \.\. 900 \(nm\)\n/);
    expect(out).toMatch(/size +48 bytes, expected 48: ok\n/);
  });

  it('reports a size mismatch and exits 1 with one line on stderr', async () => {
    await writeEnviCube(
      join(dir, 'short.hdr'),
      { lines: 2, samples: 2, bands: 1, data: new Float32Array(4) },
      { dataType: 4, interleave: 'bsq' },
    );
    await truncate(join(dir, 'short.img'), 10);
    const { code, out, err } = await inspect(join(dir, 'short.hdr'), '--json');
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ expectedBytes: 16, actualBytes: 10, sizeOk: false });
    expect(err).toBe(
      `cubestream inspect: data file ${join(dir, 'short.img')} holds 10 bytes, header says 16\n`,
    );
  });

  it('describes a safetensors file', async () => {
    const file = join(dir, 'frame.safetensors');
    const json = await inspect(file, '--json');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out);
    expect(parsed.tensors).toEqual([
      { name: 'cube', dtype: 'U16', shape: [1, 2, 3] },
      { name: 'wavelengths', dtype: 'F32', shape: [3] },
    ]);
    expect(parsed.metadata).toEqual({ camera_id: 'cam3', frame_id: '12' });
    const text = await inspect(file);
    expect(text.out).toContain('    cube  U16  [1, 2, 3]\n');
    expect(text.out).toContain('    camera_id = cam3\n');
  });

  it.each([
    [
      'a missing header',
      'missing.hdr',
      /^cubestream inspect: ENVI header .*missing\.hdr: cannot be read \(ENOENT.*\n$/,
    ],
    [
      'a missing safetensors file',
      'missing.safetensors',
      /^cubestream inspect: safetensors: .*cannot be read.*\n$/,
    ],
    ['a corrupt safetensors file', 'cube.hdr.safetensors', /^cubestream inspect: safetensors: .*\n$/],
  ])('exits 1 with one line for %s', async (_label, name, pattern) => {
    if (name === 'cube.hdr.safetensors') await writeFile(join(dir, name), 'not safetensors at all');
    const { code, err, out } = await inspect(join(dir, name));
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(pattern);
    expect(err.split('\n')).toHaveLength(2);
  });

  it('exits 1 with one line for a header without its data file', async () => {
    await writeFile(
      join(dir, 'orphan.hdr'),
      'ENVI\nsamples = 1\nlines = 1\nbands = 1\ndata type = 1\ninterleave = bsq\n',
    );
    const { code, err } = await inspect(join(dir, 'orphan.hdr'));
    expect(code).toBe(1);
    expect(err).toMatch(
      /^cubestream inspect: ENVI header .*orphan\.hdr: no data file found next to it \(tried .*\)\n$/,
    );
  });

  it('exits 2 for a bad command line', async () => {
    expect((await inspect()).code).toBe(2);
    const other = await inspect(join(dir, 'cube.img'));
    expect(other.code).toBe(2);
    expect(other.err).toContain('expects a .hdr or .safetensors file');
  });
});

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dataDir = resolve(repoRoot, '../shared/data');
const present = existsSync(dataDir);
const required = process.env.CI === 'true';
if (!present && !required) console.warn(`skipping inspect on real data: ${dataDir} is missing`);

describe.skipIf(!present && !required)('cubestream inspect on a real scene', () => {
  it('reads abu-beach-1', async () => {
    const { code, out } = await inspect(join(dataDir, 'abu-beach-1', 'cube.hdr'), '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      lines: 150,
      samples: 150,
      bands: 188,
      interleave: 'bsq',
      dataType: 2,
      dataTypeName: 'int16',
      wavelengthUnits: 'index',
      wavelengthRange: [0, 187],
      expectedBytes: 150 * 150 * 188 * 2,
      sizeOk: true,
    });
  });
});
