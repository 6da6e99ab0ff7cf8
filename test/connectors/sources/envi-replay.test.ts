import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom, lastValueFrom, type Observable, take, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RejectedMessage } from '../../../connectors/sources/broker-frame-source.js';
import { NoReadableCubeError } from '../../../connectors/sources/envi-rejects.js';
import { enviReplay } from '../../../connectors/sources/envi-replay.js';
import type { SourceState } from '../../../connectors/sources/source-state.js';
import { type CubeFrame, InvalidFrameError } from '../../../src/core/frame.js';
import { OptionError } from '../../../src/core/options.js';
import type { RowsReady } from '../../../src/core/rows-ready.js';
import { EnviDataError, EnviHeaderError } from '../../../src/io/envi/errors.js';
import { readEnviCube } from '../../../src/io/envi/reader.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';

const LINES = 23;
const SAMPLES = 5;
const BANDS = 3;
const WAVELENGTHS = [450, 550, 650];

let dir = '';
let cubeHdr = '';
let cubeData: Float32Array = new Float32Array(0);
let mask: Uint8Array = new Uint8Array(0);

function pattern(seed: number): Float32Array {
  return new Float32Array(LINES * SAMPLES * BANDS).map((_, i) => ((i * 37 + seed * 101) % 1000) / 7);
}

async function writeCube(hdr: string, data: Float32Array, interleave: 'bsq' | 'bil' | 'bip' = 'bsq') {
  await writeEnviCube(
    hdr,
    { lines: LINES, samples: SAMPLES, bands: BANDS, data, wavelengths: WAVELENGTHS },
    { dataType: 4, interleave },
  );
}

/** File descriptors of this process open on `file` (Linux /proc). */
function openFdsTo(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // fd closed while listing
    }
  }
  return n;
}

function states(state: Observable<SourceState>): SourceState[] {
  const seen: SourceState[] = [];
  state.subscribe((s) => seen.push(s));
  return seen;
}

