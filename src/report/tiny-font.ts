import { type Rgb, type RgbaImage, setPixel } from './rgba-image.js';

/** 3x5 pixel glyphs, rows top to bottom, for the characters tick labels need. */
const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '3': ['111', '001', '111', '001', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '6': ['111', '100', '111', '101', '111'],
  '7': ['111', '001', '001', '001', '001'],
  '8': ['111', '101', '111', '101', '111'],
  '9': ['111', '101', '111', '001', '111'],
  '.': ['000', '000', '000', '000', '010'],
  '-': ['000', '000', '111', '000', '000'],
  '+': ['000', '010', '111', '010', '000'],
  e: ['000', '111', '111', '100', '111'],
};

/** Width in pixels of one character cell (3 px glyph + 1 px gap), times `scale`. */
export const GLYPH_ADVANCE = 4;

/** Height in pixels of a glyph, times `scale`. */
export const GLYPH_HEIGHT = 5;

/** Width in pixels of `text` drawn by {@link drawTinyText}. */
export function tinyTextWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - 1) * scale;
}

/**
 * Draws `text` (digits, `.`, `-`, `+`, `e`; other characters leave a blank cell) with its
 * top-left corner at (x, y) in a 3x5 pixel font scaled by `scale`. Parts outside are clipped.
 */
export function drawTinyText(
  image: RgbaImage,
  text: string,
  x: number,
  y: number,
  colour: Rgb,
  scale = 1,
): void {
  [...text].forEach((char, k) => {
    const glyph = GLYPHS[char];
    if (glyph === undefined) return;
    glyph.forEach((row, gy) => {
      for (let gx = 0; gx < 3; gx++) {
        if (row[gx] !== '1') continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            setPixel(image, x + (k * GLYPH_ADVANCE + gx) * scale + sx, y + gy * scale + sy, colour);
          }
        }
      }
    });
  });
}

/** A short label for a tick value: up to 3 significant digits, exponent form outside 1e-2..1e5. */
export function formatTick(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return value === 0 ? '0' : '';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-2 && magnitude < 1e5) return String(Number(value.toPrecision(3)));
  const [mantissa = '', exponent = ''] = value.toExponential(1).split('e');
  return `${mantissa.replace(/\.0$/, '')}e${exponent.replace('+', '')}`;
}
