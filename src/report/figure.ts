import { type Colormap, colourAt, INFERNO, scoreHeatmap } from './colormap.js';
import { overlayMask } from './overlay.js';
import { createImage, ReportInputError, type Rgb, type RgbaImage, setPixel } from './rgba-image.js';
import { drawTinyText, GLYPH_HEIGHT, tinyTextWidth } from './tiny-font.js';

/** Mask pictures: anomalous and flagged (a hit, true positive), yellow. */
export const HIT_COLOUR: Rgb = [255, 230, 0];
/** Mask pictures: anomalous but not flagged (missed, false negative), green. */
export const MISSED_COLOUR: Rgb = [0, 220, 0];
/** Mask pictures: flagged but normal (false alarm, false positive), red. */
export const FALSE_ALARM_COLOUR: Rgb = [255, 0, 0];

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [40, 40, 40];
const EDGE: Rgb = [120, 120, 120];
/** Text scale of figures (3x5 glyphs drawn at 2x: 10 pixels high). */
const TEXT = 2;
const LINE = GLYPH_HEIGHT * TEXT + 5;
/** Text scale of figure titles. */
const TITLE = 3;
const MARGIN = 10;

/** Options shared by the figures: a title above, caption lines below, and the enlargement. */
export interface FigureTextOptions {
  /** Title above the picture, in larger letters (default none). */
  readonly title?: string;
  /** Lines of text below the picture: what is shown (default none). */
  readonly caption?: readonly string[];
  /**
   * Whole-number enlargement of the cube's pixels (default: the smallest that makes the
   * picture's longer side at least 240 pixels, at most 16).
   */
  readonly zoom?: number;
}

function zoomOf(height: number, width: number, zoom: number | undefined): number {
  const z = zoom ?? Math.min(16, Math.max(1, Math.ceil(240 / Math.max(height, width))));
  if (!(Number.isSafeInteger(z) && z >= 1))
    throw new ReportInputError('zoom', `${z} must be a positive integer`);
  return z;
}

/** `image` enlarged `zoom` times (each pixel a zoom x zoom square). */
function enlarge(image: RgbaImage, zoom: number): RgbaImage {
  if (zoom === 1) return image;
  const width = image.width * zoom;
  const height = image.height * zoom;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / zoom);
    for (let x = 0; x < width; x++) {
      const s = (sy * image.width + Math.floor(x / zoom)) * 4;
      data.set(image.data.subarray(s, s + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** Copies `src` into `dst` with its top-left corner at (x, y) (clipped). */
function blit(dst: RgbaImage, src: RgbaImage, x: number, y: number): void {
  for (let row = 0; row < src.height; row++) {
    const ty = y + row;
    if (ty < 0 || ty >= dst.height) continue;
    for (let col = 0; col < src.width; col++) {
      const tx = x + col;
      if (tx < 0 || tx >= dst.width) continue;
      const s = (row * src.width + col) * 4;
      dst.data.set(src.data.subarray(s, s + 4), (ty * dst.width + tx) * 4);
    }
  }
}

/** A one-pixel frame around the w x h rectangle at (x, y), drawn just outside it. */
function frame(image: RgbaImage, x: number, y: number, w: number, h: number, colour: Rgb): void {
  for (let i = x - 1; i <= x + w; i++) {
    setPixel(image, i, y - 1, colour);
    setPixel(image, i, y + h, colour);
  }
  for (let j = y - 1; j <= y + h; j++) {
    setPixel(image, x - 1, j, colour);
    setPixel(image, x + w, j, colour);
  }
}

function fillRect(image: RgbaImage, x: number, y: number, w: number, h: number, colour: Rgb): void {
  for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) setPixel(image, i, j, colour);
}

/** A short label of a value for a colour bar: 3 significant digits, exponent form when tiny or huge. */
export function formatScaleValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(3)));
  return value.toExponential(2).replace('e+', 'e');
}

/** Lays out a title, a body of `bodyWidth` x `bodyHeight` and caption lines; returns the image and where the body goes. */
function canvas(
  bodyWidth: number,
  bodyHeight: number,
  options: FigureTextOptions,
): { image: RgbaImage; bodyX: number; bodyY: number } {
  const caption = options.caption ?? [];
  const titleWidth = options.title === undefined ? 0 : tinyTextWidth(options.title, TITLE);
  const captionWidth = Math.max(0, ...caption.map((line) => tinyTextWidth(line, TEXT)));
  const width = Math.max(bodyWidth, titleWidth, captionWidth) + 2 * MARGIN;
  const titleHeight = options.title === undefined ? 0 : GLYPH_HEIGHT * TITLE + 10;
  const height =
    MARGIN + titleHeight + bodyHeight + (caption.length > 0 ? 8 + caption.length * LINE : 0) + MARGIN;
  const image = createImage(width, height, WHITE);
  if (options.title !== undefined) drawTinyText(image, options.title, MARGIN, MARGIN, INK, TITLE);
  const bodyY = MARGIN + titleHeight;
  caption.forEach((line, k) => {
    drawTinyText(image, line, MARGIN, bodyY + bodyHeight + 8 + k * LINE, INK, TEXT);
  });
  return { image, bodyX: MARGIN, bodyY };
}