function reassemble(blocks: CubeFrame[]): Float32Array {
  const out = new Float32Array(LINES * SAMPLES * BANDS);
  for (const b of blocks) out.set(b.data, b.rowOffset * SAMPLES * BANDS);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-replay-'));
  cubeHdr = join(dir, 'belt.hdr');
  cubeData = pattern(1);
  await writeCube(cubeHdr, cubeData);
  mask = new Uint8Array(LINES * SAMPLES).map((_, i) => (i % 7 === 0 ? 1 : 0));
  await writeEnviCube(
    join(dir, 'belt_mask.hdr'),
    { lines: LINES, samples: SAMPLES, bands: 1, data: Float32Array.from(mask) },
    { dataType: 1, interleave: 'bsq' },
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('enviReplay', () => {
  it('replays a cube in row blocks that reassemble exactly, with labels and wavelengths', async () => {
    const source = enviReplay({ path: cubeHdr, blockRows: 4, cameraId: 'line7' });
    const seen = states(source.state);
    const blocks = await lastValueFrom(source.frames.pipe(toArray()));
    expect(blocks.map((b) => [b.rowOffset, b.height])).toEqual([
      [0, 4],
      [4, 4],
      [8, 4],
      [12, 4],
      [16, 4],
      [20, 3],
    ]);
    for (const b of blocks) {
      expect(b).toMatchObject({
        cameraId: 'line7',
        frameId: 0,
        totalRows: LINES,
        width: SAMPLES,
        bands: BANDS,
      });
      expect(Array.from(b.wavelengths)).toEqual(WAVELENGTHS);
      expect(b.wavelengthUnits).toBe('nm');
      expect(b.labels).toEqual(mask.slice(b.rowOffset * SAMPLES, (b.rowOffset + b.height) * SAMPLES));
    }
    expect(reassemble(blocks)).toEqual(cubeData);
    expect(seen).toEqual(['starting', 'running', 'ended']);
    expect(openFdsTo(join(dir, 'belt.img'))).toBe(0);
  });

  it('emits the whole cube as one frame by default', async () => {
    const [frame, ...rest] = await lastValueFrom(enviReplay({ path: cubeHdr }).frames.pipe(toArray()));
    expect(rest).toHaveLength(0);
    expect(frame?.height).toBe(LINES);
    expect(frame?.data).toEqual(cubeData);
  });

  it('paces with linesPerSecond and keeps order and counts', async () => {
    const blocks = await lastValueFrom(
      enviReplay({ path: cubeHdr, blockRows: 5, linesPerSecond: 2000 }).frames.pipe(toArray()),
    );
    expect(blocks.map((b) => b.rowOffset)).toEqual([0, 5, 10, 15, 20]);
    expect(reassemble(blocks)).toEqual(cubeData);
    for (let i = 1; i < blocks.length; i++) {
      expect(blocks[i]?.capturedAt).toBeGreaterThanOrEqual(
        blocks[i - 1]?.capturedAt ?? Number.POSITIVE_INFINITY,
      );
    }
  });

  it('paced, publishes the rows of each block as its lines arrive, in the buffer its frame carries', async () => {
    const source = enviReplay({ path: cubeHdr, blockRows: 10, linesPerSecond: 100 });
    const progress: RowsReady[] = [];
    const rows = source.rows?.subscribe((r) => progress.push(r));
    const blocks = await lastValueFrom(source.frames.pipe(toArray()));
    rows?.unsubscribe();
    expect(reassemble(blocks)).toEqual(cubeData);
    for (const block of blocks) {
      // 10 lines at 100 lines/s (100 ms): several steps, growing, the last line only with the frame.
      const mine = progress.filter((r) => r.data === block.data).map((r) => r.rows);
      expect(mine.length).toBeGreaterThan(1);
      expect(mine).toEqual([...mine].sort((x, y) => x - y));
      expect(Math.max(...mine)).toBeLessThan(block.height);
    }
    expect(progress[0]).toMatchObject({ height: 10, width: blocks[0]?.width, bands: blocks[0]?.bands });
  });

  it('reuses the buffers a consumer hands back, with the same data', async () => {
    const source = enviReplay({ path: cubeHdr, blockRows: 5 });
    const copies: Float32Array[] = [];
    const buffers = new Set<Float32Array>();
    const blocks = await lastValueFrom(
      source.frames.pipe(
        tap((block) => {
          copies.push(Float32Array.from(block.data));
          buffers.add(block.data);
          expect(block.release).toBeTypeOf('function');
          block.release?.();
        }),
        toArray(),
      ),
    );
    expect(reassemble(blocks.map((b, i) => ({ ...b, data: copies[i] as Float32Array })))).toEqual(cubeData);
    expect(buffers.size).toBe(2); // one for the 5-line blocks, one for the last 3 lines
  });

  it('loops over a folder with increasing frame ids, skipping mask headers', async () => {
    const folder = join(dir, 'folder');
    await mkdir(join(folder, 'b'), { recursive: true });
    const second = pattern(2);
    await writeCube(join(folder, 'a.hdr'), cubeData, 'bip');
    await writeCube(join(folder, 'b', 'cube.hdr'), second, 'bil');
    await writeEnviCube(
      join(folder, 'b', 'mask.hdr'),
      { lines: LINES, samples: SAMPLES, bands: 1, data: new Float32Array(LINES * SAMPLES).fill(1) },
      { dataType: 1, interleave: 'bsq' },
    );
    const source = enviReplay({ path: folder, loop: true });
    const frames = await lastValueFrom(source.frames.pipe(take(5), toArray()));
    expect(frames.map((f) => f.frameId)).toEqual([0, 1, 2, 3, 4]);
    expect(frames.map((f) => f.data)).toEqual([cubeData, second, cubeData, second, cubeData]);
    expect(frames.map((f) => f.labels === undefined)).toEqual([true, false, true, false, true]);
    expect(frames[1]?.labels?.every((v) => v === 1)).toBe(true);
    await firstValueFrom(source.state.pipe(filter((s) => s === 'ended')));
    expect(openFdsTo(join(folder, 'a.img'))).toBe(0);
  });

  it('closes the file on unsubscribe', async () => {
    const dataFile = join(dir, 'belt.img');
    const source = enviReplay({ path: cubeHdr, blockRows: 1, linesPerSecond: 50 });
    let received = 0;
    let openWhileRunning = -1;
    await new Promise<void>((done) => {
      const subscription = source.frames.subscribe((frame) => {
        received++;
        if (frame.rowOffset === 1) {
          openWhileRunning = openFdsTo(dataFile);
          subscription.unsubscribe();
          done();
        }
      });
    });
    expect(openWhileRunning).toBe(1);
    await firstValueFrom(source.state.pipe(filter((s) => s === 'ended')));
    expect(openFdsTo(dataFile)).toBe(0);
    expect(received).toBe(2);
  });

  it('sends a missing file to the error channel and state error', async () => {
    const source = enviReplay({ path: join(dir, 'nope.hdr') });
    const seen = states(source.state);
    const error = await lastValueFrom(source.frames).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnviDataError);
    expect((error as EnviDataError).code).toBe('missing_data_file');
    expect((error as Error).message).toBe(`ENVI path ${join(dir, 'nope.hdr')} does not exist`);
    expect(seen).toEqual(['starting', 'error']);
  });

  it('sends a header without data file to the error channel', async () => {
    const hdr = join(dir, 'orphan.hdr');
    await writeFile(hdr, 'ENVI\nsamples = 2\nlines = 2\nbands = 1\ndata type = 4\ninterleave = bsq\n');
    const error = await lastValueFrom(enviReplay({ path: hdr }).frames).catch((e: unknown) => e);
    expect((error as EnviDataError).code).toBe('missing_data_file');
    const bad = join(dir, 'bad.hdr');
    await writeFile(bad, 'ENVX\n');
    const headerError = await lastValueFrom(enviReplay({ path: bad }).frames).catch((e: unknown) => e);
    expect(headerError).toBeInstanceOf(EnviHeaderError);
  });

  it('sends a truncated file to the error channel, closing it', async () => {
    const hdr = join(dir, 'short.hdr');
    await writeCube(hdr, cubeData, 'bip');
    await truncate(join(dir, 'short.img'), 100);
    const source = enviReplay({ path: hdr, blockRows: 2 });
    const error = await lastValueFrom(source.frames).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnviDataError);
    expect((error as EnviDataError).code).toBe('truncated');
    expect(await firstValueFrom(source.state)).toBe('error');
    expect(openFdsTo(join(dir, 'short.img'))).toBe(0);
  });

  it('checks block size against maxValues before reading', async () => {
    const error = await lastValueFrom(enviReplay({ path: cubeHdr, maxValues: 100 }).frames).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe(
      'invalid frame: height*width*bands = "23x5x3 = 345": exceeds the limit of 100 values per frame',
    );
  });

  it('rejects bad options at call time', () => {
    expect(() => enviReplay({ path: cubeHdr, blockRows: 0 })).toThrow(OptionError);
    expect(() => enviReplay({ path: cubeHdr, linesPerSecond: -1 })).toThrow(
      'enviReplay option linesPerSecond = -1: must be a positive number',
    );
  });
});

