import { checkSize, ReportInputError, type Rgb, type RgbaImage } from './rgba-image.js';

/** A perceptual colormap sampled at evenly spaced stops from 0 to 1. */
export type Colormap = readonly Rgb[];

function hex(...colours: string[]): Colormap {
  return colours.map(
    (c) =>
      [
        Number.parseInt(c.slice(1, 3), 16),
        Number.parseInt(c.slice(3, 5), 16),
        Number.parseInt(c.slice(5, 7), 16),
      ] as const,
  );
}

/** matplotlib's viridis at 9 even stops (dark purple -> yellow). */
export const VIRIDIS: Colormap = hex(
  '#440154',
  '#472d7b',
  '#3b528b',
  '#2c728e',
  '#21918c',
  '#28ae80',
  '#5ec962',
  '#addc30',
  '#fde725',
);

/** matplotlib's inferno at 9 even stops (black -> pale yellow). */
export const INFERNO: Colormap = hex(
  '#000004',
  '#1f0c48',
  '#550f6d',
  '#88226a',
  '#ba3655',
  '#e35933',
  '#f98e09',
  '#f9cb35',
  '#fcffa4',
);

/** The colour of t in [0, 1] (clamped) on `map`, linearly interpolated between stops. */
export function colourAt(map: Colormap, t: number): Rgb {
  const out = new Uint8Array(3);
  writeColour(map, t, out, 0);
  return [out[0] as number, out[1] as number, out[2] as number];
}

/** Writes {@link colourAt}'s R, G, B into `out` at `offset` (no array per call: image loops). */
function writeColour(map: Colormap, t: number, out: Uint8Array, offset: number): void {
  const last = map.length - 1;
  const x = Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t)) * last;
  const i = Math.min(last - 1, Math.floor(x));
  const f = x - i;
  const a = map[i] as Rgb;
  const b = map[i + 1] as Rgb;
  out[offset] = Math.round(a[0] + (b[0] - a[0]) * f);
  out[offset + 1] = Math.round(a[1] + (b[1] - a[1]) * f);
  out[offset + 2] = Math.round(a[2] + (b[2] - a[2]) * f);
}

/** Options of {@link scoreHeatmap}. */
export interface ScoreHeatmapOptions {
  /** Score mapped to the first and last colour (default: min and max of the finite scores). */
  range?: readonly [number, number];
  /** Colormap (default {@link VIRIDIS}). */
  colormap?: Colormap;
  /** Colour of non-finite scores (default black). */
  invalid?: Rgb;
}

/**
 * A heatmap of per-pixel scores (`height * width`, row-major) on a perceptual colormap.
 *
 * @throws {@link ReportInputError} when `scores` does not hold `height * width` values
 * @example
 * ```ts
 * const heat = scoreHeatmap(decided.scores, decided.height, decided.width, { range: [0, decided.threshold * 2], colormap: INFERNO });
 * ```
 */
export function scoreHeatmap(
  scores: ArrayLike<number>,
  height: number,
  width: number,
  options: ScoreHeatmapOptions = {},
): RgbaImage {
  checkSize(width, height);
  if (scores.length !== width * height) {
    throw new ReportInputError(
      'scores',
      `has ${scores.length} values, expected ${height}x${width} = ${width * height}`,
    );
  }
  let [lo, hi] = options.range ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  if (options.range === undefined) {
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i] as number;
      if (!Number.isFinite(s)) continue;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const map = options.colormap ?? VIRIDIS;
  const invalid = options.invalid ?? [0, 0, 0];
  const data = new Uint8Array(width * height * 4);
  for (let p = 0, o = 0; p < scores.length; p++, o += 4) {
    const s = scores[p] as number;
    if (Number.isFinite(s)) writeColour(map, (s - lo) / span, data, o);
    else data.set(invalid, o);
    data[o + 3] = 255;
  }
  return { width, height, data };
}
