import { isRadiometry, RADIOMETRIES, type Radiometry, type WavelengthUnits } from '../../core/frame.js';
import { ENVI_COMPLEX_TYPES, ENVI_DATA_TYPES, type EnviDataType, isEnviDataType } from './data-types.js';
import { EnviHeaderError } from './errors.js';

/** Sample order of an ENVI data file: band-sequential, band-interleaved-by-line, -by-pixel. */
export type EnviInterleave = 'bsq' | 'bil' | 'bip';

/** A parsed ENVI header (`.hdr`). Wavelengths and FWHM are in nanometres when known. */
export interface EnviHeader {
  /** Pixels per line (image width). */
  samples: number;
  /** Lines (image height). */
  lines: number;
  /** Spectral bands. */
  bands: number;
  /** Element type code. */
  dataType: EnviDataType;
  /** Sample order of the data file. */
  interleave: EnviInterleave;
  /** 0 = little-endian, 1 = big-endian (default 0). */
  byteOrder: 0 | 1;
  /** Bytes to skip at the start of the data file (default 0). */
  headerOffset: number;
  /** Band centres in nm; absent when the header gives none or in units we cannot convert. */
  wavelengths?: number[];
  /** `nm` when `wavelengths` are known, else `index` (band numbers stand in). */
  wavelengthUnits: WavelengthUnits;
  /** Band widths in nm, when given with convertible units. */
  fwhm?: number[];
  /** One name per band. */
  bandNames?: string[];
  /** Value marking pixels with no data (not applied by the reader). */
  dataIgnoreValue?: number;
  /** Divide raw values by this to get reflectance (not applied by the reader). */
  reflectanceScaleFactor?: number;
  /** Bands for an RGB preview, 1-based as ENVI writes them. */
  defaultBands?: number[];
  /** Free text. */
  description?: string;
  /**
   * What the data hold: camera counts or reflectance (cubestream's key
   * {@link ENVI_RADIOMETRY_KEY}); absent when the header does not say.
   */
  radiometry?: Radiometry;
  /** Every key as written (lower case, single spaces), with its raw value (braces removed). */
  fields: Record<string, string>;
}

/** The header key cubestream writes a cube's radiometry under: `cubestream radiometry = reflectance`. */
export const ENVI_RADIOMETRY_KEY = 'cubestream radiometry';

const NM_UNITS = new Set(['nm', 'nanometer', 'nanometers', 'nanometre', 'nanometres']);
const UM_UNITS = new Set([
  'um',
  'µm',
  'μm',
  'micrometer',
  'micrometers',
  'micrometre',
  'micrometres',
  'micron',
  'microns',
]);

function normaliseKey(key: string): string {
  return key.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** Splits the text after the magic line into raw `key -> value` pairs. */
function splitFields(lines: string[], file: string): Record<string, string> {
  // No prototype: a key named "__proto__" is kept as a field like any other.
  const fields: Record<string, string> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0)
      throw new EnviHeaderError(
        file,
        `line ${i + 1}: expected "key = value", got ${JSON.stringify(trimmed)}`,
      );
    const key = normaliseKey(line.slice(0, eq));
    if (key === '') throw new EnviHeaderError(file, `line ${i + 1}: empty key before "="`);
    let value = line.slice(eq + 1).trim();
    if (value.startsWith('{')) {
      const startLine = i + 1;
      // Collect lines until one holds "}"; only each new line is searched (searching the whole
      // body every time is quadratic: a huge header with an unclosed "{" would hang).
      const parts = [value.slice(1)];
      let last = parts[0] ?? '';
      while (!last.includes('}')) {
        i++;
        if (i >= lines.length) {
          throw new EnviHeaderError(
            file,
            `key "${key}" opens "{" on line ${startLine} that is never closed`,
            key,
          );
        }
        last = lines[i] ?? '';
        parts.push(last);
      }
      const body = parts.join('\n');
      value = body.slice(0, body.indexOf('}')).trim();
    }
    fields[key] = value;
  }
  return fields;
}

function parseNumber(file: string, key: string, raw: string): number {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new EnviHeaderError(file, `"${key}" must be a number, got ${JSON.stringify(raw)}`, key);
  }
  return value;
}

function parseInteger(file: string, key: string, raw: string, min: number): number {
  const text = raw.trim();
  const value = Number(text);
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new EnviHeaderError(file, `"${key}" must be an integer >= ${min}, got ${JSON.stringify(raw)}`, key);
  }
  return value;
}

function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseNumberList(file: string, key: string, raw: string, expected?: number): number[] {
  const values = parseList(raw).map((s) => parseNumber(file, key, s));
  if (expected !== undefined && values.length !== expected) {
    throw new EnviHeaderError(
      file,
      `"${key}" has ${values.length} values, expected one per band (${expected})`,
      key,
    );
  }
  return values;
}

