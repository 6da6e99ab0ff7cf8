import { describe, expect, it } from 'vitest';
import { lineChart } from '../../src/report/line-chart.js';
import { getPixel, ReportInputError, type RgbaImage } from '../../src/report/rgba-image.js';
import { formatTick } from '../../src/report/tiny-font.js';
import { pngPixel, usePngWorkspace } from './png-helpers.js';

const roundTrip = usePngWorkspace();

const RED = [200, 0, 0] as const;
const BLUE = [0, 0, 200] as const;

function countColour(image: RgbaImage, colour: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    if (image.data[i] === colour[0] && image.data[i + 1] === colour[1] && image.data[i + 2] === colour[2])
      n++;
  }
  return n;
}

describe('lineChart', () => {
  it('draws curves inside axes on a PNG of the requested size', async () => {
    const loss = [10, 6, 4, 3, 2.5, 2.2, 2];
    const chart = lineChart(
      [
        { name: 'loss', values: loss, colour: RED },
        { name: 'val', values: loss.map((v) => v + 1), colour: BLUE },
      ],
      { width: 320, height: 200 },
    );
    const png = await roundTrip(chart, 'loss.png');
    expect([png.width, png.height]).toEqual([320, 200]);
    const { left, top, right, bottom } = chart.plotArea;
    expect(chart.xRange).toEqual([0, 6]);
    // The first point (epoch 0, highest value 11 of the val curve) is near the top-left corner.
    const yOf = (v: number) =>
      Math.round(bottom - ((v - chart.yRange[0]) / (chart.yRange[1] - chart.yRange[0])) * (bottom - top));
    expect(pngPixel(png, left, yOf(11)).slice(0, 3)).toEqual([...BLUE]);
    expect(pngPixel(png, right, yOf(2)).slice(0, 3)).toEqual([...RED]);
    // Axes in dark grey, background white in the corner, and each curve spans the width.
    expect(pngPixel(png, left, bottom)).toEqual([60, 60, 60, 255]);
    expect(pngPixel(png, png.width - 1, 0)).toEqual([255, 255, 255, 255]);
    expect(countColour(chart, RED)).toBeGreaterThan(right - left);
    expect(countColour(chart, BLUE)).toBeGreaterThan(right - left);
  });

  it('breaks lines at non-finite values and plots log10 on a log axis', () => {
    const chart = lineChart([{ values: [1e-3, 1e-3, Number.NaN, 1e-5, 1e-5], colour: RED }], {
      width: 200,
      height: 120,
      logY: true,
    });
    expect(chart.yRange[0]).toBeLessThan(-5);
    expect(chart.yRange[1]).toBeGreaterThan(-3);
    const { left, right } = chart.plotArea;
    const xOf = (x: number) => Math.round(left + (x / 4) * (right - left));
    // No line crosses the gap around x = 2.
    let redInGap = 0;
    for (let y = 0; y < chart.height; y++)
      if (getPixel(chart, xOf(2), y).slice(0, 3).join() === RED.join()) redInGap++;
    expect(redInGap).toBe(0);
    expect(countColour(chart, RED)).toBeGreaterThan(0);
  });

  it('uses given x values and a fixed y range (clipping outside)', () => {
    const chart = lineChart([{ values: [0, 5, 100], x: [10, 20, 30], colour: RED }], {
      width: 200,
      height: 120,
      yRange: [0, 10],
    });
    expect(chart.xRange).toEqual([10, 30]);
    expect(chart.yRange).toEqual([0, 10]);
    expect(getPixel(chart, chart.plotArea.right, chart.plotArea.top).slice(0, 3)).toEqual([...RED]);
  });

  it('rejects no series, mismatched x and sizes too small', () => {
    expect(() => lineChart([])).toThrow(ReportInputError);
    expect(() => lineChart([{ values: [1, 2], x: [1] }])).toThrow(/series\[0\]\.x/);
    expect(() => lineChart([{ values: [1, 2] }], { width: 20, height: 20 })).toThrow(/no room/);
  });
});

