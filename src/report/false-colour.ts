import type { WavelengthUnits } from '../core/frame.js';
import { sortedPercentile } from '../core/quantile.js';
import { checkSize, ReportInputError, type RgbaImage } from './rgba-image.js';

/** Wavelengths (nm) shown as red, green and blue when the cube covers the visible range. */
export const RGB_TARGETS_NM: readonly [number, number, number] = [640, 550, 460];

/** Positions along the band range used for R, G, B when wavelengths do not cover 460-640 nm. */
export const RGB_BAND_FRACTIONS: readonly [number, number, number] = [0.75, 0.5, 0.25];

/** Options of {@link falseColourRgb}. */
export interface FalseColourOptions {
  /** Band indices shown as R, G, B (default: {@link chooseRgbBands}). */
  bands?: readonly [number, number, number];
  /** Lower and upper percentiles of the per-channel stretch (default [2, 98]). */
  percentiles?: readonly [number, number];
}

/**
 * The bands shown as R, G, B: the ones nearest 640/550/460 nm when the wavelengths are in nm
 * and reach within 20 nm of those targets; otherwise the bands at 0.75, 0.5 and 0.25 of the
 * range (longest wavelengths red, as in a colour-infrared picture).
 */
export function chooseRgbBands(
  wavelengths: ArrayLike<number>,
  units: WavelengthUnits,
): [number, number, number] {
  const n = wavelengths.length;
  if (n === 0) throw new ReportInputError('wavelengths', 'is empty');
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, wavelengths[i] as number);
    max = Math.max(max, wavelengths[i] as number);
  }
  const visible =
    units === 'nm' && RGB_TARGETS_NM.every((target) => target >= min - 20 && target <= max + 20);
  if (!visible) {
    return RGB_BAND_FRACTIONS.map((f) => Math.round(f * (n - 1))) as [number, number, number];
  }
  return RGB_TARGETS_NM.map((target) => {
    let best = 0;
    for (let i = 1; i < n; i++) {
      if (Math.abs((wavelengths[i] as number) - target) < Math.abs((wavelengths[best] as number) - target))
        best = i;
    }
    return best;
  }) as [number, number, number];
}

/**
 * A false-colour picture of a cube (`[height*width, bands]` BIP float32): three bands (see
 * {@link chooseRgbBands}), each stretched linearly between its 2nd and 98th percentile (values
 * beyond clip; a flat channel is black; non-finite values are ignored by the stretch and drawn black).
 *
 * @throws {@link ReportInputError} for data that does not fit the size, wavelengths of the
 *   wrong length, or band indices out of range
 * @example
 * ```ts
 * import { writePng } from './png.js';
 * const rgb = falseColourRgb(frame.data, frame.height, frame.width, frame.bands, frame.wavelengths, frame.wavelengthUnits);
 * await writePng('scene.png', rgb.data, rgb.width, rgb.height);
 * ```
 */
export function falseColourRgb(
  data: Float32Array,
  height: number,
  width: number,
  bands: number,
  wavelengths: ArrayLike<number>,
  units: WavelengthUnits,
  options: FalseColourOptions = {},
): RgbaImage {
  checkSize(width, height);
  const pixels = width * height;
  if (!Number.isSafeInteger(bands) || bands <= 0)
    throw new ReportInputError('bands', `${bands} must be a positive integer`);
  if (data.length !== pixels * bands) {
    throw new ReportInputError(
      'data',
      `has ${data.length} values, expected ${height}x${width}x${bands} = ${pixels * bands}`,
    );
  }
  if (wavelengths.length !== bands)
    throw new ReportInputError('wavelengths', `has ${wavelengths.length} values, expected ${bands}`);
  const chosen = options.bands ?? chooseRgbBands(wavelengths, units);
  chosen.forEach((b, c) => {
    if (!Number.isSafeInteger(b) || b < 0 || b >= bands)
      throw new ReportInputError(`bands[${c}]`, `${b} is not a band of 0..${bands - 1}`);
  });
  const [qLo, qHi] = options.percentiles ?? [2, 98];
  if (!(qLo >= 0 && qLo < qHi && qHi <= 100))
    throw new ReportInputError('percentiles', `[${qLo}, ${qHi}] must satisfy 0 <= lo < hi <= 100`);
  const out = new Uint8Array(pixels * 4);
  const channel = new Float32Array(pixels);
  chosen.forEach((band, c) => {
    let finite = 0;
    for (let p = 0; p < pixels; p++) {
      const v = data[p * bands + band] as number;
      if (Number.isFinite(v)) channel[finite++] = v;
    }
    const sorted = channel.subarray(0, finite).sort();
    const lo = sortedPercentile(sorted, qLo);
    const hi = sortedPercentile(sorted, qHi);
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    for (let p = 0; p < pixels; p++) {
      const v = data[p * bands + band] as number;
      out[p * 4 + c] = Number.isFinite(v) ? Math.round(Math.min(255, Math.max(0, (v - lo) * scale))) : 0;
    }
  });
  for (let p = 0; p < pixels; p++) out[p * 4 + 3] = 255;
  return { width, height, data: out };
}
