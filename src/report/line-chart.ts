import { createImage, ReportInputError, type Rgb, type RgbaImage, setPixel } from './rgba-image.js';
import { drawTinyText, drawTinyTextUp, formatTick, GLYPH_HEIGHT, tinyTextWidth } from './tiny-font.js';

/** One curve of a {@link lineChart}. */
export interface ChartSeries {
  /** Name shown in the legend (series without one are left out of it). */
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
  /** Approximate number of ticks per axis (default: about one per 80 pixels across, 60 up). */
  ticks?: number;
  /** Background colour (default white). */
  background?: Rgb;
  /** Axis, tick and label colour (default dark grey). */
  axisColour?: Rgb;
  /** Title above the plot, drawn twice the text size (default none). */
  title?: string;
  /** Name of the x axis, below its tick labels (e.g. `epoch`; default none). */
  xLabel?: string;
  /** Name of the y axis, turned up along it (e.g. `loss (log scale)`; default none). */
  yLabel?: string;
  /** Draw a legend of the named series, in the plot corner they cover least (default true). */
  legend?: boolean;
  /** Scale of tick labels, axis names and the legend: 1 = 3x5 pixel glyphs (default 2). */
  textScale?: number;
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
  /** The ticks drawn on each axis: value (in data units, not log10) and label, in axis order. */
  readonly ticks: {
    readonly x: readonly ChartTick[];
    readonly y: readonly ChartTick[];
  };
}

/** One tick of a {@link LineChart} axis. */
export interface ChartTick {
  readonly value: number;
  readonly label: string;
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
const GRID_EDGE: Rgb = [170, 170, 170];

/** Tick positions at 1, 2 or 5 times a power of ten (at least `minStep` apart), covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number, minStep = 0): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(minStep, ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power);
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) {
    // i * step, not a running sum: no 0.30000000000000004 from adding 0.1 three times.
    const t = Number((i * step).toPrecision(12));
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

/**
 * Ticks of a log axis, in log10 units, at round values: whole powers of ten when the range holds
 * three (or two, over more than two decades); else 1, 2 and 5 times powers of ten; else 1..9 times; else the linear ticks of
 * the values (a range within one step of those).
 */
function logTicks(lo: number, hi: number, count: number): number[] {
  const first = Math.ceil(lo - 1e-9);
  const last = Math.floor(hi + 1e-9);
  if (last - first >= 2 || (last - first >= 1 && hi - lo > 2)) {
    const stride = Math.max(1, Math.ceil((last - first + 1) / Math.max(1, count)));
    const ticks: number[] = [];
    for (let e = first; e <= last; e += stride) ticks.push(e);
    return ticks;
  }
  for (const mantissas of [
    [1, 2, 5],
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  ]) {
    const ticks: number[] = [];
    for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi); e++) {
      for (const m of mantissas) {
        const t = Math.log10(m * 10 ** e);
        if (t >= lo - 1e-9 && t <= hi + 1e-9) ticks.push(t);
      }
    }
    if (ticks.length >= 2 && ticks.length <= 2 * count) return ticks;
  }
  return niceTicks(10 ** lo, 10 ** hi, count)
    .map((v) => Math.log10(v))
    .filter((t) => Number.isFinite(t));
}

/**
 * The data's range padded 5 % each side; a range narrower than 0.1 % of its magnitude (an AUROC
 * of 0.9999988 then 1) is first widened to that, so that noise is not drawn as a cliff.
 */
