import { CubestreamError } from '../core/errors.js';

/** An RGBA raster, row-major, 4 bytes a pixel (what PNG writers and canvases take). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** `width * height * 4` bytes: R, G, B, A per pixel. */
  readonly data: Uint8Array;
}

/** An RGB colour, 0-255 per channel. */
export type Rgb = readonly [number, number, number];

/**
 * Input to a picture function that cannot be drawn: sizes that do not match the data, a
 * non-positive size, an empty series. Names the argument.
 */
export class ReportInputError extends CubestreamError {
  /** Argument at fault, e.g. `scores`, `mask`, `series[1].values`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super('report-input', `picture input ${field}: ${problem}`);
    this.field = field;
  }
}

/** Checks that `width` x `height` is a drawable size. */
export function checkSize(width: number, height: number): void {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new ReportInputError(name, `${value} must be a positive integer`);
  }
}

/**
 * A new image filled with one colour (opaque).
 *
 * @example
 * ```ts
 * const white = createImage(64, 32, [255, 255, 255]);
 * ```
 */
export function createImage(width: number, height: number, fill: Rgb = [0, 0, 0]): RgbaImage {
  checkSize(width, height);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = fill[0];
    data[i + 1] = fill[1];
    data[i + 2] = fill[2];
    data[i + 3] = 255;
  }
  return { width, height, data };
}

/** Sets pixel (x, y) to an opaque colour; ignores coordinates outside the image. */
export function setPixel(image: RgbaImage, x: number, y: number, colour: Rgb): void {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const i = (Math.trunc(y) * image.width + Math.trunc(x)) * 4;
  image.data[i] = colour[0];
  image.data[i + 1] = colour[1];
  image.data[i + 2] = colour[2];
  image.data[i + 3] = 255;
}

/** The RGBA bytes of pixel (x, y). */
export function getPixel(image: RgbaImage, x: number, y: number): [number, number, number, number] {
  const i = (y * image.width + x) * 4;
  const d = image.data;
  return [d[i] ?? 0, d[i + 1] ?? 0, d[i + 2] ?? 0, d[i + 3] ?? 0];
}
