import { describe, expect, it } from 'vitest';
import { EnviHeaderError } from '../../../src/io/envi/errors.js';
import { formatEnviHeader, parseEnviHeader } from '../../../src/io/envi/header.js';

const MINIMAL = 'ENVI\nsamples = 4\nlines = 3\nbands = 2\ndata type = 12\ninterleave = bil\n';

function parseError(text: string): EnviHeaderError {
  try {
    parseEnviHeader(text, 'scene.hdr');
  } catch (error) {
    expect(error).toBeInstanceOf(EnviHeaderError);
    return error as EnviHeaderError;
  }
  throw new Error('expected parseEnviHeader to throw');
}

describe('parseEnviHeader', () => {
  it('reads the required keys with defaults for byte order and header offset', () => {
    const h = parseEnviHeader(MINIMAL);
    expect(h).toMatchObject({
      samples: 4,
      lines: 3,
      bands: 2,
      dataType: 12,
      interleave: 'bil',
      byteOrder: 0,
      headerOffset: 0,
      wavelengthUnits: 'index',
    });
    expect(h.wavelengths).toBeUndefined();
  });

  it('handles comments, case-insensitive keys, CRLF and braces spanning lines', () => {
    const text = [
      'ENVI',
      '; a comment line = not a key',
      'Description = {first line,',
      '  second line}',
      'SAMPLES = 2',
      'Lines   =  1',
      'BANDS = 3',
      'Data Type = 4',
      'Interleave = BSQ',
      'Byte Order = 1',
      'header offset = 128',
      '  ; indented comment',
      'Wavelength Units = Micrometers',
      'wavelength = {',
      '  0.45, 0.55,',
      '  0.65 }',
      'fwhm = {0.01, 0.01, 0.02}',
      'band names = {blue, green,',
      ' red}',
      'data ignore value = -9999',
      'reflectance scale factor = 10000',
      'default bands = {3, 2, 1}',
      'sensor type = Unknown',
      '',
    ].join('\r\n');
    const h = parseEnviHeader(text);
    expect(h.samples).toBe(2);
    expect(h.lines).toBe(1);
    expect(h.bands).toBe(3);
    expect(h.dataType).toBe(4);
    expect(h.interleave).toBe('bsq');
    expect(h.byteOrder).toBe(1);
    expect(h.headerOffset).toBe(128);
    expect(h.description).toBe('first line,\n  second line');
    expect(h.wavelengthUnits).toBe('nm');
    expect(h.wavelengths).toHaveLength(3);
    expect(h.wavelengths?.[0]).toBeCloseTo(450, 9);
    expect(h.wavelengths?.[2]).toBeCloseTo(650, 9);
    expect(h.fwhm?.[2]).toBeCloseTo(20, 9);
    expect(h.bandNames).toEqual(['blue', 'green', 'red']);
    expect(h.dataIgnoreValue).toBe(-9999);
    expect(h.reflectanceScaleFactor).toBe(10000);
    expect(h.defaultBands).toEqual([3, 2, 1]);
    expect(h.fields['sensor type']).toBe('Unknown');
    expect(h.fields['a comment line']).toBeUndefined();
  });

  it.each([
    ['Nanometers', 'nm', 500],
    ['nm', 'nm', 500],
    ['microns', 'nm', 500_000],
    ['um', 'nm', 500_000],
    ['Wavenumber', 'index', undefined],
  ] as const)('converts wavelength units %s', (units, expectedUnits, first) => {
    const h = parseEnviHeader(`${MINIMAL}wavelength units = ${units}\nwavelength = {500, 600}\n`);
    expect(h.wavelengthUnits).toBe(expectedUnits);
    expect(h.wavelengths?.[0]).toBe(first);
  });

  it('treats wavelengths without units as band indices', () => {
    const h = parseEnviHeader(`${MINIMAL}wavelength = {500, 600}\n`);
    expect(h.wavelengthUnits).toBe('index');
    expect(h.wavelengths).toBeUndefined();
    expect(h.fields.wavelength).toBe('500, 600');
  });

  it('rejects a file that does not start with ENVI', () => {
    const e = parseError('samples = 4\n');
    expect(e.message).toBe('ENVI header scene.hdr: does not start with ENVI (first line: "samples = 4")');
    expect(e.file).toBe('scene.hdr');
  });

  it.each(['samples', 'lines', 'bands', 'data type', 'interleave'])(
    'names a missing required key: %s',
    (key) => {
      const text = MINIMAL.split('\n')
        .filter((line) => !line.toLowerCase().startsWith(key))
        .join('\n');
      const e = parseError(text);
      expect(e.message).toBe(`ENVI header scene.hdr: missing required key "${key}"`);
      expect(e.key).toBe(key);
    },
  );

  it('rejects complex data types by name and other unknown types with the supported list', () => {
    expect(parseError(MINIMAL.replace('data type = 12', 'data type = 6')).message).toContain(
      'data type 6 (complex64) is complex and not supported',
    );
    expect(parseError(MINIMAL.replace('data type = 12', 'data type = 9')).message).toContain(
      'data type 9 (complex128) is complex',
    );
    expect(parseError(MINIMAL.replace('data type = 12', 'data type = 7')).message).toContain(
      'data type 7 is not supported (supported: 1, 2, 3, 4, 5, 12, 13, 14, 15)',
    );
  });

  it('rejects malformed values, naming the key', () => {
    expect(parseError(MINIMAL.replace('bil', 'bipx')).message).toContain(
      '"interleave" must be bsq, bil or bip',
    );
    expect(parseError(MINIMAL.replace('samples = 4', 'samples = 4.5')).message).toContain(
      '"samples" must be an integer >= 1, got "4.5"',
    );
    expect(parseError(`${MINIMAL}byte order = 2\n`).message).toContain('"byte order" must be 0 or 1');
    expect(parseError(`${MINIMAL}wavelength units = nm\nwavelength = {1, 2, 3}\n`).message).toContain(
      '"wavelength" has 3 values, expected one per band (2)',
    );
    expect(parseError(`${MINIMAL}description = {never closed\n`).message).toContain(
      'key "description" opens "{" on line 7 that is never closed',
    );
    expect(parseError(`${MINIMAL}garbage\n`).message).toContain('line 7: expected "key = value"');
  });
});

