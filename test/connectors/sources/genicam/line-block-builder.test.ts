import { describe, expect, it } from 'vitest';
import {
  LineBlockBuilder,
  PREFAULT_MAX_BYTES,
  PREFAULTED_BLOCKS,
  prefaultBlocks,
  prefaultCount,
  warmLinePath,
} from '../../../../connectors/sources/genicam/line-block-builder.js';
import { CameraGeometryError } from '../../../../connectors/sources/genicam/line-layout.js';
import { UnsupportedPixelFormatError } from '../../../../connectors/sources/genicam/pixel-formats.js';
import { InvalidFrameError, validateFrame } from '../../../../src/core/frame.js';
import { FrameBufferPool } from '../../../../src/core/frame-buffer-pool.js';
import { reflectanceGains } from '../../../../src/core/reflectance.js';
import type { RowsReady } from '../../../../src/core/rows-ready.js';

/** A camera image of 3 pixels x 2 bands (bands on the rows), as Mono16 little-endian bytes. */
function mono16Line(counts: readonly number[], capturedAt: number) {
  const bytes = new Uint8Array(counts.length * 2);
  counts.forEach((c, i) => {
    bytes[2 * i] = c & 0xff;
    bytes[2 * i + 1] = c >> 8;
  });
  return { bytes, width: 3, height: 2, pixelFormat: 'Mono16', capturedAt };
}

const CAMERA = { width: 3, height: 2, pixelFormat: 'Mono16' };

function builder(extra: Partial<ConstructorParameters<typeof LineBlockBuilder>[0]> = {}) {
  const progress: RowsReady[] = [];
  const pool = new FrameBufferPool();
  const b = new LineBlockBuilder({
    cameraId: 'line1',
    layout: 'bands-rows',
    blockRows: 2,
    pool,
    onRows: (rows) => progress.push(rows),
    ...extra,
  });
  return { b, progress, pool };
}

describe('LineBlockBuilder', () => {
  it('gathers blockRows lines into a BIP block, published line by line, stamped with its last line', () => {
    const { b, progress } = builder();
    expect(b.open(CAMERA)).toEqual({ width: 3, bands: 2 });
    // Line 1: pixel x has (x+1, 10(x+1)); line 2: (100+x, 200+x).
    expect(b.add(mono16Line([1, 2, 3, 10, 20, 30], 1000))).toBeUndefined();
    expect(progress).toHaveLength(1);
    expect(progress[0]).toMatchObject({ cameraId: 'line1', height: 2, width: 3, bands: 2, rows: 1 });
    expect(progress[0]!.wavelengthUnits).toBe('index');
    const block = b.add(mono16Line([100, 101, 102, 200, 201, 202], 1010))!;
    expect(block).toBeDefined();
    expect(progress).toHaveLength(1); // the last line emits the block instead
    expect(block.data).toBe(progress[0]!.data);
    expect([...block.data]).toEqual([1, 10, 2, 20, 3, 30, 100, 200, 101, 201, 102, 202]);
    expect(block).toMatchObject({
      cameraId: 'line1',
      frameId: 0,
      rowOffset: 0,
      totalRows: 2,
      height: 2,
      width: 3,
      bands: 2,
      capturedAt: 1010,
      wavelengthUnits: 'index',
      radiometry: 'counts',
    });
    expect([...block.wavelengths]).toEqual([0, 1]);
    expect(() => validateFrame(block)).not.toThrow();
    expect(b.blocks).toBe(1);
  });

  it('numbers blocks from 0 and reuses a released block buffer', () => {
    const { b, pool } = builder();
    b.open(CAMERA);
    b.add(mono16Line([0, 0, 0, 0, 0, 0], 1));
    const first = b.add(mono16Line([0, 0, 0, 0, 0, 0], 2))!;
    first.release!();
    b.add(mono16Line([1, 1, 1, 1, 1, 1], 3));
    const second = b.add(mono16Line([1, 1, 1, 1, 1, 1], 4))!;
    expect(second.frameId).toBe(1);
    expect(second.data).toBe(first.data);
    expect(pool.allocated).toBe(1);
  });

  it('states its wavelengths when given, and converts to reflectance with gains', () => {
    const gains = reflectanceGains({
      width: 3,
      bands: 2,
      dark: new Float32Array(6),
      white: Float32Array.of(100, 100, 100, 100, 100, 100),
    });
    const { b } = builder({
      blockRows: 1,
      gains,
      wavelengths: { values: Float32Array.of(500, 600), units: 'nm' },
    });
    b.open(CAMERA);
    const block = b.add(mono16Line([10, 20, 30, 50, 60, 70], 5))!;
    expect(block.radiometry).toBe('reflectance');
    expect(block.finite).toBe(true);
    expect(block.wavelengthUnits).toBe('nm');
    expect([...block.wavelengths]).toEqual([500, 600]);
    [0.1, 0.5, 0.2, 0.6, 0.3, 0.7].forEach((value, i) => {
      expect(block.data[i]).toBeCloseTo(value, 6);
    });
  });

  it('refuses a line of another size or image, writing nothing: the next line is still the first row', () => {
    const { b } = builder();
    b.open(CAMERA);
    const short = { ...mono16Line([1, 2, 3, 4, 5, 6], 1), bytes: new Uint8Array(10) };
    expect(() => b.add(short)).toThrow(InvalidFrameError);
    expect(() => b.add(short)).toThrow('6 pixels in Mono16 are 12 bytes');
    expect(() => b.add({ ...mono16Line([1, 2, 3, 4, 5, 6], 1), width: 6, height: 1 })).toThrow(
      'invalid frame: line = "6 x 1 Mono16": the camera was opened at 3 x 2 Mono16',
    );
    expect(b.pendingLines).toBe(0);
  });

  it('checks the camera image at open against wavelengths, references and the pixel format', () => {
    expect(() =>
      builder({ wavelengths: { values: Float32Array.of(1, 2, 3), units: 'nm' } }).b.open(CAMERA),
    ).toThrow(CameraGeometryError);
    const gains = reflectanceGains({
      width: 4,
      bands: 2,
      dark: new Float32Array(8),
      white: new Float32Array(8).fill(1),
    });
    expect(() => builder({ gains }).b.open(CAMERA)).toThrow(
      'camera lines are 3 pixels x 2 bands (Width x Height 3 x 2, lineLayout bands-rows), but the references ' +
        '(source.calibration) are 4 pixels x 2 bands: capture them again at these settings',
    );
    expect(() => builder().b.open({ ...CAMERA, pixelFormat: 'RGB8' })).toThrow(UnsupportedPixelFormatError);
  });

  it('keeps the block being filled across a reopen at the same geometry, drops it at another', () => {
    const { b } = builder();
    b.open(CAMERA);
    b.add(mono16Line([1, 2, 3, 4, 5, 6], 1));
    b.open(CAMERA);
    expect(b.pendingLines).toBe(1);
    b.open({ width: 2, height: 2, pixelFormat: 'Mono8' });
    expect(b.pendingLines).toBe(0);
    const mono8 = {
      bytes: Uint8Array.of(1, 2, 3, 4),
      width: 2,
      height: 2,
      pixelFormat: 'Mono8',
      capturedAt: 9,
    };
    b.add(mono8);
    expect([...b.add(mono8)!.data]).toEqual([1, 3, 2, 4, 1, 3, 2, 4]);
  });
});

