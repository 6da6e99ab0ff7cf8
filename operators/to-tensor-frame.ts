import * as tf from '@tensorflow/tfjs';
import { map, type OperatorFunction } from 'rxjs';
import { type CubeFrame, InvalidFrameError } from '../src/core/frame.js';
import type { TensorFrame } from '../src/core/tensor-frame.js';

/**
 * Uploads each frame's spectra into a tfjs tensor: `CubeFrame` -> {@link TensorFrame} with
 * `pixels` `[height * width, bands]` float32. The first stage of every tensor pipeline; the
 * emitted frame owns its tensor (see the ownership rule on `TensorFrame`).
 *
 * @throws {@link InvalidFrameError} (reason `shape`) when `data` does not hold `height*width*bands` floats
 * @example
 * ```ts
 * import { bandpassByWavelength, perPixelUnitNorm } from 'cubestream/operators';
 * frames$.pipe(toTensorFrame(), bandpassByWavelength({ minNm: 700 }), perPixelUnitNorm())
 * ```
 */
export function toTensorFrame(): OperatorFunction<CubeFrame, TensorFrame> {
  return map((frame) => {
    const { data, ...rest } = frame;
    const pixels = frame.height * frame.width;
    if (!(data instanceof Float32Array) || data.length !== pixels * frame.bands) {
      throw new InvalidFrameError(
        'shape',
        'data',
        data,
        `must be a Float32Array of height*width*bands = ${frame.height}*${frame.width}*${frame.bands} values`,
      );
    }
    return { ...rest, pixels: tf.tensor2d(data, [pixels, frame.bands], 'float32') };
  });
}