describe('formatEnviHeader', () => {
  it('round-trips through parseEnviHeader', () => {
    const text = `${MINIMAL}byte order = 1\nheader offset = 64\nwavelength units = nm\nwavelength = {400.5, 700.25}\nfwhm = {10, 12}\nband names = {a, b}\ndata ignore value = 0\nreflectance scale factor = 1000\ndefault bands = {1, 2}\ndescription = {two lines,\nof text}\nsensor type = test\nclass names = {background, anomaly}\n`;
    const h = parseEnviHeader(text);
    const again = parseEnviHeader(formatEnviHeader(h));
    const { fields: _f1, ...typed } = h;
    const { fields: f2, ...typedAgain } = again;
    expect(typedAgain).toEqual(typed);
    expect(f2['sensor type']).toBe('test');
    expect(f2['class names']).toBe('background, anomaly');
  });

  it('reads and writes cubestream radiometry, and rejects another value naming the key', () => {
    const h = parseEnviHeader(`${MINIMAL}Cubestream Radiometry = Reflectance\n`);
    expect(h.radiometry).toBe('reflectance');
    const text = formatEnviHeader(h);
    expect(text.match(/cubestream radiometry/g)).toEqual(['cubestream radiometry']);
    expect(text).toContain('cubestream radiometry = reflectance\n');
    expect(parseEnviHeader(text).radiometry).toBe('reflectance');
    expect(parseEnviHeader(MINIMAL).radiometry).toBeUndefined();
    expect(formatEnviHeader(parseEnviHeader(MINIMAL))).not.toContain('radiometry');
    const error = parseError(`${MINIMAL}cubestream radiometry = radiance\n`);
    expect(error.key).toBe('cubestream radiometry');
    expect(error.message).toBe(
      'ENVI header scene.hdr: "cubestream radiometry" must be counts or reflectance, got "radiance"',
    );
  });

  it('regression (fuzz): keeps FWHM without wavelengths', () => {
    const h = parseEnviHeader(`${MINIMAL}wavelength units = nm\nfwhm = {10, 12}\n`);
    expect(h.fwhm).toEqual([10, 12]);
    expect(parseEnviHeader(formatEnviHeader(h)).fwhm).toEqual([10, 12]);
  });

  it('regression (fuzz): writes headers it can read back, whatever the names and values hold', () => {
    // "band names = }" is one name "}"; written as "{}}" it read back as no name at all.
    const names = parseEnviHeader(`${MINIMAL.replace('bands = 2', 'bands = 1')}band names = }\n`);
    expect(parseEnviHeader(formatEnviHeader(names)).bandNames).toEqual([')']);
    // A free value starting with "{" ("{{x}" reads as "{x") was written unbraced: never closed.
    const field = parseEnviHeader(`${MINIMAL}sensor type = {{x}\n`);
    expect(field.fields['sensor type']).toBe('{x');
    expect(parseEnviHeader(formatEnviHeader(field)).fields['sensor type']).toBe('{x');
  });
});

describe('parseEnviHeader on hostile text', () => {
  it('regression (fuzz): an unclosed "{" in a header of 200,000 lines fails at once (was quadratic)', () => {
    const text = `${MINIMAL}description = {\n${'aaaaaaaa\n'.repeat(200_000)}`;
    expect(parseError(text).message).toContain('key "description" opens "{" on line 7 that is never closed');
  });

  it('regression (fuzz): keeps a key named __proto__ as a field', () => {
    const h = parseEnviHeader(`${MINIMAL}__proto__ = {a, b}\n`);
    expect(Object.entries(h.fields)).toContainEqual(['__proto__', 'a, b']);
    expect(Object.entries(parseEnviHeader(formatEnviHeader(h)).fields)).toContainEqual(['__proto__', 'a, b']);
  });
});
