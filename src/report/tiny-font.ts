import { type Rgb, type RgbaImage, setPixel } from './rgba-image.js';

/**
 * 3x5 pixel glyphs, rows top to bottom: digits, capital letters (lower case is drawn as capitals)
 * and the punctuation that titles, axis names, captions and tick labels need.
 */
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
  A: ['010', '101', '111', '101', '101'],
  B: ['110', '101', '110', '101', '110'],
  C: ['011', '100', '100', '100', '011'],
  D: ['110', '101', '101', '101', '110'],
  E: ['111', '100', '110', '100', '111'],
  F: ['111', '100', '110', '100', '100'],
  G: ['011', '100', '101', '101', '011'],
  H: ['101', '101', '111', '101', '101'],
  I: ['111', '010', '010', '010', '111'],
  J: ['001', '001', '001', '101', '010'],
  K: ['101', '101', '110', '101', '101'],
  L: ['100', '100', '100', '100', '111'],
  M: ['101', '111', '111', '101', '101'],
  N: ['110', '101', '101', '101', '101'],
  O: ['010', '101', '101', '101', '010'],
  P: ['110', '101', '110', '100', '100'],
  Q: ['010', '101', '101', '110', '011'],
  R: ['110', '101', '110', '101', '101'],
  S: ['011', '100', '010', '001', '110'],
  T: ['111', '010', '010', '010', '010'],
  U: ['101', '101', '101', '101', '111'],
  V: ['101', '101', '101', '101', '010'],
  W: ['101', '101', '111', '111', '101'],
  X: ['101', '101', '010', '101', '101'],
  Y: ['101', '101', '010', '010', '010'],
  Z: ['111', '001', '010', '100', '111'],
  '.': ['000', '000', '000', '000', '010'],
  ',': ['000', '000', '000', '010', '100'],
  ':': ['000', '010', '000', '010', '000'],
  '-': ['000', '000', '111', '000', '000'],
  '+': ['000', '010', '111', '010', '000'],
  '=': ['000', '111', '000', '111', '000'],
  '<': ['001', '010', '100', '010', '001'],
  '>': ['100', '010', '001', '010', '100'],
  '≥': ['100', '010', '100', '000', '111'],
  '≤': ['001', '010', '001', '000', '111'],
  '(': ['001', '010', '010', '010', '001'],
  ')': ['100', '010', '010', '010', '100'],
  '[': ['110', '100', '100', '100', '110'],
  ']': ['011', '001', '001', '001', '011'],
  '/': ['001', '001', '010', '100', '100'],
  '%': ['101', '001', '010', '100', '101'],
  _: ['000', '000', '000', '000', '111'],
  "'": ['010', '010', '000', '000', '000'],
  '²': ['110', '010', '100', '110', '000'],
  τ: ['000', '111', '010', '010', '011'],
  '·': ['000', '000', '010', '000', '000'],
  '×': ['000', '101', '010', '101', '000'],
};

/** Width in pixels of one character cell (3 px glyph + 1 px gap), times `scale`. */
export const GLYPH_ADVANCE = 4;

/** Height in pixels of a glyph, times `scale`. */
export const GLYPH_HEIGHT = 5;

/** Width in pixels of `text` drawn by {@link drawTinyText}. */
export function tinyTextWidth(text: string, scale = 1): number {
  const length = [...text].length;
  return length === 0 ? 0 : (length * GLYPH_ADVANCE - 1) * scale;
}

/** The glyph drawn for `char` (lower case as capitals); undefined for a blank cell. */
function glyphOf(char: string): readonly string[] | undefined {
  return GLYPHS[char] ?? GLYPHS[char.toUpperCase()];
}

/** Calls `plot(gx, gy)` for every set pixel of `text`, in text coordinates (x along the text). */
function eachTextPixel(text: string, scale: number, plot: (tx: number, ty: number) => void): void {
  [...text].forEach((char, k) => {
    const glyph = glyphOf(char);
    if (glyph === undefined) return;
    glyph.forEach((row, gy) => {
      for (let gx = 0; gx < 3; gx++) {
        if (row[gx] !== '1') continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) plot((k * GLYPH_ADVANCE + gx) * scale + sx, gy * scale + sy);
        }
      }
    });
  });
}

/**
 * Draws `text` with its top-left corner at (x, y) in a 3x5 pixel font scaled by `scale`: digits,
 * letters (lower case drawn as capitals), `. , : - + = < > ≥ ≤ ( ) [ ] / % _ ' ² τ · ×`; other
 * characters (and spaces) leave a blank cell. Parts outside the image are clipped.
 *
 * @example
 * ```ts
 * import { createImage } from './rgba-image.js';
 * const image = createImage(80, 16, [255, 255, 255]);
 * drawTinyText(image, 'loss 0.25', 2, 2, [0, 0, 0], 2);
 * ```
 */
export function drawTinyText(
  image: RgbaImage,
  text: string,
  x: number,
  y: number,
  colour: Rgb,
  scale = 1,
): void {
  eachTextPixel(text, scale, (tx, ty) => setPixel(image, x + tx, y + ty, colour));
}

/**
 * Draws `text` turned 90° anticlockwise (read bottom to top, as a y-axis name), its baseline
 * side to the right: the text starts at (x, y) and runs upwards to y - {@link tinyTextWidth};
 * it is `GLYPH_HEIGHT * scale` pixels wide from x.
 */
export function drawTinyTextUp(
  image: RgbaImage,
  text: string,
  x: number,
  y: number,
  colour: Rgb,
  scale = 1,
): void {
  eachTextPixel(text, scale, (tx, ty) => setPixel(image, x + ty, y - tx, colour));
}

/** A short label for a tick value: up to 3 significant digits, exponent form outside 1e-2..1e5. */
export function formatTick(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return value === 0 ? '0' : '';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-2 && magnitude < 1e5) return String(Number(value.toPrecision(3)));
  const [mantissa = '', exponent = ''] = value.toExponential(1).split('e');
  return `${mantissa.replace(/\.0$/, '')}e${exponent.replace('+', '')}`;
}
