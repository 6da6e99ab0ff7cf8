import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enviReplay } from '../../../connectors/sources/envi-replay.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-replay-radiometry-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('enviReplay: radiometry', () => {
  it("gives each block the cube header's cubestream radiometry, and none when it says nothing", async () => {
    const cube = { lines: 4, samples: 2, bands: 2, data: new Float32Array(16).fill(100) };
    const counts = join(dir, 'counts.hdr');
    const plain = join(dir, 'plain.hdr');
    await writeEnviCube(counts, cube, { dataType: 12, interleave: 'bil', radiometry: 'counts' });
    await writeEnviCube(plain, cube, { dataType: 12, interleave: 'bil' });
    const blocks = await lastValueFrom(enviReplay({ path: counts, blockRows: 2 }).frames.pipe(toArray()));
    expect(blocks.map((b) => b.radiometry)).toEqual(['counts', 'counts']);
    const [unstated] = await lastValueFrom(enviReplay({ path: plain }).frames.pipe(toArray()));
    expect(unstated !== undefined && 'radiometry' in unstated).toBe(false);
  });
});
