import { describe, expect, it } from 'vitest';
import { InvalidFrameError } from '../../src/core/frame.js';
import {
  applyReflectance,
  applyReflectanceRow,
  ReflectanceReferencesError,
  reflectanceGains,
} from '../../src/core/reflectance.js';

/*
 * Worked by hand: width 2, bands 3, BIP (column 0 bands 0..2, then column 1 bands 0..2).
 *
 *   (col, band)   dark  white  white-dark   row 0 DN -> R            row 1 DN -> R
 *   (0, 0)          10    110         100   60  -> 50/100 = 0.5       10 ->   0/100 = 0
 *   (0, 1)          20    220         200   70  -> 50/200 = 0.25     240 -> 220/200 = 1.1
 *   (0, 2)          30     25  -5 (dead)    80  -> 0                  20 -> 0
 *   (1, 0)           5    105         100   30  -> 25/100 = 0.25     205 -> 200/100 = 2
 *   (1, 1)         100    100   0 (dead)   150  -> 0                  90 -> 0
 *   (1, 2)           0     50          50   10  -> 10/50  = 0.2       60 ->  60/50  = 1.2
 *
 * Row 1 has values below dark (DN 10 at dark 10 gives 0; nothing negative there) and above
 * white (1.1, 2, 1.2): reflectance is not clamped.
 */
const WIDTH = 2;
const BANDS = 3;
const DARK = Float32Array.of(10, 20, 30, 5, 100, 0);
const WHITE = Float32Array.of(110, 220, 25, 105, 100, 50);
const DN = Float32Array.of(60, 70, 80, 30, 150, 10, 10, 240, 20, 205, 90, 60);
const EXPECTED = [0.5, 0.25, 0, 0.25, 0, 0.2, 0, 1.1, 0, 2, 0, 1.2];

/** float32 holds 1/(white-dark) to ~6e-8 relative: compare to 1e-6. */
function expectClose(got: Float32Array, expected: readonly number[]): void {
  expect(got.length).toBe(expected.length);
  got.forEach((value, i) => {
    expect(Math.abs(value - (expected[i] as number)), `value ${i}: ${value} vs ${expected[i]}`).toBeLessThan(
      1e-6,
    );
  });
}

describe('reflectance', () => {
  const gains = reflectanceGains({ width: WIDTH, bands: BANDS, dark: DARK, white: WHITE });

  it('precomputes offset = dark and gain = 1/(white - dark), 0 for dead pixel-bands, counted', () => {
    expect(gains.width).toBe(2);
    expect(gains.bands).toBe(3);
    expect([...gains.offset]).toEqual([10, 20, 30, 5, 100, 0]);
    expectClose(gains.gain, [1 / 100, 1 / 200, 0, 1 / 100, 0, 1 / 50]);
    expect(gains.deadCount).toBe(2);
    expect(gains.offset).not.toBe(DARK);
  });

  it('takes a span under a millionth of a count as dead, so that full-scale counts stay finite', () => {
    const tiny = reflectanceGains({
      width: 1,
      bands: 2,
      dark: Float32Array.of(0, 0),
      white: Float32Array.of(1e-30, 2e-6),
    });
    expect([...tiny.gain]).toEqual([0, Math.fround(1 / Math.fround(2e-6))]);
    expect(tiny.deadCount).toBe(1);
    const out = applyReflectance(Float32Array.of(65535, 65535), tiny);
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it('converts two rows of counts to the reflectance worked out by hand', () => {
    const out = applyReflectance(DN, gains);
    expectClose(out, EXPECTED);
    expect(out).not.toBe(DN);
    expect([...DN]).toEqual([60, 70, 80, 30, 150, 10, 10, 240, 20, 205, 90, 60]);
  });

  it('writes into out, which may be the data itself', () => {
    const out = new Float32Array(DN.length);
    expect(applyReflectance(DN, gains, out)).toBe(out);
    expectClose(out, EXPECTED);
    const inPlace = Float32Array.from(DN);
    expect(applyReflectance(inPlace, gains, inPlace)).toBe(inPlace);
    expectClose(inPlace, EXPECTED);
  });

  it('row by row gives exactly what the whole block gives', () => {
    const whole = applyReflectance(DN, gains);
    const rows = Float32Array.from(DN);
    applyReflectanceRow(rows, 0, gains);
    applyReflectanceRow(rows, WIDTH * BANDS, gains);
    expect(rows).toEqual(whole);
  });

  it('converts one row and leaves the others alone', () => {
    const data = Float32Array.from(DN);
    applyReflectanceRow(data, 6, gains);
    expect([...data.subarray(0, 6)]).toEqual([60, 70, 80, 30, 150, 10]);
    expectClose(data.subarray(6), EXPECTED.slice(6));
  });

  it('refuses data that is not whole rows of the references, naming width*bands', () => {
    expect(() => applyReflectance(new Float32Array(7), gains)).toThrow(InvalidFrameError);
    expect(() => applyReflectance(new Float32Array(7), gains)).toThrow(
      'invalid frame: data = Float32Array(7): length must be whole rows of width*bands = 2*3 = 6 values',
    );
    expect(() => applyReflectance(DN, gains, new Float32Array(6))).toThrow('out = Float32Array(6)');
    expect(() => applyReflectanceRow(new Float32Array(12), 7, gains)).toThrow(
      'invalid frame: row start = 7: a row of width*bands = 6 values must lie within the 12 values of the data',
    );
  });

  it('refuses references of the wrong size or with non-finite values', () => {
    const refs = { width: WIDTH, bands: BANDS, dark: DARK, white: WHITE };
    expect(() => reflectanceGains({ ...refs, white: new Float32Array(5) })).toThrow(
      ReflectanceReferencesError,
    );
    expect(() => reflectanceGains({ ...refs, white: new Float32Array(5) })).toThrow(
      'reflectance references: white = Float32Array(5): must be a Float32Array of width*bands = 2*3 = 6 values',
    );
    const nan = Float32Array.from(DARK);
    nan[4] = Number.NaN;
    expect(() => reflectanceGains({ ...refs, dark: nan })).toThrow(
      'reflectance references: dark[column 1, band 1] = NaN: must be finite',
    );
    expect(() => reflectanceGains({ ...refs, width: 0 })).toThrow('width = 0: must be a positive integer');
    const thrown = (() => {
      try {
        reflectanceGains({ ...refs, bands: 2.5 });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(ReflectanceReferencesError);
    expect((thrown as ReflectanceReferencesError).code).toBe('references');
  });
});