function padded(lo: number, hi: number): [number, number] {
  if (!(hi > lo)) return [lo - 0.5, hi + 0.5];
  const minSpan = 1e-3 * Math.max(Math.abs(lo), Math.abs(hi));
  if (hi - lo < minSpan) {
    const centre = (lo + hi) / 2;
    [lo, hi] = [centre - minSpan / 2, centre + minSpan / 2];
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/**
 * A tick label with just the digits that tell ticks `step` apart (0.9996, 0.9998, 1 rather than
 * 1, 1, 1); exponent form outside 1e-2..1e5, as {@link formatTick}.
 */
function tickLabel(value: number, step: number): string {
  const magnitude = Math.abs(value);
  if (magnitude === 0 || !Number.isFinite(magnitude) || !(step > 0)) return formatTick(value);
  const digits = Math.min(
    12,
    Math.max(3, Math.floor(Math.log10(magnitude)) - Math.floor(Math.log10(step) + 1e-9) + 1),
  );
  if (magnitude >= 1e-2 && magnitude < 1e5) return String(Number(value.toPrecision(digits)));
  const [mantissa = '', exponent = ''] = value.toExponential(digits - 1).split('e');
  return `${mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa}e${exponent.replace('+', '')}`;
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

/** The legend box: a swatch and the name of every named series, one per row. */
function drawLegend(
  image: RgbaImage,
  entries: readonly { name: string; colour: Rgb }[],
  plotArea: LineChart['plotArea'],
  scale: number,
  axis: Rgb,
): void {
  if (entries.length === 0) return;
  const row = GLYPH_HEIGHT * scale + 4;
  const swatch = 6 * scale;
  const boxW = 4 + swatch + 4 + Math.max(...entries.map((e) => tinyTextWidth(e.name, scale))) + 5;
  const boxH = 4 + entries.length * row;
  const inset = 4;
  const corners: [number, number][] = [
    [plotArea.right - inset - boxW, plotArea.top + inset],
    [plotArea.left + inset, plotArea.top + inset],
    [plotArea.right - inset - boxW, plotArea.bottom - inset - boxH],
    [plotArea.left + inset, plotArea.bottom - inset - boxH],
  ];
  // The corner whose box hides the fewest curve pixels.
  const isCurve = (x: number, y: number): boolean => {
    const i = (y * image.width + x) * 4;
    const rgb: Rgb = [image.data[i] ?? 0, image.data[i + 1] ?? 0, image.data[i + 2] ?? 0];
    return entries.some((e) => e.colour[0] === rgb[0] && e.colour[1] === rgb[1] && e.colour[2] === rgb[2]);
  };
  let best = corners[0] as [number, number];
  let fewest = Number.POSITIVE_INFINITY;
  for (const [cx, cy] of corners) {
    let hidden = 0;
    for (let y = Math.max(0, cy); y < Math.min(image.height, cy + boxH); y++)
      for (let x = Math.max(0, cx); x < Math.min(image.width, cx + boxW); x++) if (isCurve(x, y)) hidden++;
    if (hidden < fewest) {
      fewest = hidden;
      best = [cx, cy];
    }
  }
  const [bx, by] = best;
  for (let y = by; y < by + boxH; y++)
    for (let x = bx; x < bx + boxW; x++) setPixel(image, x, y, [255, 255, 255]);
  drawLine(image, bx, by, bx + boxW - 1, by, GRID_EDGE);
  drawLine(image, bx, by + boxH - 1, bx + boxW - 1, by + boxH - 1, GRID_EDGE);
  drawLine(image, bx, by, bx, by + boxH - 1, GRID_EDGE);
  drawLine(image, bx + boxW - 1, by, bx + boxW - 1, by + boxH - 1, GRID_EDGE);
  entries.forEach((entry, k) => {
    const top = by + 4 + k * row;
    const mid = top + Math.floor((GLYPH_HEIGHT * scale) / 2);
    for (let t = -Math.floor(scale / 2); t <= Math.floor((scale - 1) / 2); t++)
      drawLine(image, bx + 4, mid + t, bx + 4 + swatch - 1, mid + t, entry.colour);
    drawTinyText(image, entry.name, bx + 4 + swatch + 4, top, axis, scale);
  });
}

/**
 * A raster line plot of training curves (loss, learning rate, a monitored metric): a title, axes
 * with their names, tick marks at round values (1, 2 or 5 times a power of ten; whole numbers on
 * an x axis of whole numbers such as epochs; powers of ten on a log axis) with their labels,
 * light grid lines, and a legend of the named series in the corner they cover least. Text is
 * drawn in a 3x5 pixel font (capitals).
 *
 * @throws {@link ReportInputError} for no series, a series whose x and y lengths differ, or a
 *   size too small for the axes
 * @example
 * ```ts
 * import { writePng } from './png.js';
 * const losses = [0.9, 0.5, 0.31, 0.22];
 * const valLosses = [1.0, 0.6, 0.4, 0.35];
 * const chart = lineChart(
 *   [{ name: 'loss', values: losses, x: [1, 2, 3, 4] }, { name: 'val_loss', values: valLosses, x: [1, 2, 3, 4] }],
 *   { logY: true, title: 'Loss', xLabel: 'epoch', yLabel: 'loss (log scale)' },
 * );
 * await writePng('runs/r1/loss.png', chart.data, chart.width, chart.height);
 * ```
 */
export function lineChart(series: readonly ChartSeries[], options: LineChartOptions = {}): LineChart {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  if (series.length === 0) throw new ReportInputError('series', 'is empty');
  const scale = options.textScale ?? 2;
  if (!(Number.isSafeInteger(scale) && scale >= 1))
    throw new ReportInputError('textScale', `${scale} must be a positive integer`);
  const logY = options.logY ?? false;
  const toY = (v: number): number => (logY ? (v > 0 ? Math.log10(v) : Number.NaN) : v);
  let xLo = Number.POSITIVE_INFINITY;
  let xHi = Number.NEGATIVE_INFINITY;
  let yLo = Number.POSITIVE_INFINITY;
  let yHi = Number.NEGATIVE_INFINITY;
  let wholeX = true;
  series.forEach((s, k) => {
    if (s.x !== undefined && s.x.length !== s.values.length) {
      throw new ReportInputError(`series[${k}].x`, `has ${s.x.length} values, values has ${s.values.length}`);
    }
    for (let i = 0; i < s.values.length; i++) {
      const y = toY(s.values[i] as number);
      const x = s.x === undefined ? i : (s.x[i] as number);
      if (!Number.isFinite(y) || !Number.isFinite(x)) continue;
      if (!Number.isInteger(x)) wholeX = false;
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

  // Default: about one tick every 80 pixels across and 60 pixels up.
  const xCount = options.ticks ?? Math.max(2, Math.min(10, Math.floor(width / 80)));
  const yCount = options.ticks ?? Math.max(2, Math.min(8, Math.floor(height / 60)));
  const yTicks = logY ? logTicks(yRange[0], yRange[1], yCount) : niceTicks(yRange[0], yRange[1], yCount);
  const xTicks = niceTicks(xRange[0], xRange[1], xCount, wholeX ? 1 : 0);
  const stepOf = (ticks: readonly number[]): number =>
    ticks.length > 1 ? Math.abs((ticks[1] as number) - (ticks[0] as number)) : Number.NaN;
  const yLabels = yTicks.map((t) =>
    logY ? formatTick(Number((10 ** t).toPrecision(12))) : tickLabel(t, stepOf(yTicks)),
  );
  const xLabels = xTicks.map((t) => tickLabel(t, stepOf(xTicks)));
  const glyph = GLYPH_HEIGHT * scale;
  const titleHeight = options.title === undefined ? 0 : 2 * glyph + 8;
  const yNameWidth = options.yLabel === undefined ? 0 : glyph + 6;
  const xNameHeight = options.xLabel === undefined ? 0 : glyph + 6;
  const left = 6 + yNameWidth + Math.max(0, ...yLabels.map((l) => tinyTextWidth(l, scale))) + 6;
  const lastX = xLabels[xLabels.length - 1] ?? '';
  const plotArea = {
    left,
    top: 8 + titleHeight,
    right: width - Math.max(10, Math.ceil(tinyTextWidth(lastX, scale) / 2) + 4),
    bottom: height - (glyph + 10) - xNameHeight,
  };
  if (plotArea.right - plotArea.left < 10 || plotArea.bottom - plotArea.top < 10) {
    throw new ReportInputError('width/height', `${width}x${height} leaves no room for the plot`);
  }
  const image = createImage(width, height, options.background ?? [255, 255, 255]);
  const axis = options.axisColour ?? [60, 60, 60];
  const px = (x: number): number =>
    plotArea.left + ((x - xRange[0]) / (xRange[1] - xRange[0])) * (plotArea.right - plotArea.left);
  const py = (y: number): number =>
    plotArea.bottom - ((y - yRange[0]) / (yRange[1] - yRange[0])) * (plotArea.bottom - plotArea.top);

  if (options.title !== undefined) {
    const titleWidth = tinyTextWidth(options.title, 2 * scale);
    drawTinyText(image, options.title, Math.max(2, Math.floor((width - titleWidth) / 2)), 6, axis, 2 * scale);
  }
  yTicks.forEach((t, k) => {
    const y = Math.round(py(t));
    drawLine(image, plotArea.left + 1, y, plotArea.right, y, GRID);
    drawLine(image, plotArea.left - 4, y, plotArea.left, y, axis);
    const label = yLabels[k] ?? '';
    drawTinyText(
      image,
      label,
      plotArea.left - 6 - tinyTextWidth(label, scale),
      y - Math.floor(glyph / 2),
      axis,
      scale,
    );
  });
  xTicks.forEach((t, k) => {
    const x = Math.round(px(t));
    drawLine(image, x, plotArea.top, x, plotArea.bottom - 1, GRID);
    drawLine(image, x, plotArea.bottom, x, plotArea.bottom + 4, axis);
    const label = xLabels[k] ?? '';
    drawTinyText(
      image,
      label,
      x - Math.floor(tinyTextWidth(label, scale) / 2),
      plotArea.bottom + 6,
      axis,
      scale,
    );
  });
  drawLine(image, plotArea.left, plotArea.top, plotArea.left, plotArea.bottom, axis);
  drawLine(image, plotArea.left, plotArea.bottom, plotArea.right, plotArea.bottom, axis);
  if (options.xLabel !== undefined) {
    const w = tinyTextWidth(options.xLabel, scale);
    const centre = (plotArea.left + plotArea.right) / 2;
    drawTinyText(
      image,
      options.xLabel,
      Math.round(centre - w / 2),
      plotArea.bottom + glyph + 12,
      axis,
      scale,
    );
  }
  if (options.yLabel !== undefined) {
    const w = tinyTextWidth(options.yLabel, scale);
    const centre = (plotArea.top + plotArea.bottom) / 2;
    drawTinyTextUp(image, options.yLabel, 6, Math.round(centre + w / 2), axis, scale);
  }

  const colours = series.map((s, k) => s.colour ?? (PALETTE[k % PALETTE.length] as Rgb));
  series.forEach((s, k) => {
    const colour = colours[k] as Rgb;
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
        drawLine(image, previous[0], previous[1] + 1, point[0], point[1] + 1, colour);
      }
      previous = point;
    }
  });
  if (options.legend !== false) {
    const entries = series.flatMap((s, k) =>
      s.name === undefined || s.name === '' ? [] : [{ name: s.name, colour: colours[k] as Rgb }],
    );
    drawLegend(image, entries, plotArea, scale, axis);
  }
  const ticks = {
    x: xTicks.map((t, k) => ({ value: t, label: xLabels[k] ?? '' })),
    y: yTicks.map((t, k) => ({
      value: logY ? Number((10 ** t).toPrecision(12)) : t,
      label: yLabels[k] ?? '',
    })),
  };
  return { ...image, plotArea, xRange, yRange, ticks };
}