function requireField(fields: Record<string, string>, file: string, key: string): string {
  const value = fields[key];
  if (value === undefined) throw new EnviHeaderError(file, `missing required key "${key}"`, key);
  return value;
}

function parseDataType(file: string, raw: string): EnviDataType {
  const code = parseInteger(file, 'data type', raw, 0);
  if (isEnviDataType(code)) return code;
  const complex = ENVI_COMPLEX_TYPES[code];
  if (complex !== undefined) {
    throw new EnviHeaderError(
      file,
      `data type ${code} (${complex}) is complex and not supported`,
      'data type',
    );
  }
  throw new EnviHeaderError(
    file,
    `data type ${code} is not supported (supported: ${ENVI_DATA_TYPES.join(', ')})`,
    'data type',
  );
}

/** Factor to nanometres for a `wavelength units` value, or undefined when not convertible. */
function unitFactor(units: string | undefined): number | undefined {
  if (units === undefined) return undefined;
  const u = units.trim().toLowerCase();
  if (NM_UNITS.has(u)) return 1;
  if (UM_UNITS.has(u)) return 1000;
  return undefined;
}

/**
 * Parses the text of an ENVI header. Keys are case-insensitive, `{...}` values may span lines,
 * lines starting with `;` are comments. Required: `samples`, `lines`, `bands`, `data type`,
 * `interleave`; `byte order` and `header offset` default to 0. Wavelengths in micrometres are
 * converted to nm; without convertible units they are left out and `wavelengthUnits` is `index`.
 *
 * @param text - the header text
 * @param source - file name used in error messages (default `<text>`)
 * @throws {@link EnviHeaderError} naming the file and key at fault
 * @example
 * ```ts
 * const h = parseEnviHeader('ENVI\nsamples = 4\nlines = 2\nbands = 3\ndata type = 12\ninterleave = bil\n');
 * h.dataType; // 12
 * ```
 */
export function parseEnviHeader(text: string, source = '<text>'): EnviHeader {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if ((lines[0] ?? '').trim() !== 'ENVI') {
    throw new EnviHeaderError(
      source,
      `does not start with ENVI (first line: ${JSON.stringify((lines[0] ?? '').slice(0, 40))})`,
    );
  }
  const fields = splitFields(lines, source);
  const samples = parseInteger(source, 'samples', requireField(fields, source, 'samples'), 1);
  const height = parseInteger(source, 'lines', requireField(fields, source, 'lines'), 1);
  const bands = parseInteger(source, 'bands', requireField(fields, source, 'bands'), 1);
  const dataType = parseDataType(source, requireField(fields, source, 'data type'));
  const interleaveRaw = requireField(fields, source, 'interleave').trim().toLowerCase();
  if (interleaveRaw !== 'bsq' && interleaveRaw !== 'bil' && interleaveRaw !== 'bip') {
    throw new EnviHeaderError(
      source,
      `"interleave" must be bsq, bil or bip, got ${JSON.stringify(fields.interleave)}`,
      'interleave',
    );
  }
  const byteOrderRaw = fields['byte order'];
  const byteOrder = byteOrderRaw === undefined ? 0 : parseInteger(source, 'byte order', byteOrderRaw, 0);
  if (byteOrder !== 0 && byteOrder !== 1) {
    throw new EnviHeaderError(
      source,
      `"byte order" must be 0 or 1, got ${JSON.stringify(byteOrderRaw)}`,
      'byte order',
    );
  }
  const offsetRaw = fields['header offset'];
  const header: EnviHeader = {
    samples,
    lines: height,
    bands,
    dataType,
    interleave: interleaveRaw,
    byteOrder,
    headerOffset: offsetRaw === undefined ? 0 : parseInteger(source, 'header offset', offsetRaw, 0),
    wavelengthUnits: 'index',
    fields,
  };
  const factor = unitFactor(fields['wavelength units']);
  if (fields.wavelength !== undefined) {
    const values = parseNumberList(source, 'wavelength', fields.wavelength, bands);
    if (factor !== undefined) {
      header.wavelengths = values.map((v) => v * factor);
      header.wavelengthUnits = 'nm';
    }
  }
  if (fields.fwhm !== undefined) {
    const values = parseNumberList(source, 'fwhm', fields.fwhm, bands);
    if (factor !== undefined) header.fwhm = values.map((v) => v * factor);
  }
  if (fields['band names'] !== undefined) {
    const names = parseList(fields['band names']);
    if (names.length !== bands) {
      throw new EnviHeaderError(
        source,
        `"band names" has ${names.length} names, expected ${bands}`,
        'band names',
      );
    }
    header.bandNames = names;
  }
  if (fields['data ignore value'] !== undefined) {
    header.dataIgnoreValue = parseNumber(source, 'data ignore value', fields['data ignore value']);
  }
  if (fields['reflectance scale factor'] !== undefined) {
    header.reflectanceScaleFactor = parseNumber(
      source,
      'reflectance scale factor',
      fields['reflectance scale factor'],
    );
  }
  if (fields['default bands'] !== undefined) {
    header.defaultBands = parseList(fields['default bands']).map((s) =>
      parseInteger(source, 'default bands', s, 1),
    );
  }
  if (fields.description !== undefined) header.description = fields.description;
  const radiometry = fields[ENVI_RADIOMETRY_KEY];
  if (radiometry !== undefined) {
    const value = radiometry.trim().toLowerCase();
    if (!isRadiometry(value)) {
      throw new EnviHeaderError(
        source,
        `"${ENVI_RADIOMETRY_KEY}" must be ${RADIOMETRIES.join(' or ')}, got ${JSON.stringify(radiometry)}`,
        ENVI_RADIOMETRY_KEY,
      );
    }
    header.radiometry = value;
  }
  return header;
}

