import { createImage, ReportInputError, type Rgb, type RgbaImage, setPixel } from './rgba-image.js';
import { drawTinyText, formatTick, GLYPH_HEIGHT, tinyTextWidth } from './tiny-font.js';

/** One curve of a {@link lineChart}. */
export interface ChartSeries {
  /** For the caller's legend or file name; not drawn. */
  readonly name?: string;
  /** y values; non-finite ones (and values <= 0 on a log axis) break the line. */
  readonly values: ArrayLike<number>;
  /** x values (default 0, 1, 2, ...: epochs). */
  readonly x?: ArrayLike<number>;
  /** Line colour (default: the next of a ten-colour palette). */
  readonly colour?: Rgb;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Image width in pixels (default 640). */
  width?: number;
  /** Image height in pixels (default 360). */
  height?: number;
  /** Plot log10(y), for losses and learning rates (default false). */
  logY?: boolean;
  /** y range shown (default: the data's, padded 5%). */
  yRange?: readonly [number, number];
  /** Approximate number of ticks per axis (default 5). */
  ticks?: number;
  /** Background colour (default white). */
  background?: Rgb;
  /** Axis, tick and label colour (default dark grey). */
  axisColour?: Rgb;
}

/** A drawn chart: the image plus where the data went, in pixels and data units. */
export interface LineChart extends RgbaImage {
  /** The plotting rectangle inside the axes (inclusive pixel bounds). */
  readonly plotArea: {
    readonly left: number;
    readonly top: number;
    readonly right: number;
    readonly bottom: number;
  };
  /** x range mapped to left..right. */
  readonly xRange: readonly [number, number];
  /** y range mapped to bottom..top (log10 units when `logY`). */
  readonly yRange: readonly [number, number];
}

/** matplotlib's tab10 colours. */
const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

const GRID: Rgb = [225, 225, 225];

/** Tick positions at 1, 2 or 5 times a power of ten, covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

function padded(lo: number, hi: number): [number, number] {
  if (!(hi > lo)) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** Bresenham's line between two pixels. */
