import { describe, expect, it } from 'vitest';
import { INFERNO } from '../../src/report/colormap.js';
import {
  FALSE_ALARM_COLOUR,
  formatScaleValue,
  HIT_COLOUR,
  heatmapFigure,
  MISSED_COLOUR,
  maskCounts,
  maskFigure,
} from '../../src/report/figure.js';
import { createImage, getPixel, ReportInputError, type RgbaImage } from '../../src/report/rgba-image.js';
import { usePngWorkspace } from './png-helpers.js';

const roundTrip = usePngWorkspace();

function rgb(image: RgbaImage, x: number, y: number): number[] {
  return getPixel(image, x, y).slice(0, 3);
}

/** Top-left corner and size of the first run of pixels of `colour`, scanning rows. */
function findColour(image: RgbaImage, colour: readonly number[]): { x: number; y: number } | undefined {
  for (let y = 0; y < image.height; y++)
    for (let x = 0; x < image.width; x++) if (rgb(image, x, y).join() === colour.join()) return { x, y };
  return undefined;
}

function count(image: RgbaImage, colour: readonly number[]): number {
  let n = 0;
  for (let y = 0; y < image.height; y++)
    for (let x = 0; x < image.width; x++) if (rgb(image, x, y).join() === colour.join()) n++;
  return n;
}

describe('heatmapFigure', () => {
  // 10 x 10 scores rising left to right, 0..0.9; one anomalous pixel in the truth.
  const scores = Float32Array.from({ length: 100 }, (_, i) => (i % 10) / 10);
  const truth = new Uint8Array(100);
  truth[55] = 1;

  it('enlarges the heatmap and draws a colour bar from the first colour (bottom) to the last (top)', async () => {
    const figure = heatmapFigure(scores, 10, 10, {
      range: [0, 0.9],
      title: 'scores',
      caption: ['prediction'],
    });
    const png = await roundTrip(figure, 'heat.png');
    expect([png.width, png.height]).toEqual([figure.width, figure.height]);
    // The 10x10 heatmap at 16x (towards a longer side of 240 pixels, at most 16x): its left column
    // (score 0) is a 16 x 160 block of the first colour.
    expect(count(figure, INFERNO[0] as readonly number[])).toBeGreaterThanOrEqual(16 * 160);
    // The colour bar: the rightmost column whose top is the last colour (the heatmap's right
    // column, scores 0.9, is too); down it, the colours run to the first one at the bottom.
    const last = INFERNO[8] as readonly number[];
    const top = findColour(figure, last) as { x: number; y: number };
    let barX = figure.width - 1;
    while (rgb(figure, barX, top.y).join() !== last.join()) barX--;
    let bottom = top.y;
    while (rgb(figure, barX, bottom + 1).join() !== '120,120,120') bottom++; // to the bar's frame
    expect(rgb(figure, barX, bottom)).toEqual([...(INFERNO[0] as readonly number[])]);
    expect(bottom - top.y).toBeGreaterThanOrEqual(159); // as tall as the heatmap
  });

  it('marks τ on the bar, draws the truth as a second panel, and rejects bad input', () => {
    const plain = heatmapFigure(scores, 10, 10, { range: [0, 1] });
    const withTruth = heatmapFigure(scores, 10, 10, {
      range: [0, 1],
      truth,
      marks: [{ value: 0.5, label: 'τ 0.5' }],
    });
    expect(withTruth.width).toBeGreaterThan(plain.width + 160);
    // The truth panel: a 16x16 white square for the one anomalous pixel.
    expect(count(withTruth, [255, 255, 255]) - count(plain, [255, 255, 255])).toBeGreaterThan(0);
    expect(() => heatmapFigure(scores, 10, 9)).toThrow(ReportInputError);
    expect(() => heatmapFigure(scores, 10, 10, { truth: new Uint8Array(3) })).toThrow(/truth/);
    expect(() => heatmapFigure(scores, 10, 10, { range: [1, 1] })).toThrow(/range/);
  });

  it('labels the scale with short values', () => {
    expect(formatScaleValue(0)).toBe('0');
    expect(formatScaleValue(1.1546)).toBe('1.15');
    expect(formatScaleValue(21020.5)).toBe('21000');
    expect(formatScaleValue(2.5e-5)).toBe('2.50e-5');
  });
});

describe('maskFigure', () => {
  // 4 x 4: a hit at 0, a miss at 5, a false alarm at 10.
  const predicted = new Uint8Array(16);
  const truth = new Uint8Array(16);
  predicted[0] = 1;
  truth[0] = 1;
  truth[5] = 1;
  predicted[10] = 1;

  it('counts hits, misses and false alarms', () => {
    expect(maskCounts(predicted, truth)).toEqual({ hits: 1, missed: 1, falseAlarms: 1 });
  });

  it('draws prediction, truth and the colour-coded comparison side by side, with a legend', () => {
    const figure = maskFigure({ height: 4, width: 4, predicted, truth, title: 'decisions' });
    // zoom 16: each cube pixel is a 16x16 square; plus one legend swatch (10x10) per colour.
    const swatch = 10 * 10;
    expect(count(figure, HIT_COLOUR)).toBe(16 * 16 + swatch);
    expect(count(figure, MISSED_COLOUR)).toBe(16 * 16 + swatch);
    expect(count(figure, FALSE_ALARM_COLOUR)).toBe(16 * 16 + swatch);
    // Hit at pixel 0, miss at pixel 5 (row 1, col 1) in the comparison panel.
    const hit = findColour(figure, HIT_COLOUR) as { x: number; y: number };
    expect(rgb(figure, hit.x + 16, hit.y + 16)).toEqual([...MISSED_COLOUR]);
    // Three panels side by side: wider than three 64-pixel panels.
    expect(figure.width).toBeGreaterThan(3 * 64);
  });

  it('stacks the panels of a wide picture, shows only the flagged pixels without truth, and checks sizes', () => {
    const wide = maskFigure({
      height: 2,
      width: 40,
      predicted: new Uint8Array(80),
      truth: new Uint8Array(80),
    });
    // 2 x 40 at 6x: three 240 x 12 panels, one under the other.
    expect(wide.width).toBeLessThan(2 * 240);
    expect(wide.height).toBeGreaterThan(3 * 12 + 2 * 16);
    const noTruth = maskFigure({
      height: 4,
      width: 4,
      predicted,
      background: createImage(4, 4, [200, 200, 200]),
    });
    expect(count(noTruth, HIT_COLOUR)).toBe(0);
    expect(count(noTruth, FALSE_ALARM_COLOUR)).toBe(2 * 16 * 16 + 10 * 10);
    expect(() => maskFigure({ height: 4, width: 4, predicted: new Uint8Array(3) })).toThrow(/predicted/);
    expect(() => maskFigure({ height: 4, width: 4, predicted, background: createImage(3, 3) })).toThrow(
      /background/,
    );
  });
});
