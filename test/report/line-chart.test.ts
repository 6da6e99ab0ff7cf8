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