/** A value marked on a heatmap's colour bar, e.g. the threshold τ. */
export interface ScaleMark {
  readonly value: number;
  /** Text beside the mark, e.g. `τ 0.577`. */
  readonly label: string;
}

/** Options of {@link heatmapFigure}. */
export interface HeatmapFigureOptions extends FigureTextOptions {
  /** Scores mapped to the bottom and the top of the colour bar (default: min and max of the finite scores). */
  readonly range?: readonly [number, number];
  /** Colormap (default {@link INFERNO}). */
  readonly colormap?: Colormap;
  /** Values marked across the colour bar, with a label (e.g. the threshold). */
  readonly marks?: readonly ScaleMark[];
  /** Ground truth, 1 = anomalous: drawn as a second panel, `TRUTH`, right of the colour bar. */
  readonly truth?: ArrayLike<number>;
  /** Label above the heatmap (default `PREDICTION: SCORE`). */
  readonly label?: string;
}

/**
 * A score heatmap (`height * width` scores, row-major) as a figure: the heatmap enlarged to a
 * readable size under the label `PREDICTION: SCORE`, a colour bar beside it labelled with its
 * bottom and top values (scores beyond them take the end colours) and any marked values (e.g.
 * τ), the ground truth as a second panel `TRUTH` when given, a title above and caption lines
 * below.
 *
 * @throws {@link ReportInputError} when `scores` or `truth` does not hold `height * width`
 *   values, or the range is not increasing
 * @example
 * ```ts
 * import { writePng } from './png.js';
 * declare const scores: Float32Array, truth: Uint8Array; // 64 x 128 scores, 1 = anomalous
 * const figure = heatmapFigure(scores, 64, 128, {
 *   title: 'cube-3: anomaly score', range: [0, 1.2], marks: [{ value: 0.6, label: 'τ 0.6' }], truth,
 *   caption: ['left: prediction (score per pixel); right: truth (anomalous pixels white)'],
 * });
 * await writePng('cube-3-scores.png', figure.data, figure.width, figure.height);
 * ```
 */
export function heatmapFigure(
  scores: ArrayLike<number>,
  height: number,
  width: number,
  options: HeatmapFigureOptions = {},
): RgbaImage {
  let range = options.range;
  if (range === undefined) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i] as number;
      if (!Number.isFinite(s)) continue;
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
    range = Number.isFinite(lo) ? (hi > lo ? [lo, hi] : [lo, lo + 1]) : [0, 1];
  }
  const [lo, hi] = range;
  if (!(hi > lo)) throw new ReportInputError('range', `[${lo}, ${hi}] must be increasing`);
  const { truth } = options;
  if (truth !== undefined && truth.length !== height * width)
    throw new ReportInputError(
      'truth',
      `has ${truth.length} values, expected ${height}x${width} = ${height * width}`,
    );
  const colormap = options.colormap ?? INFERNO;
  const zoom = zoomOf(height, width, options.zoom);
  const heat = enlarge(scoreHeatmap(scores, height, width, { range, colormap }), zoom);
  const label = options.label ?? 'PREDICTION: SCORE';
  const labelH = LINE + 2;
  const barHeight = Math.max(heat.height, 120);
  const barWidth = 16;
  const marks = (options.marks ?? []).filter((m) => Number.isFinite(m.value));
  const labels = [formatScaleValue(hi), formatScaleValue(lo), ...marks.map((m) => m.label)];
  const labelWidth = Math.max(...labels.map((l) => tinyTextWidth(l, TEXT)));
  const gap = 14;
  const heatCell = Math.max(heat.width, tinyTextWidth(label, TEXT));
  const truthX = heatCell + gap + barWidth + 6 + labelWidth + 2 * gap;
  const bodyWidth =
    truth === undefined ? truthX - 2 * gap : truthX + Math.max(heat.width, tinyTextWidth('TRUTH', TEXT));
  const { image, bodyX, bodyY } = canvas(bodyWidth, labelH + barHeight, options);
  drawTinyText(image, label, bodyX, bodyY, INK, TEXT);
  const top = bodyY + labelH;
  blit(image, heat, bodyX, top);
  frame(image, bodyX, top, heat.width, heat.height, EDGE);
  const barX = bodyX + heatCell + gap;
  for (let j = 0; j < barHeight; j++) {
    const colour = colourAt(colormap, 1 - j / Math.max(1, barHeight - 1));
    for (let i = 0; i < barWidth; i++) setPixel(image, barX + i, top + j, colour);
  }
  frame(image, barX, top, barWidth, barHeight, EDGE);
  const labelX = barX + barWidth + 6;
  const glyph = GLYPH_HEIGHT * TEXT;
  const yOf = (value: number): number => top + Math.round((1 - (value - lo) / (hi - lo)) * (barHeight - 1));
  drawTinyText(image, formatScaleValue(hi), labelX, top, INK, TEXT);
  drawTinyText(image, formatScaleValue(lo), labelX, top + barHeight - glyph, INK, TEXT);
  for (const mark of marks) {
    const y = Math.min(top + barHeight - 2, Math.max(top, yOf(mark.value)));
    for (let i = -3; i < barWidth + 3; i++) {
      setPixel(image, barX + i, y, WHITE);
      setPixel(image, barX + i, y + 1, INK);
    }
    // Beside the mark, but clear of the top and bottom labels.
    const at = Math.min(
      top + barHeight - 2 * glyph - 4,
      Math.max(top + glyph + 4, y - Math.floor(glyph / 2)),
    );
    drawTinyText(image, mark.label, labelX, at, INK, TEXT);
  }
  if (truth !== undefined) {
    const x = bodyX + truthX;
    drawTinyText(image, 'TRUTH', x, bodyY, INK, TEXT);
    blit(image, enlarge(binaryPanel(truth, height, width), zoom), x, top);
    frame(image, x, top, heat.width, heat.height, EDGE);
  }
  return image;
}

