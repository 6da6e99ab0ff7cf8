import { type CubeFrame, InvalidFrameError } from '../../core/frame.js';

/**
 * A frame of raw uint16 counts, as most hyperspectral cameras deliver them (12- to 16-bit).
 * The fused ONNX operators take it as is and cast to float32 inside the graph, saving a pass and
 * half the bytes; everything else about it is a {@link CubeFrame}.
 */
export interface Uint16CubeFrame extends Omit<CubeFrame, 'data'> {
  /** `[height * width, bands]` uint16, pixel-major (BIP). */
  readonly data: Uint16Array;
}

/** What the fused operators accept: float32 spectra or raw uint16 counts. */
export type FusedInputFrame = CubeFrame | Uint16CubeFrame;

/**
 * Checks that a frame's `data` is a Float32Array or Uint16Array of `height * width * bands`
 * values and that it has `bands` wavelengths; returns the element type (the fused operators'
 * counterpart of `toTensorFrame`'s check).
 *
 * @throws {@link InvalidFrameError} (reason `shape`) naming the frame's geometry, or (reason
 *   `wavelengths`) when the wavelength count differs from `bands`
 * @example
 * ```ts
 * frameElementType(frame); // 'uint16' for a Uint16CubeFrame
 * ```
 */
export function frameElementType(
  frame: Pick<FusedInputFrame, 'data' | 'height' | 'width' | 'bands' | 'wavelengths'>,
): 'float32' | 'uint16' {
  const { data } = frame;
  const expected = frame.height * frame.width * frame.bands;
  const type = data instanceof Float32Array ? 'float32' : data instanceof Uint16Array ? 'uint16' : undefined;
  if (type === undefined || data.length !== expected || expected === 0) {
    throw new InvalidFrameError(
      'shape',
      'data',
      data,
      `must be a Float32Array or Uint16Array of height*width*bands = ${frame.height}*${frame.width}*${frame.bands} values`,
    );
  }
  if (frame.wavelengths.length !== frame.bands) {
    throw new InvalidFrameError(
      'wavelengths',
      'wavelengths',
      frame.wavelengths,
      `must hold ${frame.bands} values`,
    );
  }
  return type;
}
