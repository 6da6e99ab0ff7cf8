import { describe, expect, it } from 'vitest';
import { colourAt, INFERNO, scoreHeatmap, VIRIDIS } from '../../src/report/colormap.js';
import { getPixel } from '../../src/report/rgba-image.js';
import { pngPixel, usePngWorkspace } from './png-helpers.js';

const roundTrip = usePngWorkspace();

describe('scoreHeatmap', () => {
  it('maps min to the first and max to the last colour, NaN to the invalid colour', async () => {
    const scores = Float32Array.from([0, 1, 2, 3, 4, Number.NaN]);
    const png = await roundTrip(scoreHeatmap(scores, 2, 3), 'heat.png');
    expect([png.width, png.height]).toEqual([3, 2]);
    expect(pngPixel(png, 0, 0)).toEqual([...VIRIDIS[0]!, 255]);
    expect(pngPixel(png, 1, 1)).toEqual([...VIRIDIS[8]!, 255]);
    expect(pngPixel(png, 2, 0)).toEqual([...VIRIDIS[4]!, 255]); // 2 of 0..4 is the middle stop
    expect(pngPixel(png, 2, 1)).toEqual([0, 0, 0, 255]);
  });

  it('honours a fixed range and another colormap, clamping outside', () => {
    const image = scoreHeatmap([-5, 0.5, 10], 1, 3, { range: [0, 1], colormap: INFERNO });
    expect(getPixel(image, 0, 0)).toEqual([...INFERNO[0]!, 255]);
    expect(getPixel(image, 1, 0)).toEqual([...colourAt(INFERNO, 0.5), 255]);
    expect(getPixel(image, 2, 0)).toEqual([...INFERNO[8]!, 255]);
    expect(() => scoreHeatmap([1, 2], 2, 2)).toThrow(/scores/);
  });
});
