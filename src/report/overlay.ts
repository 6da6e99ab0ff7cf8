import { ReportInputError, type Rgb, type RgbaImage, setPixel } from './rgba-image.js';

/** A rectangle in pixel coordinates (a decision blob fits). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/**
 * Blends `colour` over the pixels where `mask` is non-zero: out = (1-α)·rgb + α·colour.
 * Returns a new image.
 *
 * @throws {@link ReportInputError} when the mask size differs from the image or α is outside [0, 1]
 * @example
 * ```ts
 * import { falseColourRgb } from './false-colour.js';
 * const rgb = falseColourRgb(frame.data, frame.height, frame.width, frame.bands, frame.wavelengths, frame.wavelengthUnits);
 * const flagged = overlayMask(rgb, decided.mask, [255, 0, 0], 0.5); // decided: frame's decision
 * ```
 */
export function overlayMask(rgb: RgbaImage, mask: ArrayLike<number>, colour: Rgb, alpha = 0.5): RgbaImage {
  if (mask.length !== rgb.width * rgb.height) {
    throw new ReportInputError(
      'mask',
      `has ${mask.length} values, image has ${rgb.width}x${rgb.height} pixels`,
    );
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new ReportInputError('alpha', `${alpha} must be in [0, 1]`);
  const data = Uint8Array.from(rgb.data);
  for (let p = 0; p < mask.length; p++) {
    if ((mask[p] as number) === 0) continue;
    for (let c = 0; c < 3; c++) {
      const i = p * 4 + c;
      data[i] = Math.round((1 - alpha) * (data[i] as number) + alpha * (colour[c] as number));
    }
  }
  return { width: rgb.width, height: rgb.height, data };
}

/**
 * Draws the outlines of boxes (e.g. decision blobs, with `rowOffset` already subtracted for a
 * row block) `thickness` pixels wide, inside each box. Returns a new image; parts outside the
 * image are clipped.
 */
export function drawBoxes(image: RgbaImage, boxes: readonly Box[], colour: Rgb, thickness = 1): RgbaImage {
  const out: RgbaImage = { width: image.width, height: image.height, data: Uint8Array.from(image.data) };
  for (const box of boxes) {
    const right = box.x + box.w - 1;
    const bottom = box.y + box.h - 1;
    for (let t = 0; t < thickness; t++) {
      for (let x = box.x; x <= right; x++) {
        setPixel(out, x, box.y + t, colour);
        setPixel(out, x, bottom - t, colour);
      }
      for (let y = box.y; y <= bottom; y++) {
        setPixel(out, box.x + t, y, colour);
        setPixel(out, right - t, y, colour);
      }
    }
  }
  return out;
}
