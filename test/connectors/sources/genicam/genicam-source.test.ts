/**
 * The genicam source against Aravis's fake GigE Vision camera (real GVCP/GVSP on 127.0.0.1):
 * lines of the camera's test pattern arrive as block rows with the values the camera computed,
 * in Mono8 and Mono16, in counts or reflectance; a bad geometry or feature fails the stream with
 * a clear error. Under CI=true a missing camera fails these tests instead of skipping them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DroppedLines, genicamSource } from '../../../../connectors/sources/genicam/genicam-source.js';
import type { SourceState } from '../../../../connectors/sources/source-state.js';
import { type FakeMonoFormat, fakeCameraCount } from '../../../../scripts/genicam-fake-pattern.js';
import type { CubeFrame } from '../../../../src/core/frame.js';
import type { RowsReady } from '../../../../src/core/rows-ready.js';
import { saveReferences } from '../../../../src/model/radiometric-references.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../../helpers/fake-gv-camera.js';

const skip = !fakeCameraInstalled && process.env.CI !== 'true';

/** Frame id of the line in row `row` of a bands-rows block, recovered from its pixel 0, band 0. */
function lineId(format: FakeMonoFormat, block: CubeFrame, row: number): number {
  const v = block.data[row * block.width * block.bands]!;
  // Mono16: v = 256 f mod 65535, and 256 * 256 = 1 mod 65535. Mono8: v = f mod 255.
  return format === 'Mono16' ? (256 * v) % 65535 : v;
}

/** Rows of `block` that differ from the fake camera's pattern for their line id (bands-rows). */
function rowsOffPattern(format: FakeMonoFormat, block: CubeFrame): number[] {
  const off: number[] = [];
  for (let row = 0; row < block.height; row++) {
    const id = lineId(format, block, row);
    let same = true;
    for (let x = 0; x < block.width && same; x++)
      for (let b = 0; b < block.bands && same; b++)
        same = block.data[(row * block.width + x) * block.bands + b] === fakeCameraCount(format, x, b, id);
    if (!same) off.push(row);
  }
  return off;
}

describe.skipIf(skip)('genicamSource with the fake GigE Vision camera', () => {
  let camera: FakeCamera;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cubestream-genicam-source-'));
    camera = await startFakeCamera({ serial: 'CUBESRC' });
  }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await camera?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  for (const format of ['Mono16', 'Mono8'] as const) {
    it(`${format}: blocks of the camera's lines, rows published as they come, stopping after maxBlocks`, async () => {
      const states: SourceState[] = [];
      const rows: RowsReady[] = [];
      const dropped: DroppedLines[] = [];
      const opened: string[] = [];
      const source = genicamSource({
        // `camera:` takes an address or a serial: one of each.
        camera: format === 'Mono8' ? camera.serial : camera.address,
        cameraId: 'line1',
        features: { width: 48, height: 16, pixelFormat: format, frameRate: 200 },
        blockRows: 6,
        maxBlocks: 3,
        onOpened: (c, reconnected) => opened.push(`${c.serial} ${c.pixelFormat} ${reconnected}`),
        onDropped: (d) => dropped.push(d),
      });
      source.state.subscribe((s) => states.push(s));
      source.rows.subscribe((r) => rows.push(r));
      const blocks = await lastValueFrom(source.frames.pipe(toArray()));

      expect(opened).toEqual([`CUBESRC ${format} false`]);
      expect(states).toEqual(['starting', 'running', 'ended']);
      expect(blocks.map((b) => b.frameId)).toEqual([0, 1, 2]);
      for (const block of blocks) {
        expect(block).toMatchObject({
          cameraId: 'line1',
          rowOffset: 0,
          totalRows: 6,
          height: 6,
          width: 48,
          bands: 16,
          wavelengthUnits: 'index',
          radiometry: 'counts',
        });
        expect(rowsOffPattern(format, block)).toEqual([]);
        expect(Math.abs(block.capturedAt - Date.now())).toBeLessThan(60_000);
      }
      // Lines of a block are the camera's consecutive lines, unless the camera reported some lost.
      if (dropped.length === 0) {
        const ids = blocks.flatMap((b) => Array.from({ length: b.height }, (_, r) => lineId(format, b, r)));
        const modulus = format === 'Mono16' ? 65535 : 255;
        for (let i = 1; i < ids.length; i++) expect((ids[i]! - ids[i - 1]! + modulus) % modulus).toBe(1);
      }
      // Every line but a block's last is published as progress on that block's buffer.
      expect(rows.map((r) => r.rows)).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
      expect(rows[0]!.data).toBe(blocks[0]!.data);
      expect(source.stats()?.lines).toBeGreaterThanOrEqual(18);
    });
  }

  it('converts lines to reflectance with references, warning about the settings they were taken at', async () => {
    const width = 32;
    const bands = 8;
    const refs = join(dir, 'refs');
    await saveReferences(refs, {
      width,
      bands,
      dark: new Float32Array(width * bands),
      white: new Float32Array(width * bands).fill(65536),
      takenAt: new Date().toISOString(),
      darkLines: 4,
      whiteLines: 4,
      settings: {
        camera: { id: camera.id, vendor: 'Aravis', model: 'Fake', serial: camera.serial },
        features: { Width: width, Height: bands, PixelFormat: 'Mono8' },
      },
    });
    const warnings: string[] = [];
    const source = genicamSource({
      camera: camera.address,
      features: { width, height: bands, pixelFormat: 'Mono16', frameRate: 200 },
      blockRows: 4,
      maxBlocks: 1,
      calibration: refs,
      onWarning: (w) => warnings.push(w),
    });
    const [block] = await lastValueFrom(source.frames.pipe(toArray()));
    expect(warnings).toEqual([
      'reflectance references taken with other settings: PixelFormat: references Mono8, camera Mono16',
    ]);
    expect(block?.radiometry).toBe('reflectance');
    const id = (256 * Math.round(block!.data[0]! * 65536)) % 65535;
    for (let x = 0; x < width; x++)
      for (let b = 0; b < bands; b++)
        expect(block!.data[x * bands + b]).toBeCloseTo(fakeCameraCount('Mono16', x, b, id) / 65536, 6);
  });

  it('a camera image that does not fit the wavelengths fails the stream, naming both', async () => {
    const states: SourceState[] = [];
    const source = genicamSource({
      camera: camera.address,
      features: { width: 32, height: 8, pixelFormat: 'Mono8' },
      wavelengths: [400, 500, 600],
    });
    source.state.subscribe((s) => states.push(s));
    await expect(firstValueFrom(source.frames)).rejects.toThrow(
      'camera image is 32 x 8 (Width x Height), so 8 bands (lineLayout bands-rows: bands = Height), but source.wavelengths has 3 values',
    );
    expect(states.at(-1)).toBe('error');
  });

  it('a feature the camera lacks fails the stream with the GenICam error naming it', async () => {
    const source = genicamSource({
      camera: camera.address,
      features: { width: 32, height: 8, extra: { NoSuchFeature: 3 } },
    });
    await expect(firstValueFrom(source.frames)).rejects.toThrow('NoSuchFeature');
  });
});
