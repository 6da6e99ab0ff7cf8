import { describe, expect, it } from 'vitest';
import { drawBoxes, overlayMask } from '../../src/report/overlay.js';
import { createImage, getPixel } from '../../src/report/rgba-image.js';
import { pngPixel, usePngWorkspace } from './png-helpers.js';

const roundTrip = usePngWorkspace();

describe('overlayMask and drawBoxes', () => {
  it('blends the colour over masked pixels only', async () => {
    const base = createImage(2, 2, [100, 100, 100]);
    const png = await roundTrip(overlayMask(base, [0, 1, 0, 0], [255, 0, 0], 0.5), 'overlay.png');
    expect(pngPixel(png, 1, 0)).toEqual([178, 50, 50, 255]);
    expect(pngPixel(png, 0, 0)).toEqual([100, 100, 100, 255]);
    expect(getPixel(base, 1, 0)).toEqual([100, 100, 100, 255]); // input untouched
    expect(() => overlayMask(base, [1], [0, 0, 0])).toThrow(/mask/);
  });

  it('outlines blob boxes, clipped at the border', () => {
    const boxed = drawBoxes(
      createImage(8, 8),
      [
        { x: 1, y: 2, w: 4, h: 3 },
        { x: 6, y: 6, w: 5, h: 5 },
      ],
      [0, 255, 0],
    );
    expect(getPixel(boxed, 1, 2)).toEqual([0, 255, 0, 255]);
    expect(getPixel(boxed, 4, 4)).toEqual([0, 255, 0, 255]);
    expect(getPixel(boxed, 2, 3)).toEqual([0, 0, 0, 255]); // inside stays
    expect(getPixel(boxed, 7, 6)).toEqual([0, 255, 0, 255]);
  });
});
