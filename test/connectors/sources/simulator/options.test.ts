import { describe, expect, it } from 'vitest';
import { resolveSimOptions } from '../../../../connectors/sources/simulator/options.js';
import { CubestreamError } from '../../../../src/core/errors.js';
import { OptionError } from '../../../../src/core/options.js';

describe('resolveSimOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveSimOptions();
    expect(o.width).toBe(256);
    expect(o.blockRows).toBe(64);
    expect(o.totalRows).toBe(64);
    expect(o.wavelengths.length).toBe(61);
    expect(o.wavelengths[0]).toBe(430);
    expect(o.wavelengths[60]).toBe(910);
    expect(o.anomalyRate).toBe(0.02);
    expect(o.seed).toBe(1);
    expect(o.output).toBe('dn');
    expect(o.frames).toBeUndefined();
  });

  it('resolves presets, band counts and explicit wavelengths', () => {
    const fx17 = resolveSimOptions({ preset: 'fx17' }).wavelengths;
    expect([fx17.length, fx17[0], fx17[223]]).toEqual([224, 900, 1700]);
    const fewer = resolveSimOptions({ preset: 'fx10', bands: 7 }).wavelengths;
    expect([...fewer]).toEqual([400, 500, 600, 700, 800, 900, 1000]);
    expect([...resolveSimOptions({ wavelengths: [500, 600] }).wavelengths]).toEqual([500, 600]);
  });

  it.each([
    [{ coverage: 0.99 }, 'coverage'],
    [{ width: 0 }, 'width'],
    [{ anomalyRate: -0.1 }, 'anomalyRate'],
    [{ blockRows: 1.5 }, 'blockRows'],
    [{ linesPerSecond: 0 }, 'linesPerSecond'],
    [{ frames: -1 }, 'frames'],
    [{ wavelengths: [500, Number.NaN] }, 'wavelengths[1]'],
    [{ cameraId: 'a/b' }, 'cameraId'],
    [{ preset: 'fx99' as 'fx10' }, 'preset'],
    [{ output: 'raw' as 'dn' }, 'output'],
  ])('rejects %o naming the option', (options, field) => {
    let caught: unknown;
    try {
      resolveSimOptions(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OptionError);
    expect(caught).toBeInstanceOf(CubestreamError);
    expect((caught as OptionError).option).toBe(field);
    expect((caught as OptionError).code).toBe('options');
    expect((caught as Error).message).toContain(`simulator option ${field} = `);
  });
});
