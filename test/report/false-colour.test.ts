import { describe, expect, it } from 'vitest';
import { chooseRgbBands, falseColourRgb } from '../../src/report/false-colour.js';
import { pngPixel, usePngWorkspace } from './png-helpers.js';

const roundTrip = usePngWorkspace();

describe('falseColourRgb', () => {
  const wavelengths61 = Float32Array.from({ length: 61 }, (_, i) => 430 + 8 * i);

  it('chooses bands near 640/550/460 nm, else at 0.75/0.5/0.25 of the range', () => {
    expect(chooseRgbBands(wavelengths61, 'nm')).toEqual([26, 15, 4]);
    const nir = Float32Array.from({ length: 27 }, (_, i) => 702 + 8 * i);
    expect(chooseRgbBands(nir, 'nm')).toEqual([20, 13, 7]);
    expect(chooseRgbBands(wavelengths61, 'index')).toEqual([45, 30, 15]);
  });

  it('stretches each channel between its 2nd and 98th percentile', async () => {
    const height = 10;
    const width = 10;
    const bands = 61;
    const data = new Float32Array(height * width * bands);
    for (let p = 0; p < 100; p++) {
      data[p * bands + 26] = p; // red: a ramp 0..99
      data[p * bands + 15] = 7; // green: flat
      data[p * bands + 4] = 99 - p; // blue: the reverse ramp
    }
    data[55 * bands + 26] = Number.NaN;
    const png = await roundTrip(falseColourRgb(data, height, width, bands, wavelengths61, 'nm'), 'rgb.png');
    expect([png.width, png.height]).toEqual([10, 10]);
    expect(pngPixel(png, 0, 0)).toEqual([0, 0, 255, 255]); // below the 2nd percentile clips
    expect(pngPixel(png, 9, 9)).toEqual([255, 0, 0, 255]);
    // 99 finite red values (0..99 without 55): p2 = 1.96, p98 = sorted[96] + 0.04 = 97.04.
    expect(pngPixel(png, 0, 5)[0]).toBe(Math.round(((50 - 1.96) / (97.04 - 1.96)) * 255));
    expect(pngPixel(png, 5, 5)[0]).toBe(0); // the NaN pixel is black
  });

  it('names the argument at fault', () => {
    expect(() => falseColourRgb(new Float32Array(5), 2, 2, 1, [1], 'index')).toThrow(/data/);
    expect(() => falseColourRgb(new Float32Array(8), 2, 2, 2, [1, 2], 'index', { bands: [0, 1, 2] })).toThrow(
      /bands\[2\]/,
    );
  });
});