describe('warmLinePath', () => {
  it('runs every pixel format and layout, with references that fit or not, and publishes nothing', async () => {
    const gains = reflectanceGains({
      width: 8,
      bands: 4,
      dark: new Float32Array(32),
      white: new Float32Array(32).fill(100),
    });
    for (const pixelFormat of ['Mono8', 'Mono10', 'Mono12', 'Mono12Packed', 'Mono12p', 'Mono16'])
      for (const layout of ['bands-rows', 'bands-columns'] as const)
        await warmLinePath({ width: 8, height: 4, pixelFormat }, { layout, gains, lines: 20 });
    await warmLinePath({}, { layout: 'bands-rows', lines: 3 });
  });

  it('names a pixel format it cannot read', async () => {
    await expect(warmLinePath({ pixelFormat: 'RGB8' }, { layout: 'bands-rows' })).rejects.toThrow(
      UnsupportedPixelFormatError,
    );
  });
});

describe('prefaultBlocks', () => {
  it("fills the pool with blocks of the configured image under the layout, which the builder's blocks then reuse", () => {
    const { b, pool } = builder();
    expect(prefaultBlocks(pool, { width: 3, height: 2 }, { layout: 'bands-rows', blockRows: 2 })).toBe(
      PREFAULTED_BLOCKS,
    );
    expect(prefaultBlocks(pool, { width: 3, height: 2 }, { layout: 'bands-rows', blockRows: 2 })).toBe(0);
    b.open(CAMERA);
    b.add(mono16Line([1, 2, 3, 4, 5, 6], 10));
    const block = b.add(mono16Line([1, 2, 3, 4, 5, 6], 20));
    expect(block?.data.length).toBe(2 * 3 * 2);
    expect([pool.allocated, pool.reused]).toEqual([PREFAULTED_BLOCKS, 1]);
  });

  it('makes fewer large blocks resident, within PREFAULT_MAX_BYTES, and always one', () => {
    const blockBytes = (rows: number) => rows * 1024 * 224 * 4;
    expect(prefaultCount(blockBytes(32))).toBe(PREFAULTED_BLOCKS);
    expect(prefaultCount(blockBytes(64))).toBe(4);
    expect(prefaultCount(blockBytes(64)) * blockBytes(64)).toBeLessThanOrEqual(PREFAULT_MAX_BYTES);
    expect(prefaultCount(blockBytes(4096))).toBe(1);
  });

  it('adds nothing when Width or Height is not configured', () => {
    const pool = new FrameBufferPool();
    expect(prefaultBlocks(pool, { width: 3 }, { layout: 'bands-columns', blockRows: 2 })).toBe(0);
    expect(prefaultBlocks(pool, {}, { layout: 'bands-rows', blockRows: 2 })).toBe(0);
    expect(pool.allocated).toBe(0);
  });
});