/** The counts behind a {@link maskFigure}. */
export interface MaskCounts {
  /** Flagged and anomalous. */
  readonly hits: number;
  /** Anomalous, not flagged. */
  readonly missed: number;
  /** Flagged, normal. */
  readonly falseAlarms: number;
}

/** What {@link maskFigure} draws. */
export interface MaskFigureInput extends FigureTextOptions {
  readonly height: number;
  readonly width: number;
  /** The detector's decisions, 1 = flagged, one per pixel (row-major). */
  readonly predicted: ArrayLike<number>;
  /** Ground truth, 1 = anomalous (absent: only the prediction is drawn). */
  readonly truth?: ArrayLike<number>;
  /** A picture of the scene under the comparison (e.g. the false colour), `width x height`. */
  readonly background?: RgbaImage;
}

/** Counts hits, misses and false alarms of `predicted` against `truth`. */
export function maskCounts(predicted: ArrayLike<number>, truth: ArrayLike<number>): MaskCounts {
  let hits = 0;
  let missed = 0;
  let falseAlarms = 0;
  for (let i = 0; i < predicted.length; i++) {
    const flag = (predicted[i] as number) !== 0;
    const anomalous = (truth[i] as number) !== 0;
    if (flag && anomalous) hits++;
    else if (anomalous) missed++;
    else if (flag) falseAlarms++;
  }
  return { hits, missed, falseAlarms };
}

function binaryPanel(values: ArrayLike<number>, height: number, width: number): RgbaImage {
  const image = createImage(width, height, [0, 0, 0]);
  for (let p = 0; p < values.length; p++) {
    if ((values[p] as number) !== 0) image.data.set(WHITE, p * 4);
  }
  return image;
}

/**
 * The predicted mask against the ground truth, side by side (stacked for wide pictures), each
 * panel captioned: `PREDICTION` (flagged pixels white), `TRUTH` (anomalous pixels white) and
 * `COMPARISON` (over the background, dimmed: hits yellow, misses green, false alarms red), with
 * a legend of the three colours and their pixel counts. Without truth, only the prediction and
 * the flagged pixels in red over the background.
 *
 * @throws {@link ReportInputError} when a mask or the background does not match the size
 * @example
 * ```ts
 * import { writePng } from './png.js';
 * declare const flagged: Uint8Array, truth: Uint8Array; // 64 x 128, 1 = flagged / anomalous
 * const figure = maskFigure({ height: 64, width: 128, predicted: flagged, truth, title: 'cube-3: decisions at τ 0.6' });
 * await writePng('cube-3-mask.png', figure.data, figure.width, figure.height);
 * ```
 */
