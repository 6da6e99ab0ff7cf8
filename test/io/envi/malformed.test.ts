import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ENVI_HEADER_BYTES } from '../../../src/io/envi/data-file.js';
import { EnviDataError, EnviHeaderError } from '../../../src/io/envi/errors.js';
import { openEnvi, readEnviMask } from '../../../src/io/envi/reader.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-envi-bad-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function goodCube(name: string): Promise<string> {
  const hdr = join(dir, `${name}.hdr`);
  await writeEnviCube(
    hdr,
    { lines: 4, samples: 3, bands: 2, data: new Float32Array(24).map((_, i) => i) },
    { dataType: 12, interleave: 'bil' },
  );
  return hdr;
}

async function openError(hdr: string): Promise<Error> {
  const error = await openEnvi(hdr).then(
    async (reader) => {
      await reader.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error(`expected openEnvi(${hdr}) to fail`);
  return error;
}

describe('malformed ENVI files', () => {
  it('bad magic', async () => {
    const hdr = join(dir, 'magic.hdr');
    await writeFile(hdr, 'ENVY\nsamples = 1\n');
    const e = await openError(hdr);
    expect(e).toBeInstanceOf(EnviHeaderError);
    expect(e.message).toBe(`ENVI header ${hdr}: does not start with ENVI (first line: "ENVY")`);
  });

  it('missing key, naming the key and the file', async () => {
    const hdr = join(dir, 'nokey.hdr');
    await writeFile(hdr, 'ENVI\nsamples = 3\nlines = 4\ndata type = 12\ninterleave = bil\n');
    const e = await openError(hdr);
    expect(e).toBeInstanceOf(EnviHeaderError);
    expect(e.message).toBe(`ENVI header ${hdr}: missing required key "bands"`);
  });

  it('complex data type', async () => {
    const hdr = join(dir, 'complex.hdr');
    await writeFile(hdr, 'ENVI\nsamples = 3\nlines = 4\nbands = 2\ndata type = 6\ninterleave = bsq\n');
    const e = await openError(hdr);
    expect(e.message).toBe(`ENVI header ${hdr}: data type 6 (complex64) is complex and not supported`);
  });

  it('truncated data, with expected and actual bytes', async () => {
    const hdr = await goodCube('short');
    await truncate(join(dir, 'short.img'), 47);
    const e = await openError(hdr);
    expect(e).toBeInstanceOf(EnviDataError);
    expect((e as EnviDataError).code).toBe('truncated');
    expect(e.message).toBe(
      `ENVI data file ${join(dir, 'short.img')} is truncated: expected 48 bytes (header offset 0 + 4 lines x 3 samples x 2 bands x 2 bytes), found 47`,
    );
  });

  it('data file larger than the header says', async () => {
    const hdr = await goodCube('long');
    await appendFile(join(dir, 'long.img'), new Uint8Array(2));
    const e = await openError(hdr);
    expect((e as EnviDataError).code).toBe('oversized');
    expect(e.message).toContain('expected 48 bytes');
    expect(e.message).toContain('found 50');
  });

  it('missing data file, listing the names tried', async () => {
    const hdr = join(dir, 'lonely.hdr');
    await writeFile(hdr, 'ENVI\nsamples = 3\nlines = 4\nbands = 2\ndata type = 12\ninterleave = bsq\n');
    const e = await openError(hdr);
    expect((e as EnviDataError).code).toBe('missing_data_file');
    expect(e.message).toBe(
      `ENVI header ${hdr}: no data file found next to it (tried lonely.img, lonely.raw, lonely.dat, lonely.bsq, lonely.bil, lonely.bip, lonely.IMG, lonely.RAW, lonely.DAT, lonely.BSQ, lonely.BIL, lonely.BIP, lonely)`,
    );
  });

  it('missing header file', async () => {
    const e = await openError(join(dir, 'nothing.hdr'));
    expect(e).toBeInstanceOf(EnviHeaderError);
    expect(e.message).toMatch(/^ENVI header .*nothing\.hdr: cannot be read \(ENOENT/);
  });

  it('finds upper-case and extension-less data files', async () => {
    const hdr = await goodCube('upper');
    const { rename } = await import('node:fs/promises');
    await rename(join(dir, 'upper.img'), join(dir, 'upper.BIL'));
    let reader = await openEnvi(hdr);
    expect(reader.dataPath).toBe(join(dir, 'upper.BIL'));
    await reader.close();
    await rename(join(dir, 'upper.BIL'), join(dir, 'upper'));
    reader = await openEnvi(hdr);
    expect(reader.dataPath).toBe(join(dir, 'upper'));
    await reader.close();
  });

  it('a mask with more than one band', async () => {
    const hdr = await goodCube('notmask');
    await expect(readEnviMask(hdr)).rejects.toThrow(`ENVI mask ${hdr} must have 1 band, has 2`);
  });

  it('a header file larger than any header (a data file named .hdr) is refused before it is read', async () => {
    const hdr = join(dir, 'huge.hdr');
    await writeFile(hdr, `ENVI\ndescription = {${'x'.repeat(MAX_ENVI_HEADER_BYTES)}}\n`);
    const e = await openError(hdr);
    expect(e).toBeInstanceOf(EnviHeaderError);
    expect(e.message).toMatch(
      /^ENVI header .*huge\.hdr: is \d+ bytes, more than the 4194304 bytes a header may have/,
    );
  });
});
