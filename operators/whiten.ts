import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import { bandIndexWavelengths } from '../src/core/frame.js';
import { type ChannelInfo, type TensorFrame, withPixels } from '../src/core/tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../src/model/model-errors.js';
import type { WhiteningParams } from '../src/model/robust-whitening.js';
import { tensorStage } from './internal/tensor-stage.js';

const STAGE = 'whiten';

/**
 * Checks whitening parameters: `mean` has C > 0 values, `matrix` is `[components, C]`, all finite.
 *
 * @throws {@link ModelParamsError} naming the field at fault
 */
export function checkWhitening(params: WhiteningParams): {
  readonly channels: number;
  readonly components: number;
} {
  const channels = params.mean.length;
  const { components } = params;
  if (channels === 0) throw new ModelParamsError('whiten.mean', 'is empty');
  if (!Number.isSafeInteger(components) || components < 1)
    throw new ModelParamsError('whiten.components', `${components} must be a positive integer`);
  if (params.matrix.length !== components * channels)
    throw new ModelParamsError(
      'whiten.matrix',
      `has ${params.matrix.length} values, expected [${components}, ${channels}]`,
    );
  for (const [name, values] of [
    ['whiten.mean', params.mean],
    ['whiten.matrix', params.matrix],
  ] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ModelParamsError(`${name}[${bad}]`, `${values[bad]} is not finite`);
  }
  return { channels, components };
}

/**
 * Projects each pixel onto the k leading whitened principal components of the background
 * (issue 5): y = (x - μ)·Mᵀ, M `[k, C]` fitted in float64 by `fitRobustWhitening`, so ||y||² is
 * the (truncated, robust) RX score. The emitted frame has k channels, described as band indices.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when a frame does not have C channels
 * @throws {@link ModelParamsError} at build time when the parameters do not fit together or are not finite
 * @example
 * ```ts
 * import { toTensorFrame, zscoreNormalize } from 'cubestream/operators';
 * if (params.whiten !== undefined) {
 *   frames$.pipe(toTensorFrame(), zscoreNormalize(params.zscore), whiten(params.whiten)); // [N, 205] -> [N, 30]
 * }
 * ```
 */
export function whiten(params: WhiteningParams): OperatorFunction<TensorFrame, TensorFrame> {
  const { channels, components } = checkWhitening(params);
  const out: ChannelInfo = {
    bands: components,
    wavelengths: bandIndexWavelengths(components),
    wavelengthUnits: 'index',
  };
  return tensorStage<TensorFrame, TensorFrame>(() => {
    const mu = tf.tensor1d(params.mean, 'float32');
    // Transposed once (non-transposed operands take XNNPACK's fast path, see projectEmbeddings).
    const mt = tf.tidy(() => tf.transpose(tf.tensor2d(params.matrix, [components, channels], 'float32')));
    return {
      step(frame) {
        if (frame.bands !== channels) throw new ChannelCountError(STAGE, channels, frame.bands);
        return withPixels(
          frame,
          tf.tidy(() => tf.matMul(tf.sub(frame.pixels, mu), mt) as tf.Tensor2D),
          out,
        );
      },
      release() {
        mu.dispose();
        mt.dispose();
      },
    };
  });
}