/** Keys {@link formatEnviHeader} writes from typed fields; the rest come from `fields`. */
const TYPED_KEYS = new Set([
  'description',
  'samples',
  'lines',
  'bands',
  'header offset',
  'file type',
  'data type',
  'interleave',
  'byte order',
  'wavelength units',
  'wavelength',
  'fwhm',
  'band names',
  'data ignore value',
  'reflectance scale factor',
  'default bands',
  ENVI_RADIOMETRY_KEY,
]);

function braced(values: readonly (string | number)[]): string {
  return `{${values.join(', ')}}`;
}

/** Text inside `{...}` cannot hold "}" (ENVI has no escape): it is written as ")". */
function inBraces(text: string): string {
  return text.replaceAll('}', ')');
}

/** A free-form value as written: braced when it holds a comma or line break or starts with "{". */
function fieldValue(value: string): string {
  return value.includes(',') || /[\r\n]/.test(value) || value.startsWith('{')
    ? `{${inBraces(value)}}`
    : value;
}

/**
 * Renders a header as ENVI text. Typed fields win; other entries of `fields` (e.g.
 * `sensor type`) are appended as written. Wavelengths are written in nanometres. ENVI cannot
 * escape "}" inside `{...}`: in a description, band name or braced value it is written as ")".
 *
 * @example
 * ```ts
 * import { readFile, writeFile } from 'node:fs/promises';
 * const header = parseEnviHeader(await readFile('scene/cube.hdr', 'utf8'), 'scene/cube.hdr');
 * await writeFile('copy.hdr', formatEnviHeader(header));
 * ```
 */
export function formatEnviHeader(h: EnviHeader): string {
  const out: string[] = ['ENVI'];
  if (h.description !== undefined) out.push(`description = {${inBraces(h.description)}}`);
  out.push(
    `samples = ${h.samples}`,
    `lines = ${h.lines}`,
    `bands = ${h.bands}`,
    `header offset = ${h.headerOffset}`,
    `file type = ${h.fields['file type'] ?? 'ENVI Standard'}`,
    `data type = ${h.dataType}`,
    `interleave = ${h.interleave}`,
    `byte order = ${h.byteOrder}`,
  );
  // Both are in nm; FWHM without band centres is kept too.
  if (h.wavelengths !== undefined || h.fwhm !== undefined) out.push('wavelength units = Nanometers');
  if (h.wavelengths !== undefined) out.push(`wavelength = ${braced(h.wavelengths)}`);
  if (h.fwhm !== undefined) out.push(`fwhm = ${braced(h.fwhm)}`);
  if (h.bandNames !== undefined) out.push(`band names = ${braced(h.bandNames.map(inBraces))}`);
  if (h.dataIgnoreValue !== undefined) out.push(`data ignore value = ${h.dataIgnoreValue}`);
  if (h.reflectanceScaleFactor !== undefined)
    out.push(`reflectance scale factor = ${h.reflectanceScaleFactor}`);
  if (h.defaultBands !== undefined) out.push(`default bands = ${braced(h.defaultBands)}`);
  if (h.radiometry !== undefined) out.push(`${ENVI_RADIOMETRY_KEY} = ${h.radiometry}`);
  for (const [key, value] of Object.entries(h.fields)) {
    if (TYPED_KEYS.has(key)) continue;
    out.push(`${key} = ${fieldValue(value)}`);
  }
  return `${out.join('\n')}\n`;
}
