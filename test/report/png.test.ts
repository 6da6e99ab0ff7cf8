import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/report/png.js';
import { createImage, ReportInputError } from '../../src/report/rgba-image.js';
import { pngPixel, usePngWorkspace } from './png-helpers.js';

const roundTrip = usePngWorkspace();

describe('writePng', () => {
  it('writes a PNG that decodes to the same size and bytes', async () => {
    const image = createImage(3, 2, [10, 20, 30]);
    image.data.set([255, 0, 0, 128], 4 * 4); // pixel (1, 1), half transparent
    const png = await roundTrip(image, 'tiny.png');
    expect([png.width, png.height]).toEqual([3, 2]);
    expect(Array.from(png.data)).toEqual(Array.from(image.data));
    expect(pngPixel(png, 1, 1)).toEqual([255, 0, 0, 128]);
  });

  it('rejects a byte count that does not match the size', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2)).toThrow(ReportInputError);
    expect(() => encodePng(new Uint8Array(0), 0, 2)).toThrow(/width/);
  });
});