function drawLine(image: RgbaImage, x0: number, y0: number, x1: number, y1: number, colour: Rgb): void {
  let x = Math.round(x0);
  let y = Math.round(y0);
  const xe = Math.round(x1);
  const ye = Math.round(y1);
  const dx = Math.abs(xe - x);
  const dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1;
  const sy = y < ye ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    setPixel(image, x, y, colour);
    if (x === xe && y === ye) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

/**
 * A raster line plot of training curves (loss, learning rate, a monitored metric) with axes,
 * tick marks, light grid lines and tiny numeric tick labels; no other text (name the file).
 *
 * @throws {@link ReportInputError} for no series, a series whose x and y lengths differ, or a
 *   size too small for the axes
 * @example
 * ```ts
 * import { writePng } from './png.js';
 * const losses = [0.9, 0.5, 0.31, 0.22];
 * const valLosses = [1.0, 0.6, 0.4, 0.35];
 * const chart = lineChart([{ name: 'loss', values: losses }, { name: 'val_loss', values: valLosses }], { logY: true });
 * await writePng('runs/r1/loss.png', chart.data, chart.width, chart.height);
 * ```
 */
export function lineChart(series: readonly ChartSeries[], options: LineChartOptions = {}): LineChart {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  if (series.length === 0) throw new ReportInputError('series', 'is empty');
  const logY = options.logY ?? false;
  const toY = (v: number): number => (logY ? (v > 0 ? Math.log10(v) : Number.NaN) : v);
  let xLo = Number.POSITIVE_INFINITY;
  let xHi = Number.NEGATIVE_INFINITY;
  let yLo = Number.POSITIVE_INFINITY;
  let yHi = Number.NEGATIVE_INFINITY;
  series.forEach((s, k) => {
    if (s.x !== undefined && s.x.length !== s.values.length) {
      throw new ReportInputError(`series[${k}].x`, `has ${s.x.length} values, values has ${s.values.length}`);
    }
    for (let i = 0; i < s.values.length; i++) {
      const y = toY(s.values[i] as number);
      const x = s.x === undefined ? i : (s.x[i] as number);
      if (!Number.isFinite(y) || !Number.isFinite(x)) continue;
      xLo = Math.min(xLo, x);
      xHi = Math.max(xHi, x);
      yLo = Math.min(yLo, y);
      yHi = Math.max(yHi, y);
    }
  });
  if (!Number.isFinite(xLo)) [xLo, xHi, yLo, yHi] = [0, 1, 0, 1];
  const xRange: [number, number] = xHi > xLo ? [xLo, xHi] : [xLo - 0.5, xHi + 0.5];
  const yRange: [number, number] =
    options.yRange === undefined ? padded(yLo, yHi) : [toY(options.yRange[0]), toY(options.yRange[1])];
  if (!(yRange[1] > yRange[0]))
    throw new ReportInputError('yRange', `[${options.yRange}] must be increasing (and > 0 on a log axis)`);

  const tickCount = options.ticks ?? 5;
  const yTicks = niceTicks(yRange[0], yRange[1], tickCount);
  const xTicks = niceTicks(xRange[0], xRange[1], tickCount);
  const yLabels = yTicks.map((t) => formatTick(logY ? 10 ** t : t));
  const left = 6 + Math.max(0, ...yLabels.map((l) => tinyTextWidth(l))) + 4;
  const plotArea = { left, top: 6, right: width - 8, bottom: height - (GLYPH_HEIGHT + 10) };
  if (plotArea.right - plotArea.left < 10 || plotArea.bottom - plotArea.top < 10) {
    throw new ReportInputError('width/height', `${width}x${height} leaves no room for the plot`);
  }
  const image = createImage(width, height, options.background ?? [255, 255, 255]);
  const axis = options.axisColour ?? [60, 60, 60];
  const px = (x: number): number =>
    plotArea.left + ((x - xRange[0]) / (xRange[1] - xRange[0])) * (plotArea.right - plotArea.left);
  const py = (y: number): number =>
    plotArea.bottom - ((y - yRange[0]) / (yRange[1] - yRange[0])) * (plotArea.bottom - plotArea.top);

  yTicks.forEach((t, k) => {
    const y = Math.round(py(t));
    drawLine(image, plotArea.left + 1, y, plotArea.right, y, GRID);
    drawLine(image, plotArea.left - 3, y, plotArea.left, y, axis);
    const label = yLabels[k] ?? '';
    drawTinyText(image, label, plotArea.left - 5 - tinyTextWidth(label), y - 2, axis);
  });
  for (const t of xTicks) {
    const x = Math.round(px(t));
    drawLine(image, x, plotArea.bottom, x, plotArea.bottom + 3, axis);
    const label = formatTick(t);
    drawTinyText(image, label, x - Math.floor(tinyTextWidth(label) / 2), plotArea.bottom + 5, axis);
  }
  drawLine(image, plotArea.left, plotArea.top, plotArea.left, plotArea.bottom, axis);
  drawLine(image, plotArea.left, plotArea.bottom, plotArea.right, plotArea.bottom, axis);

  series.forEach((s, k) => {
    const colour = s.colour ?? (PALETTE[k % PALETTE.length] as Rgb);
    let previous: [number, number] | undefined;
    for (let i = 0; i < s.values.length; i++) {
      const y = toY(s.values[i] as number);
      const x = s.x === undefined ? i : (s.x[i] as number);
      if (!Number.isFinite(y) || !Number.isFinite(x)) {
        previous = undefined;
        continue;
      }
      // Clip to the plot area (values outside a given yRange are drawn at its edge).
      const point: [number, number] = [px(x), Math.min(plotArea.bottom, Math.max(plotArea.top, py(y)))];
      if (previous === undefined) {
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [-1, 0],
          [0, 1],
          [0, -1],
        ] as const) {
          setPixel(image, Math.round(point[0]) + dx, Math.round(point[1]) + dy, colour);
        }
      } else {
        drawLine(image, previous[0], previous[1], point[0], point[1], colour);
      }
      previous = point;
    }
  });
  return { ...image, plotArea, xRange, yRange };
}
