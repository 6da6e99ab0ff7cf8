/**
 * The test pattern of Aravis's fake GigE Vision camera (`arv-fake-gv-camera-0.8`, Aravis 0.8.26,
 * `arv_fake_camera_diagonal_ramp` in src/arvfakecamera.c), computed here so that a model can be
 * fitted on lines exactly like the camera's and tests can check the values that arrive:
 * - Mono8: `(x + y + frameId) % 255`, times a scale;
 * - Mono16: `(256 x + 256 frameId + 256 y) % 65535`, times the scale;
 * with `scale = 1 + GainRaw + log10(ExposureTimeAbs / 10000)`, 1 at the camera's defaults
 * (GainRaw 0, ExposureTimeAbs 10000 µs), clamped to the format's range. `x` is the column, `y`
 * the row of the camera image, `frameId` the GVSP block id of the buffer (from 65400, wrapping
 * 65535 -> 1).
 */

/** Pixel formats the fake camera serves in monochrome. */
export type FakeMonoFormat = 'Mono8' | 'Mono16';

/**
 * The fake camera's count at column `x`, row `y` of the image with block id `frameId`, at the
 * default exposure and gain.
 *
 * @example
 * ```ts
 * fakeCameraCount('Mono8', 3, 2, 65400); // (3 + 2 + 65400) % 255 = 125
 * fakeCameraCount('Mono16', 1, 0, 255);  // (256 + 65280) % 65535 = 1
 * ```
 */
export function fakeCameraCount(format: FakeMonoFormat, x: number, y: number, frameId: number): number {
  return format === 'Mono8' ? (x + y + frameId) % 255 : (256 * x + 256 * frameId + 256 * y) % 65535;
}

/**
 * One camera image (a line of a push-broom camera with the bands on the rows, `lineLayout:
 * bands-rows`) as BIP counts: band `b` of pixel `x` at `out[x * bands + b]` is the count at
 * column `x`, row `b`.
 *
 * @example
 * ```ts
 * const spectra = fakeCameraLineBip('Mono16', 1024, 224, 65400); // Float32Array(1024 * 224)
 * ```
 */
export function fakeCameraLineBip(
  format: FakeMonoFormat,
  width: number,
  bands: number,
  frameId: number,
  out: Float32Array = new Float32Array(width * bands),
  offset = 0,
): Float32Array {
  for (let x = 0; x < width; x++)
    for (let b = 0; b < bands; b++) out[offset + x * bands + b] = fakeCameraCount(format, x, b, frameId);
  return out;
}
