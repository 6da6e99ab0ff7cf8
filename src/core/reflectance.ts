import { CubestreamError, describeValue } from './errors.js';
import { InvalidFrameError } from './frame.js';

/**
 * Dark and white references of a line-scan camera: one value per (column, band), BIP
 * `[width * bands]` (value of column `c` in band `b` at `c * bands + b`), in camera counts (DN).
 * `dark` is taken with the shutter closed, `white` on a white reference tile.
 */
export interface ReflectanceReferences {
  /** Pixels per line (the frame's `width`). */
  readonly width: number;
  /** Spectral channels per pixel (the frame's `bands`). */
  readonly bands: number;
  /** Counts with no light, `[width * bands]` BIP. */
  readonly dark: Float32Array;
  /** Counts on the white reference, `[width * bands]` BIP. */
  readonly white: Float32Array;
}

/**
 * The references in the form applied per line: `value = (DN - offset) * gain`, with
 * `offset = dark` and `gain = 1 / (white - dark)`. A *dead* pixel-band (`white <= dark`: a
 * saturated dark, a dead or hot pixel, a band with no signal) has gain 0 (as has one whose span is under {@link MIN_REFERENCE_SPAN}), so its reflectance is
 * 0 rather than ±Infinity or a sign-flipped value; `deadCount` says how many there are, for the
 * caller to warn about.
 */
export interface ReflectanceGains {
  readonly width: number;
  readonly bands: number;
  /** The dark reference, `[width * bands]` BIP. */
  readonly offset: Float32Array;
  /** `1 / (white - dark)`, 0 for dead pixel-bands, `[width * bands]` BIP. */
  readonly gain: Float32Array;
  /** Pixel-bands with `white <= dark` (gain 0). */
  readonly deadCount: number;
}

/** References that cannot be used: wrong sizes or values that are not finite. */
export class ReflectanceReferencesError extends CubestreamError {
  /**
   * @param field - the field at fault (`width`, `dark`, `white[5]`, …)
   * @param value - its value (rendered with {@link describeValue})
   * @param problem - what is wrong with it
   */
  constructor(field: string, value: unknown, problem: string) {
    super('references', `reflectance references: ${field} = ${describeValue(value)}: ${problem}`);
  }
}

function checkReferenceLine(field: 'dark' | 'white', line: unknown, width: number, bands: number): void {
  if (!(line instanceof Float32Array) || line.length !== width * bands) {
    throw new ReflectanceReferencesError(
      field,
      line,
      `must be a Float32Array of width*bands = ${width}*${bands} = ${width * bands} values`,
    );
  }
  for (let i = 0; i < line.length; i++) {
    const v = line[i] as number;
    if (!Number.isFinite(v)) {
      throw new ReflectanceReferencesError(
        `${field}[column ${Math.floor(i / bands)}, band ${i % bands}]`,
        v,
        'must be finite',
      );
    }
  }
}

/**
 * Smallest `white - dark` taken as signal, in counts: references average integer counts, so a
 * smaller span is no signal, and its gain could overflow float32 (then reflectance would not be
 * finite, which the camera source promises its blocks are). Below it the pixel-band is dead.
 */
export const MIN_REFERENCE_SPAN = 1e-6;

/**
 * Precomputes offset and gain from dark and white references (docs/maths.md §4): the one home
 * of the reflectance formula, `R = (DN - dark) / (white - dark)`.
 *
 * @throws {@link ReflectanceReferencesError} (code `references`) when `width` or `bands` is not
 *   a positive integer, or `dark`/`white` do not hold `width * bands` finite values
 * @example
 * ```ts
 * const gains = reflectanceGains({
 *   width: 2, bands: 1, dark: Float32Array.of(10, 20), white: Float32Array.of(110, 20),
 * });
 * gains.gain; // Float32Array [0.01, 0]: column 1 is dead (white <= dark)
 * gains.deadCount; // 1
 * ```
 */
