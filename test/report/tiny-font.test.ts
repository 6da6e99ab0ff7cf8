import { describe, expect, it } from 'vitest';
import { createImage, getPixel, type RgbaImage } from '../../src/report/rgba-image.js';
import { drawTinyText, drawTinyTextUp, GLYPH_HEIGHT, tinyTextWidth } from '../../src/report/tiny-font.js';

const INK = [0, 0, 0] as const;

/** The inked pixels of an image as rows of '#' and '.'. */
function ascii(image: RgbaImage): string[] {
  const rows: string[] = [];
  for (let y = 0; y < image.height; y++) {
    let row = '';
    for (let x = 0; x < image.width; x++) row += getPixel(image, x, y)[0] === 0 ? '#' : '.';
    rows.push(row);
  }
  return rows;
}

describe('tiny font', () => {
  it('draws letters, lower case as capitals, and leaves unknown characters blank', () => {
    const upper = createImage(tinyTextWidth('LOSS'), GLYPH_HEIGHT, [255, 255, 255]);
    drawTinyText(upper, 'LOSS', 0, 0, INK);
    const lower = createImage(tinyTextWidth('loss'), GLYPH_HEIGHT, [255, 255, 255]);
    drawTinyText(lower, 'loss', 0, 0, INK);
    expect(ascii(lower)).toEqual(ascii(upper));
    expect(ascii(upper)).toEqual([
      '#....#...##..##',
      '#...#.#.#...#..',
      '#...#.#..#...#.',
      '#...#.#...#...#',
      '###..#..##..##.',
    ]);
    const blank = createImage(8, GLYPH_HEIGHT, [255, 255, 255]);
    drawTinyText(blank, '\u2603 ', 0, 0, INK);
    expect(ascii(blank).join('')).not.toContain('#');
  });

  it('scales glyphs and turns text up for a y-axis name', () => {
    expect(tinyTextWidth('τ 0.5', 2)).toBe((5 * 4 - 1) * 2);
    const across = createImage(3, 5, [255, 255, 255]);
    drawTinyText(across, 'L', 0, 0, INK);
    const up = createImage(5, 3, [255, 255, 255]);
    drawTinyTextUp(up, 'L', 0, 2, INK);
    // L turned 90° anticlockwise: its stem is the bottom row, its foot the right column.
    expect(ascii(up)).toEqual(['....#', '....#', '#####']);
    const big = createImage(6, 10, [255, 255, 255]);
    drawTinyText(big, 'L', 0, 0, INK, 2);
    expect(ascii(big)[9]).toBe('######');
  });
});