describe('enviReplay with onReject: bad cubes are skipped', () => {
  /** A folder with cubes a, b, c (b's data file cut short when `truncate` names it), written anew. */
  async function folderOf(name: string, truncated: readonly string[]): Promise<string> {
    const folder = join(dir, name);
    await mkdir(folder, { recursive: true });
    for (const [i, cube] of ['a', 'b', 'c'].entries()) {
      await writeCube(join(folder, `${cube}.hdr`), pattern(10 + i), 'bil');
      if (truncated.includes(cube)) await truncate(join(folder, `${cube}.img`), 100);
    }
    return folder;
  }

  it('replays every block of the good cubes and reports the truncated one, naming its file', async () => {
    const folder = await folderOf('one-bad', ['b']);
    const rejected: RejectedMessage[] = [];
    const source = enviReplay({
      path: folder,
      blockRows: 8,
      cameraId: 'line2',
      onReject: (r) => rejected.push(r),
    });
    const seen = states(source.state);
    const blocks = await lastValueFrom(source.frames.pipe(toArray()));
    // a and c, three blocks each (8 + 8 + 7 lines), with consecutive frame ids.
    expect(blocks.map((b) => [b.frameId, b.rowOffset])).toEqual([
      [0, 0],
      [0, 8],
      [0, 16],
      [1, 0],
      [1, 8],
      [1, 16],
    ]);
    expect(reassemble(blocks.filter((b) => b.frameId === 0))).toEqual(pattern(10));
    expect(reassemble(blocks.filter((b) => b.frameId === 1))).toEqual(pattern(12));
    expect(rejected).toHaveLength(1);
    const [reject] = rejected;
    expect(reject?.error).toBeInstanceOf(InvalidFrameError);
    expect(reject?.error.code).toBe('decode');
    expect(reject?.error.message).toBe(
      `invalid frame: file = "b.hdr": cube ${join(folder, 'b.hdr')} skipped: ENVI data file ${join(folder, 'b.img')} is truncated: expected 1380 bytes (header offset 0 + 23 lines x 5 samples x 3 bands x 4 bytes), found 100`,
    );
    expect(reject?.error.cause).toBeInstanceOf(EnviDataError);
    expect(reject).toMatchObject({ cameraId: 'line2', channel: join(folder, 'b.hdr'), bytes: 100 });
    expect(seen).toEqual(['starting', 'running', 'ended']);
    expect(openFdsTo(join(folder, 'b.img'))).toBe(0);
  });

  it('reports a bad cube on every pass of a loop and keeps replaying the good ones', async () => {
    const folder = await folderOf('loop-bad', ['a']);
    const rejected: RejectedMessage[] = [];
    const source = enviReplay({ path: folder, loop: true, onReject: (r) => rejected.push(r) });
    const frames = await lastValueFrom(source.frames.pipe(take(4), toArray()));
    expect(frames.map((f) => f.frameId)).toEqual([0, 1, 2, 3]);
    expect(frames.map((f) => f.data)).toEqual([pattern(11), pattern(12), pattern(11), pattern(12)]);
    expect(rejected.map((r) => r.channel)).toEqual([join(folder, 'a.hdr'), join(folder, 'a.hdr')]);
  });

  it('ends with NoReadableCubeError, listing each cube, when every cube is bad, even with loop', async () => {
    const folder = await folderOf('all-bad', ['a', 'b', 'c']);
    const rejected: RejectedMessage[] = [];
    const source = enviReplay({ path: folder, loop: true, onReject: (r) => rejected.push(r) });
    const seen = states(source.state);
    const error = await lastValueFrom(source.frames).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoReadableCubeError);
    expect((error as NoReadableCubeError).code).toBe('no_readable_cube');
    expect((error as Error).message).toMatch(
      new RegExp(
        `^enviReplay: none of the 3 cube\\(s\\) at ${folder} could be replayed \\(${join(folder, 'a.hdr')}: ENVI data file .* is truncated`,
      ),
    );
    expect((error as NoReadableCubeError).failures.map((f) => f.hdrPath)).toEqual(
      ['a', 'b', 'c'].map((c) => join(folder, `${c}.hdr`)),
    );
    expect(rejected).toHaveLength(3);
    expect(seen).toEqual(['starting', 'error']);
  });

  it('skips a cube whose blocks exceed maxValues, with the reason size', async () => {
    const folder = join(dir, 'sizes');
    await mkdir(folder, { recursive: true });
    await writeCube(join(folder, 'big.hdr'), pattern(20));
    await writeEnviCube(
      join(folder, 'small.hdr'),
      { lines: 2, samples: 2, bands: BANDS, data: new Float32Array(12).fill(1), wavelengths: WAVELENGTHS },
      { dataType: 4, interleave: 'bsq' },
    );
    const rejected: RejectedMessage[] = [];
    const blocks = await lastValueFrom(
      enviReplay({ path: folder, maxValues: 100, onReject: (r) => rejected.push(r) }).frames.pipe(toArray()),
    );
    expect(blocks.map((b) => [b.frameId, b.height, b.width])).toEqual([[0, 2, 2]]);
    expect(rejected.map((r) => r.error.code)).toEqual(['size']);
    expect(rejected[0]?.error.message).toContain(
      `cube ${join(folder, 'big.hdr')} skipped: invalid frame: height*width*bands`,
    );
  });
});

const dataDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../..', '../shared/data');
const present = existsSync(dataDir);
const required = process.env.CI === 'true';
if (!present && !required) console.warn(`skipping real-scene replay: ${dataDir} is missing`);

describe.skipIf(!present && !required)('enviReplay on a real scene', () => {
  it('replays abu-beach-3 in blocks with its mask', async () => {
    const hdr = join(dataDir, 'abu-beach-3', 'cube.hdr');
    const blocks = await lastValueFrom(enviReplay({ path: hdr, blockRows: 32 }).frames.pipe(toArray()));
    expect(blocks.map((b) => b.height)).toEqual([32, 32, 32, 4]);
    const cube = await readEnviCube(hdr);
    const joined = new Float32Array(cube.data.length);
    for (const b of blocks) joined.set(b.data, b.rowOffset * 100 * 188);
    // element loop: toEqual on 1.9 M floats is slow
    let mismatches = 0;
    for (let i = 0; i < joined.length; i++) if (joined[i] !== cube.data[i]) mismatches++;
    expect(mismatches).toBe(0);
    expect(cube.data.some((v) => v !== 0)).toBe(true);
    const anomalies = blocks.reduce((n, b) => n + (b.labels?.reduce((m, v) => m + v, 0) ?? 0), 0);
    expect(anomalies).toBe(11);
    expect(blocks[0]?.wavelengthUnits).toBe('index');
  });
});