export function reflectanceGains(refs: ReflectanceReferences): ReflectanceGains {
  const { width, bands } = refs;
  if (!Number.isSafeInteger(width) || width <= 0)
    throw new ReflectanceReferencesError('width', width, 'must be a positive integer');
  if (!Number.isSafeInteger(bands) || bands <= 0)
    throw new ReflectanceReferencesError('bands', bands, 'must be a positive integer');
  checkReferenceLine('dark', refs.dark, width, bands);
  checkReferenceLine('white', refs.white, width, bands);
  const offset = Float32Array.from(refs.dark);
  const gain = new Float32Array(width * bands);
  let deadCount = 0;
  for (let i = 0; i < gain.length; i++) {
    const span = (refs.white[i] as number) - (refs.dark[i] as number);
    if (span >= MIN_REFERENCE_SPAN) gain[i] = 1 / span;
    else deadCount++;
  }
  return { width, bands, offset, gain, deadCount };
}

/**
 * Converts BIP counts to reflectance, row after row: `value = (v - offset[c, b]) * gain[c, b]`
 * with `c = pixel % width`. `data` holds whole rows (`rows * width * bands` values, any number
 * of rows). Writes into `out` when given (it may be `data` itself, for in place), else into a
 * new array; returns the array written.
 *
 * @throws {@link InvalidFrameError} (reason `shape`) when `data` is not whole rows of
 *   `width * bands` values, or `out` has another length
 * @example
 * ```ts
 * const gains = reflectanceGains({ width: 1, bands: 2, dark: Float32Array.of(0, 10), white: Float32Array.of(200, 50) });
 * applyReflectance(Float32Array.of(100, 30, 50, 10), gains); // Float32Array [0.5, 0.5, 0.25, 0]
 * ```
 */
export function applyReflectance(
  data: Float32Array,
  gains: ReflectanceGains,
  out?: Float32Array,
): Float32Array {
  const stride = gains.width * gains.bands;
  if (data.length % stride !== 0) {
    throw new InvalidFrameError(
      'shape',
      'data',
      data,
      `length must be whole rows of width*bands = ${gains.width}*${gains.bands} = ${stride} values (the references' width and bands)`,
    );
  }
  const target = out ?? new Float32Array(data.length);
  if (target.length !== data.length) {
    throw new InvalidFrameError('shape', 'out', target, `length must equal the data's, ${data.length}`);
  }
  const { offset, gain } = gains;
  for (let start = 0; start < data.length; start += stride) {
    for (let j = 0; j < stride; j++) {
      target[start + j] = ((data[start + j] as number) - (offset[j] as number)) * (gain[j] as number);
    }
  }
  return target;
}

/**
 * Converts one row in place: the `width * bands` values of `data` from `start`, for a source
 * that converts each line as it arrives (the same arithmetic as {@link applyReflectance}).
 *
 * @throws {@link InvalidFrameError} (reason `shape`) when the row does not lie within `data`
 * @example
 * ```ts
 * const gains = reflectanceGains({ width: 1, bands: 2, dark: Float32Array.of(0, 10), white: Float32Array.of(200, 50) });
 * const block = Float32Array.of(100, 30, 50, 10); // two rows of one pixel
 * applyReflectanceRow(block, 2, gains); // block: [100, 30, 0.25, 0]
 * ```
 */
export function applyReflectanceRow(data: Float32Array, start: number, gains: ReflectanceGains): void {
  const stride = gains.width * gains.bands;
  if (!Number.isSafeInteger(start) || start < 0 || start + stride > data.length) {
    throw new InvalidFrameError(
      'shape',
      'row start',
      start,
      `a row of width*bands = ${stride} values must lie within the ${data.length} values of the data`,
    );
  }
  const { offset, gain } = gains;
  for (let j = 0; j < stride; j++) {
    data[start + j] = ((data[start + j] as number) - (offset[j] as number)) * (gain[j] as number);
  }
}