describe('lineChart: title, axis names, legend and round ticks', () => {
  /** Pixels of `colour` inside the rectangle [x0, x1) x [y0, y1). */
  function countIn(
    image: RgbaImage,
    colour: readonly number[],
    x0: number,
    y0: number,
    x1: number,
    y1: number,
  ) {
    let n = 0;
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) if (getPixel(image, x, y).slice(0, 3).join() === colour.join()) n++;
    return n;
  }
  const AXIS = [60, 60, 60];
  const epochs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

  it('draws the title above the plot, the x name below it and the y name left of the tick labels', () => {
    const bare = lineChart([{ values: [3, 2, 1], x: [1, 2, 3] }]);
    const named = lineChart([{ values: [3, 2, 1], x: [1, 2, 3] }], {
      title: 'Loss per epoch',
      xLabel: 'epoch',
      yLabel: 'loss',
    });
    const { left, top, bottom } = named.plotArea;
    // Room was made for each, and text was drawn there.
    expect(top).toBeGreaterThan(bare.plotArea.top);
    expect(left).toBeGreaterThan(bare.plotArea.left);
    expect(bottom).toBeLessThan(bare.plotArea.bottom);
    expect(countIn(named, AXIS, 0, 0, named.width, top - 2)).toBeGreaterThan(50); // title
    expect(countIn(bare, AXIS, 0, 0, bare.width, bare.plotArea.top - 2)).toBe(0);
    expect(countIn(named, AXIS, 0, named.height - 14, named.width, named.height)).toBeGreaterThan(20); // x name
    expect(countIn(named, AXIS, 0, top, 16, bottom)).toBeGreaterThan(20); // y name, turned up
  });

  it('draws a legend of the named series with their colours, in the corner the curves leave free', () => {
    const falling = lineChart([
      { name: 'loss', values: [10, 5, 2, 1], colour: RED },
      { name: 'val_loss', values: [11, 6, 3, 2], colour: BLUE },
    ]);
    const { left, right, top, bottom } = falling.plotArea;
    // Falling curves run from top-left to bottom-right: the legend sits top-right.
    const midX = Math.round((left + right) / 2);
    const midY = Math.round((top + bottom) / 2);
    const swatches = (x0: number, y0: number, x1: number, y1: number) =>
      countIn(falling, RED, x0, y0, x1, y1) > 0 && countIn(falling, BLUE, x0, y0, x1, y1) > 0;
    expect(swatches(right - 120, top, right, top + 40)).toBe(true);
    expect(countIn(falling, AXIS, right - 120, top, right, top + 40)).toBeGreaterThan(30); // the names
    const unnamed = lineChart([{ values: [10, 5, 2, 1], colour: RED }]);
    expect(countIn(unnamed, AXIS, midX, unnamed.plotArea.top, unnamed.plotArea.right, midY)).toBe(0);
    const off = lineChart([{ name: 'loss', values: [10, 5, 2, 1], colour: RED }], { legend: false });
    expect(countIn(off, AXIS, midX, off.plotArea.top, off.plotArea.right, midY)).toBe(0);
  });

  it('puts ticks at round values: whole epochs, 1-2-5 steps, powers of ten on a log axis', () => {
    const loss = lineChart([{ values: epochs.map((e) => 3 * 0.5 ** e), x: epochs }], { logY: true });
    expect(loss.ticks.x.map((t) => t.value)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(loss.ticks.y.map((t) => t.label)).toEqual(['1e-3', '0.01', '0.1', '1']);
    const short = lineChart([{ values: [0.9, 0.5, 0.31], x: [1, 2, 3] }], { logY: true });
    expect(short.ticks.x.map((t) => t.label)).toEqual(['1', '2', '3']); // no 1.5 epochs
    expect(short.ticks.y.map((t) => t.label)).toEqual(['0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9']);
    const auroc = lineChart([{ values: [0.9, 0.95, 0.97, 0.985], x: [1, 2, 3, 4] }]);
    for (const tick of auroc.ticks.y) expect(Math.round(tick.value * 100) / 100).toBe(tick.value);
    expect(auroc.ticks.y.map((t) => t.label)).toEqual(['0.9', '0.92', '0.94', '0.96', '0.98']);
  });

  it('tells ticks of a nearly flat metric apart instead of labelling them all 1', () => {
    const chart = lineChart([{ values: [0.9999988, 0.9999977, 1], x: [1, 2, 3] }]);
    const labels = chart.ticks.y.map((t) => t.label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toContain('1');
    expect(labels).toContain('0.9998');
    expect(chart.yRange[1] - chart.yRange[0]).toBeGreaterThan(1e-3); // noise is not drawn as a cliff
  });
});

describe('formatTick', () => {
  it('writes short labels', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(0.30000000000000004)).toBe('0.3');
    expect(formatTick(1234.5)).toBe('1230');
    expect(formatTick(0.001)).toBe('1e-3');
    expect(formatTick(-2.5e-5)).toBe('-2.5e-5');
    expect(formatTick(2e6)).toBe('2e6');
  });
});