export function maskFigure(input: MaskFigureInput): RgbaImage {
  const { height, width, predicted, truth, background } = input;
  const pixels = height * width;
  for (const [name, values] of [
    ['predicted', predicted],
    ['truth', truth],
  ] as const) {
    if (values !== undefined && values.length !== pixels)
      throw new ReportInputError(
        name,
        `has ${values.length} values, expected ${height}x${width} = ${pixels}`,
      );
  }
  if (background !== undefined && (background.width !== width || background.height !== height))
    throw new ReportInputError(
      'background',
      `is ${background.width}x${background.height}, expected ${width}x${height}`,
    );
  const zoom = zoomOf(height, width, input.zoom);
  // The scene dimmed to grey, so that the three colours stand out.
  const base = createImage(width, height, [90, 90, 90]);
  if (background !== undefined) {
    for (let p = 0; p < pixels; p++) {
      const o = p * 4;
      const grey =
        0.299 * (background.data[o] ?? 0) +
        0.587 * (background.data[o + 1] ?? 0) +
        0.114 * (background.data[o + 2] ?? 0);
      base.data.fill(Math.round(40 + grey * 0.45), o, o + 3);
    }
  }
  const where = (test: (flag: boolean, anomalous: boolean) => boolean): Uint8Array => {
    const out = new Uint8Array(pixels);
    for (let p = 0; p < pixels; p++)
      out[p] = test((predicted[p] as number) !== 0, (truth?.[p] ?? 0) !== 0) ? 1 : 0;
    return out;
  };
  let comparison = overlayMask(
    base,
    where((f, a) => f && a),
    HIT_COLOUR,
    1,
  );
  comparison = overlayMask(
    comparison,
    where((f, a) => !f && a),
    MISSED_COLOUR,
    1,
  );
  comparison = overlayMask(
    comparison,
    where((f, a) => f && !a),
    FALSE_ALARM_COLOUR,
    1,
  );
  const panels: [string, RgbaImage][] =
    truth === undefined
      ? [
          ['PREDICTION', binaryPanel(predicted, height, width)],
          ['FLAGGED (NO TRUTH)', comparison],
        ]
      : [
          ['PREDICTION', binaryPanel(predicted, height, width)],
          ['TRUTH', binaryPanel(truth, height, width)],
          ['COMPARISON', comparison],
        ];
  const panelW = width * zoom;
  const panelH = height * zoom;
  const stacked = panelW > 2 * panelH;
  const gap = 16;
  const labelH = LINE + 2;
  const cellW = Math.max(panelW, ...panels.map(([label]) => tinyTextWidth(label, TEXT)));
  const cellH = labelH + panelH;
  const bodyWidth = stacked ? cellW : panels.length * cellW + (panels.length - 1) * gap;
  const legend =
    truth === undefined
      ? [{ colour: FALSE_ALARM_COLOUR, text: `FLAGGED ${where((f) => f).reduce((s, v) => s + v, 0)}` }]
      : (() => {
          const counts = maskCounts(predicted, truth);
          return [
            { colour: HIT_COLOUR, text: `HIT (TP) ${counts.hits}` },
            { colour: MISSED_COLOUR, text: `MISSED (FN) ${counts.missed}` },
            { colour: FALSE_ALARM_COLOUR, text: `FALSE ALARM (FP) ${counts.falseAlarms}` },
          ];
        })();
  const swatch = GLYPH_HEIGHT * TEXT;
  const legendWidth = legend.reduce((sum, e) => sum + swatch + 6 + tinyTextWidth(e.text, TEXT) + 16, 0);
  const bodyHeight = (stacked ? panels.length * cellH + (panels.length - 1) * gap : cellH) + 10 + LINE;
  const { image, bodyX, bodyY } = canvas(Math.max(bodyWidth, legendWidth), bodyHeight, input);
  panels.forEach(([label, panel], k) => {
    const x = bodyX + (stacked ? 0 : k * (cellW + gap));
    const y = bodyY + (stacked ? k * (cellH + gap) : 0);
    drawTinyText(image, label, x, y, INK, TEXT);
    blit(image, enlarge(panel, zoom), x, y + labelH);
    frame(image, x, y + labelH, panelW, panelH, EDGE);
  });
  let lx = bodyX;
  const ly = bodyY + bodyHeight - LINE + 3;
  for (const entry of legend) {
    fillRect(image, lx, ly, swatch, swatch, entry.colour);
    frame(image, lx, ly, swatch, swatch, EDGE);
    drawTinyText(image, entry.text, lx + swatch + 6, ly, INK, TEXT);
    lx += swatch + 6 + tinyTextWidth(entry.text, TEXT) + 16;
  }
  return image;
}
