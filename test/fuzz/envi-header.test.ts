/**
 * Fuzz tests of the ENVI header parser (src/io/envi/header.ts) and of the reader's size checks
 * (src/io/envi/reader.ts): any text gives a header or `EnviHeaderError`, any header and data file
 * an open reader or `EnviHeaderError` / `EnviDataError`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedEnviDataBytes } from '../../src/io/envi/data-file.js';
import { isEnviDataType } from '../../src/io/envi/data-types.js';
import { EnviDataError, EnviHeaderError } from '../../src/io/envi/errors.js';
import { type EnviHeader, formatEnviHeader, parseEnviHeader } from '../../src/io/envi/header.js';
import { openEnvi } from '../../src/io/envi/reader.js';
import { editedHeaderText, validHeaderArb } from './envi-arbitraries.js';
import { expectNamedError, fuzzParameters, outcome, outcomeAsync } from './fuzz-settings.js';

/** What a parsed header promises its users. */
function checkHeader(h: EnviHeader): void {
  for (const n of [h.samples, h.lines, h.bands]) expect(Number.isSafeInteger(n) && n >= 1).toBe(true);
  expect(isEnviDataType(h.dataType)).toBe(true);
  expect(['bsq', 'bil', 'bip']).toContain(h.interleave);
  expect([0, 1]).toContain(h.byteOrder);
  expect(Number.isSafeInteger(h.headerOffset) && h.headerOffset >= 0).toBe(true);
  if (h.wavelengths !== undefined) {
    expect(h.wavelengths).toHaveLength(h.bands);
    expect(h.wavelengths.every(Number.isFinite)).toBe(true);
  }
  expect(h.wavelengthUnits).toBe(h.wavelengths === undefined ? 'index' : 'nm');
  if (h.fwhm !== undefined) expect(h.fwhm).toHaveLength(h.bands);
  if (h.bandNames !== undefined) expect(h.bandNames).toHaveLength(h.bands);
}

/** Parses, allowing only a header (checked) or EnviHeaderError. */
function parseChecked(text: string): EnviHeader | EnviHeaderError {
  const result = outcome(() => parseEnviHeader(text, 'fuzz.hdr'));
  if (!result.ok) {
    expectNamedError(result.error, EnviHeaderError);
    expect(result.error.message).toMatch(/^ENVI header fuzz\.hdr: /);
    return result.error;
  }
  checkHeader(result.value);
  return result.value;
}

/** The typed part of a header: what formatting keeps ("}" in text is written as ")"). */
function typed(h: EnviHeader): Omit<EnviHeader, 'fields'> {
  const { fields: _fields, ...rest } = h;
  const unbrace = (text: string) => text.replaceAll('}', ')');
  if (rest.description !== undefined) rest.description = unbrace(rest.description);
  if (rest.bandNames !== undefined) rest.bandNames = rest.bandNames.map(unbrace);
  return rest;
}

describe('fuzz: parseEnviHeader', () => {
  it('arbitrary text, with or without the ENVI magic: a header or EnviHeaderError', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.string({ unit: 'binary', maxLength: 300 }), (magic, text) => {
        parseChecked(magic ? `ENVI\n${text}` : text);
      }),
      fuzzParameters(2000),
    );
  });

  it('arbitrary key = value lines after the magic: a header or EnviHeaderError', () => {
    const line = fc.oneof(
      fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 })).map(([k, v]) => `${k} = ${v}`),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        parseChecked(['ENVI', ...lines].join('\n'));
      }),
      fuzzParameters(1000),
    );
  });

  it('valid headers round-trip through formatEnviHeader', () => {
    fc.assert(
      fc.property(validHeaderArb, (header) => {
        const parsed = parseChecked(formatEnviHeader(header));
        expect(parsed).not.toBeInstanceOf(EnviHeaderError);
        expect(typed(parsed as EnviHeader)).toEqual(typed(header));
      }),
      fuzzParameters(500),
    );
  });

  it('edited valid headers: a header or EnviHeaderError; a parsed one formats and parses the same', () => {
    fc.assert(
      fc.property(editedHeaderText, (text) => {
        const parsed = parseChecked(text);
        if (parsed instanceof EnviHeaderError) return;
        const again = parseChecked(formatEnviHeader(parsed));
        expect(again).not.toBeInstanceOf(EnviHeaderError);
        expect(typed(again as EnviHeader)).toEqual(typed(parsed));
      }),
      fuzzParameters(3000),
    );
  });
});

describe('fuzz: openEnvi size checks', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cubestream-fuzz-envi-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an edited header and a data file of about its size: a reader that reads every row, or an ENVI error', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        editedHeaderText,
        fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 }), fc.nat({ max: 600 })),
        async (text, sizeEdit) => {
          const base = join(dir, `cube-${run++}`);
          await writeFile(`${base}.hdr`, text);
          const parsed = outcome(() => parseEnviHeader(text));
          const size = parsed.ok
            ? Math.max(0, Math.min(4096, expectedEnviDataBytes(parsed.value) + sizeEdit))
            : sizeEdit;
          await writeFile(`${base}.img`, new Uint8Array(Math.max(0, size)).fill(0x3f));
          const opened = await outcomeAsync(() => openEnvi(`${base}.hdr`));
          if (!opened.ok) {
            if (!(opened.error instanceof EnviDataError)) expectNamedError(opened.error, EnviHeaderError);
            return;
          }
          const reader = opened.value;
          try {
            const { lines, samples, bands } = reader.header;
            expect((await reader.readRows(0, lines)).length).toBe(lines * samples * bands);
            const tooFar = await outcomeAsync(() => reader.readRows(lines, 1));
            expect(tooFar.ok).toBe(false);
            if (!tooFar.ok) expectNamedError(tooFar.error, EnviDataError);
          } finally {
            await reader.close();
          }
        },
      ),
      fuzzParameters(200),
    );
  });
});
