import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { checkSize, ReportInputError } from './rgba-image.js';

/**
 * Encodes RGBA bytes (`width * height * 4`, row-major) as a PNG file's bytes.
 *
 * @throws {@link ReportInputError} when the byte count does not match the size
 */
export function encodePng(rgba: Uint8Array, width: number, height: number): Buffer {
  checkSize(width, height);
  if (rgba.length !== width * height * 4) {
    throw new ReportInputError(
      'rgba',
      `has ${rgba.length} bytes, expected ${width}x${height}x4 = ${width * height * 4}`,
    );
  }
  const png = new PNG({ width, height, colorType: 6, inputColorType: 6, inputHasAlpha: true });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}

/**
 * Writes RGBA bytes as a PNG file (creating the folder).
 *
 * @example
 * ```ts
 * import { scoreHeatmap } from './colormap.js';
 * const heat = scoreHeatmap(decided.scores, decided.height, decided.width);
 * await writePng('runs/r1/heatmap-000.png', heat.data, heat.width, heat.height);
 * ```
 */
export async function writePng(file: string, rgba: Uint8Array, width: number, height: number): Promise<void> {
  const bytes = encodePng(rgba, width, height);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
}
