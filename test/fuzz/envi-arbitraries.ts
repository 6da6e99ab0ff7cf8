/**
 * fast-check arbitraries for the ENVI header fuzz tests: valid headers (as typed values and as
 * text), hostile values, and line-level edits of header text.
 */
import fc from 'fast-check';
import { ENVI_DATA_TYPES } from '../../src/io/envi/data-types.js';
import { type EnviHeader, formatEnviHeader } from '../../src/io/envi/header.js';

/** A valid header of a small cube (so that its data file can be written in a test). */
export const validHeaderArb: fc.Arbitrary<EnviHeader> = fc
  .record({
    samples: fc.integer({ min: 1, max: 4 }),
    lines: fc.integer({ min: 1, max: 4 }),
    bands: fc.integer({ min: 1, max: 4 }),
    dataType: fc.constantFrom(...ENVI_DATA_TYPES),
    interleave: fc.constantFrom('bsq' as const, 'bil' as const, 'bip' as const),
    byteOrder: fc.constantFrom(0 as const, 1 as const),
    headerOffset: fc.constantFrom(0, 0, 3, 16),
    withWavelengths: fc.boolean(),
    // Values are read trimmed, and the writer cannot keep "}" in a description.
    description: fc.option(
      fc.string({ maxLength: 20 }).map((s) => s.replace(/[{}\r\n]/g, '').trim()),
      { nil: undefined },
    ),
  })
  .chain(({ withWavelengths, description, ...h }) =>
    fc
      .record({
        wavelengths: fc.array(fc.integer({ min: 300, max: 2500 }), {
          minLength: h.bands,
          maxLength: h.bands,
        }),
        fwhm: fc.option(
          fc.array(fc.integer({ min: 1, max: 20 }), { minLength: h.bands, maxLength: h.bands }),
          {
            nil: undefined,
          },
        ),
        dataIgnoreValue: fc.option(fc.integer({ min: -9999, max: 9999 }), { nil: undefined }),
      })
      .map(({ wavelengths, fwhm, dataIgnoreValue }): EnviHeader => {
        const header: EnviHeader = { ...h, wavelengthUnits: withWavelengths ? 'nm' : 'index', fields: {} };
        if (withWavelengths) {
          header.wavelengths = wavelengths;
          if (fwhm !== undefined) header.fwhm = fwhm;
        }
        if (dataIgnoreValue !== undefined) header.dataIgnoreValue = dataIgnoreValue;
        if (description !== undefined) header.description = description;
        return header;
      }),
  );

/** Header values in every shape a hand-edited or corrupted header has. */
export const hostileValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1.5',
    '1e3',
    '9007199254740993',
    '99999999999999999999',
    'NaN',
    'Infinity',
    '{',
    '}',
    '{}',
    '{1, 2',
    '{,,,}',
    '{1,, 2}',
    '{ }',
    'bsq',
    'BIP',
    'nm',
    'Micrometers',
    '0x10',
    '\u00a0',
    '\uFEFF',
  ),
  fc.integer({ min: -5, max: 1_000_000 }).map(String),
  fc.double().map(String),
  fc.array(fc.double().map(String), { maxLength: 6 }).map((v) => `{${v.join(', ')}}`),
  fc.string({ maxLength: 16 }),
);

/** Keys of an ENVI header, each as ENVI writes it and in other spellings. */
export const headerKey = fc.constantFrom(
  'samples',
  'lines',
  'bands',
  'data type',
  'interleave',
  'byte order',
  'header offset',
  'wavelength',
  'wavelength units',
  'fwhm',
  'band names',
  'data ignore value',
  'reflectance scale factor',
  'default bands',
  'description',
  'SAMPLES',
  '  Data   Type ',
  '__proto__',
  'constructor',
  'toString',
  '',
);

/** One line-level edit of header text. */
export type HeaderEdit =
  | { kind: 'set'; key: string; value: string }
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'insert'; at: number; line: string }
  | { kind: 'stripBraces'; which: '{' | '}' }
  | { kind: 'lineEnds'; eol: '\r\n' | '\r' | '\n\n' }
  | { kind: 'truncate'; at: number }
  | { kind: 'bom' };

/** Any single {@link HeaderEdit}. */
export const headerEdit: fc.Arbitrary<HeaderEdit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: headerKey, value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    line: fc.oneof(
      fc.string({ maxLength: 24 }),
      fc.constantFrom('; comment', '=', ' = 1', 'key without equals', '{', '}', 'ENVI'),
    ),
  }),
  fc.record({
    kind: fc.constant('stripBraces' as const),
    which: fc.constantFrom('{' as const, '}' as const),
  }),
  fc.record({
    kind: fc.constant('lineEnds' as const),
    eol: fc.constantFrom('\r\n' as const, '\r' as const, '\n\n' as const),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.constant({ kind: 'bom' as const }),
);

/** Applies one edit to header text. */
export function applyHeaderEdit(text: string, edit: HeaderEdit): string {
  const lines = text.split('\n');
  const index = (at: number) => at % Math.max(1, lines.length);
  switch (edit.kind) {
    case 'set': {
      const line = `${edit.key} = ${edit.value}`;
      const at = lines.findIndex(
        (l) => l.split('=')[0]?.trim().toLowerCase() === edit.key.trim().toLowerCase(),
      );
      if (at >= 0) lines[at] = line;
      else lines.push(line);
      return lines.join('\n');
    }
    case 'delete':
      lines.splice(index(edit.at), 1);
      return lines.join('\n');
    case 'duplicate': {
      const at = index(edit.at);
      lines.splice(at, 0, lines[at] ?? '');
      return lines.join('\n');
    }
    case 'swap': {
      const [a, b] = [index(edit.a), index(edit.b)];
      [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
      return lines.join('\n');
    }
    case 'insert':
      lines.splice(index(edit.at), 0, edit.line);
      return lines.join('\n');
    case 'stripBraces':
      return text.replaceAll(edit.which, '');
    case 'lineEnds':
      return lines.join(edit.eol);
    case 'truncate':
      return text.slice(0, edit.at % (text.length + 1));
    case 'bom':
      return `\uFEFF${text}`;
  }
}

/** Header text: a valid header with 0-4 edits. */
export const editedHeaderText = fc
  .tuple(validHeaderArb, fc.array(headerEdit, { maxLength: 4 }))
  .map(([header, edits]) => edits.reduce(applyHeaderEdit, formatEnviHeader(header)));
