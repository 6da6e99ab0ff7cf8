import { describe, expect, it } from 'vitest';
import {
  CameraGeometryError,
  lineGeometry,
  writeLineRow,
} from '../../../../connectors/sources/genicam/line-layout.js';
import { InvalidFrameError } from '../../../../src/core/frame.js';
import { reflectanceGains } from '../../../../src/core/reflectance.js';

// One line of 3 pixels x 2 bands: pixel x has counts (x+1, 10(x+1)).
// bands-rows: the camera image is 2 rows (bands) x 3 columns (pixels).
const BANDS_ROWS = Uint16Array.of(1, 2, 3, 10, 20, 30);
// bands-columns: 3 rows (pixels) x 2 columns (bands).
const BANDS_COLUMNS = Uint16Array.of(1, 10, 2, 20, 3, 30);
// The BIP row both give: pixel 0 (1, 10), pixel 1 (2, 20), pixel 2 (3, 30).
const BIP_ROW = [1, 10, 2, 20, 3, 30];

describe('writeLineRow', () => {
  it('bands-rows: transposes the camera image into one BIP row at its place in the block', () => {
    const block = new Float32Array(2 * 6);
    writeLineRow(BANDS_ROWS, 'bands-rows', 3, 2, block, 1);
    expect([...block]).toEqual([0, 0, 0, 0, 0, 0, ...BIP_ROW]);
  });

  it('both layouts put band b of pixel x at (row * width + x) * bands + b, for band counts on and off the 8-band passes', () => {
    for (const bands of [1, 7, 8, 9, 19, 24]) {
      const width = 5;
      const rows = 3;
      // One value more than the line: only width x bands are read.
      const image = (at: (x: number, b: number) => number) => {
        const counts = new Uint16Array(width * bands + 1).fill(65535);
        for (let x = 0; x < width; x++) for (let b = 0; b < bands; b++) counts[at(x, b)] = 1000 * b + x;
        return counts;
      };
      const rowsImage = image((x, b) => b * width + x);
      const columnsImage = image((x, b) => x * bands + b);
      for (const [layout, counts] of [
        ['bands-rows', rowsImage],
        ['bands-columns', columnsImage],
      ] as const) {
        const block = new Float32Array(rows * width * bands).fill(-1);
        writeLineRow(counts, layout, width, bands, block, 2);
        for (let i = 0; i < 2 * width * bands; i++) expect(block[i]).toBe(-1);
        for (let x = 0; x < width; x++)
          for (let b = 0; b < bands; b++)
            expect(block[(2 * width + x) * bands + b], `${layout} ${bands} bands x ${x} b ${b}`).toBe(
              1000 * b + x,
            );
      }
    }
  });

  it('bands-columns: the camera image is BIP already', () => {
    const block = new Float32Array(2 * 6);
    writeLineRow(BANDS_COLUMNS, 'bands-columns', 3, 2, block, 0);
    expect([...block]).toEqual([...BIP_ROW, 0, 0, 0, 0, 0, 0]);
  });

  it('with gains: the row becomes reflectance (DN - dark) / (white - dark), a dead pixel-band 0', () => {
    // Per (pixel, band), BIP: dark and white; pixel 2 band 0 is dead (white = dark).
    const gains = reflectanceGains({
      width: 3,
      bands: 2,
      dark: Float32Array.of(0, 10, 0, 0, 5, 5),
      white: Float32Array.of(100, 110, 200, 40, 5, 105),
    });
    const block = new Float32Array(6);
    writeLineRow(BANDS_ROWS, 'bands-rows', 3, 2, block, 0, gains);
    // (1-0)/100, (10-10)/100, (2-0)/200, (20-0)/40, dead, (30-5)/100
    const expected = [0.01, 0, 0.01, 0.5, 0, 0.25];
    expected.forEach((value, i) => {
      expect(block[i]).toBeCloseTo(value, 6);
    });
  });

  it('refuses a line shorter than width x bands, a row outside the block, references of another width', () => {
    const block = new Float32Array(6);
    expect(() => writeLineRow(new Uint16Array(5), 'bands-rows', 3, 2, block, 0)).toThrow(InvalidFrameError);
    expect(() => writeLineRow(BANDS_ROWS, 'bands-rows', 3, 2, block, 1)).toThrow(
      'invalid frame: row = 1: outside the 1 rows of the block',
    );
    const gains = reflectanceGains({
      width: 2,
      bands: 2,
      dark: new Float32Array(4),
      white: new Float32Array(4).fill(1),
    });
    expect(() => writeLineRow(BANDS_ROWS, 'bands-rows', 3, 2, block, 0, gains)).toThrow(
      'references = "2 x 2": the line is 3 pixels x 2 bands',
    );
  });
});

describe('lineGeometry', () => {
  it('bands-rows: Width pixels x Height bands; bands-columns: the other way', () => {
    expect(lineGeometry('bands-rows', 1024, 224)).toEqual({ width: 1024, bands: 224 });
    expect(lineGeometry('bands-columns', 224, 1024)).toEqual({ width: 1024, bands: 224 });
    expect(lineGeometry('bands-rows', 1024, 224, 224)).toEqual({ width: 1024, bands: 224 });
  });

  it('a wavelength count that is not the band count: an error naming the camera image and the count', () => {
    const call = () => lineGeometry('bands-rows', 1024, 224, 200);
    expect(call).toThrow(CameraGeometryError);
    expect(call).toThrow(
      'camera image is 1024 x 224 (Width x Height), so 224 bands (lineLayout bands-rows: bands = Height), ' +
        "but source.wavelengths has 200 values: set the camera's Height (features) or the wavelengths to match",
    );
    expect(() => lineGeometry('bands-columns', 224, 1024, 200)).toThrow('bands = Width');
  });
});
