import { describe, expect, it } from 'vitest';
import {
  createFrame,
  firstNonFinite,
  InvalidFrameError,
  isLastBlock,
  type Radiometry,
  sliceRows,
  stampFrame,
  validateFrame,
  validateGeometry,
} from '../../src/core/frame.js';

function ramp(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => i);
}

describe('createFrame', () => {
  it('fills defaults for a whole cube with band-index wavelengths', () => {
    const frame = createFrame({ height: 2, width: 3, bands: 4, data: ramp(24) });
    expect(frame).toMatchObject({
      cameraId: 'cam0',
      frameId: 0,
      rowOffset: 0,
      totalRows: 2,
      wavelengthUnits: 'index',
    });
    expect([...frame.wavelengths]).toEqual([0, 1, 2, 3]);
    expect(isLastBlock(frame)).toBe(true);
  });

  it('keeps a stated radiometry and leaves it out when not stated', () => {
    const stated = createFrame({ height: 1, width: 1, bands: 2, data: ramp(2), radiometry: 'reflectance' });
    expect(stated.radiometry).toBe('reflectance');
    expect(sliceRows(stated, 0, 1).radiometry).toBe('reflectance');
    expect('radiometry' in createFrame({ height: 1, width: 1, bands: 2, data: ramp(2) })).toBe(false);
  });

  it('marks given wavelengths as nanometres', () => {
    const frame = createFrame({ height: 1, width: 1, bands: 2, data: ramp(2), wavelengths: [500, 600] });
    expect(frame.wavelengthUnits).toBe('nm');
    expect(frame.wavelengths).toBeInstanceOf(Float32Array);
  });
});

describe('validateFrame', () => {
  const good = () =>
    createFrame({ height: 2, width: 3, bands: 4, data: ramp(24), wavelengths: [1, 2, 3, 4] });

  it.each([
    ['height', { height: 0 }, 'invalid frame: height = 0: must be a positive integer', 'shape'],
    ['width', { width: 1.5 }, 'invalid frame: width = 1.5: must be a positive integer', 'shape'],
    [
      'data length',
      { data: ramp(23) },
      'invalid frame: data = Float32Array(23): length must be height*width*bands = 2*3*4 = 24',
      'shape',
    ],
    [
      'wavelength count',
      { wavelengths: new Float32Array(3) },
      'invalid frame: wavelengths = Float32Array(3): must be a Float32Array of 4 values',
      'wavelengths',
    ],
    ['camera id', { cameraId: 'a/b' }, 'invalid frame: cameraId = "a/b"', 'metadata'],
    ['frame id', { frameId: -1 }, 'invalid frame: frameId = -1: must be a non-negative integer', 'metadata'],
    [
      'row offset',
      { rowOffset: 5, totalRows: 6 },
      'invalid frame: rowOffset = 5: block rows 5..6 exceed totalRows 6',
      'metadata',
    ],
    [
      'labels',
      { labels: new Uint8Array(5) },
      'invalid frame: labels = Uint8Array(5): must be a Uint8Array of height*width = 6',
      'labels',
    ],
    [
      'capturedAt',
      { capturedAt: Number.NaN },
      'invalid frame: capturedAt = NaN: must be a finite epoch-ms number',
      'metadata',
    ],
    [
      'radiometry',
      { radiometry: 'radiance' as string as Radiometry },
      'invalid frame: radiometry = "radiance": must be "counts" or "reflectance" (or absent)',
      'metadata',
    ],
  ])('rejects a bad %s', (_name, patch, message, code) => {
    const frame = { ...good(), ...patch };
    expect(() => validateFrame(frame)).toThrow(InvalidFrameError);
    try {
      validateFrame(frame);
    } catch (error) {
      expect((error as InvalidFrameError).message).toContain(message);
      expect((error as InvalidFrameError).code).toBe(code);
    }
  });

  it('names the pixel and band of a NaN', () => {
    const data = ramp(24);
    data[4 * 4 + 2] = Number.NaN; // pixel 4 = row 1, col 1; band 2
    expect(() => validateFrame({ ...good(), data })).toThrow(
      'invalid frame: data[pixel 4 (row 1, col 1), band 2] = NaN: must be finite',
    );
  });

  it('rejects Infinity but can skip the finite scan', () => {
    const data = ramp(24);
    data[0] = Number.POSITIVE_INFINITY;
    expect(() => validateFrame({ ...good(), data })).toThrow(/must be finite/);
    expect(() => validateFrame({ ...good(), data }, { checkFinite: false })).not.toThrow();
  });

  it('skips the finite scan for a frame its source built finite (finite: true), and only for it', () => {
    const data = ramp(24);
    data[3] = Number.NaN;
    expect(() => validateFrame({ ...good(), data, finite: true })).not.toThrow();
    expect(() => validateFrame({ ...good(), data })).toThrow(/must be finite/);
  });

  it('rejects a frame claiming 10^12 pixels before allocating anything', () => {
    expect(() => validateGeometry(1_000_000, 1_000_000, 1)).toThrow(
      'invalid frame: height*width*bands = "1000000x1000000x1 = 1000000000000": exceeds the limit of 268435456 values per frame',
    );
    expect(() => validateGeometry(10, 10, 10, 999)).toThrow(/exceeds the limit of 999/);
  });
});

describe('frame helpers', () => {
  it('firstNonFinite finds NaN, +Inf and -Inf', () => {
    expect(firstNonFinite(Float32Array.of(1, 2, 3))).toBe(-1);
    expect(firstNonFinite(Float32Array.of(1, Number.NaN))).toBe(1);
    expect(firstNonFinite(Float32Array.of(Number.NEGATIVE_INFINITY))).toBe(0);
  });

  it('sliceRows cuts a block with frame-relative offsets and labels', () => {
    const labels = Uint8Array.from({ length: 6 }, (_, i) => i);
    const frame = createFrame({ height: 3, width: 2, bands: 2, data: ramp(12), labels });
    const block = sliceRows(frame, 1, 2);
    expect(block).toMatchObject({ rowOffset: 1, height: 2, totalRows: 3 });
    expect([...block.data]).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect([...(block.labels ?? [])]).toEqual([2, 3, 4, 5]);
    expect(isLastBlock(block)).toBe(true);
    const inner = sliceRows(block, 1, 1);
    expect(inner.rowOffset).toBe(2);
    expect(() => sliceRows(frame, 2, 2)).toThrow(/must lie within the 3 rows/);
    block.data[0] = -1;
    expect(frame.data[4]).toBe(4);
  });

  it('stampFrame records a stage time without touching the original', () => {
    const frame = createFrame({ height: 1, width: 1, bands: 1, data: ramp(1) });
    const stamped = stampFrame(frame, 'score', 42);
    expect(stamped.timings).toEqual({ score: 42 });
    expect(frame.timings).toEqual({});
  });
});
