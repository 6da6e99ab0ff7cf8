import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import { bandIndexWavelengths } from '../src/core/frame.js';
import { type ChannelInfo, type TensorFrame, withPixels } from '../src/core/tensor-frame.js';
import { type ProjectionWeights, projectionShape } from '../src/model/deep-svdd-params.js';
import { ChannelCountError, ModelParamsError } from '../src/model/model-errors.js';
import { tensorStage } from './internal/tensor-stage.js';

/**
 * Options of {@link projectEmbeddings}: weights row-major, (out, in) as in the golden file and
 * PyTorch; `hidden` = `b1.length`, C = `W1.length / hidden`, D = `W2.length / hidden`.
 */
export type ProjectOptions = Pick<ProjectionWeights, 'W1' | 'b1' | 'W2' | 'residual'>;

const STAGE = 'projectEmbeddings';

/**
 * Maps each pixel to its embedding (DESIGN §3.4): z = W2 · relu(W1 x + b1), W1 `[hidden, C]`
 * with bias, W2 `[D, hidden]` without (one fused matMul + bias + relu, then a matMul, on weights
 * transposed once per subscription). The emitted frame has D channels, described as band indices 0..D-1.
 * With `residual: true` (issue 5) it is z = x + W2 · relu(W1 x + b1), which needs D = C.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when a frame does not have C channels
 * @throws {@link ModelParamsError} at build time when the weight lengths do not fit together, are not
 *   finite, or a residual projection has D ≠ C
 * @example
 * ```ts
 * frames$.pipe(…, zscoreNormalize(zscore), projectEmbeddings(initProjection(27, { seed: 1 })))
 * // [pixels, 27] -> [pixels, 32]
 * ```
 */
export function projectEmbeddings(options: ProjectOptions): OperatorFunction<TensorFrame, TensorFrame> {
  const { inChannels, hidden, rep } = projectionShape(options);
  for (const name of ['W1', 'b1', 'W2'] as const) {
    const bad = options[name].findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new ModelParamsError(`project.${name}[${bad}]`, `${options[name][bad]} is not finite`);
  }
  const residual = options.residual === true;
  if (residual && rep !== inChannels)
    throw new ModelParamsError(
      'project.rep',
      `a residual projection needs D = C = ${inChannels}, got ${rep}`,
    );
  const channels: ChannelInfo = {
    bands: rep,
    wavelengths: bandIndexWavelengths(rep),
    wavelengthUnits: 'index',
  };

  return tensorStage<TensorFrame, TensorFrame>(() => {
    // Transposed once here: tfjs-wasm 4.22's fused matMul gives wrong results with transposeB,
    // and non-transposed operands take XNNPACK's fast path (10x faster at 80k pixels).
    const w1t = tf.tidy(() => tf.transpose(tf.tensor2d(options.W1, [hidden, inChannels], 'float32')));
    const b1 = tf.tensor1d(options.b1, 'float32');
    const w2t = tf.tidy(() => tf.transpose(tf.tensor2d(options.W2, [rep, hidden], 'float32')));
    return {
      step(frame) {
        if (frame.bands !== inChannels) throw new ChannelCountError(STAGE, inChannels, frame.bands);
        const z = tf.tidy(() => {
          const h = tf.fused.matMul({ a: frame.pixels, b: w1t, bias: b1, activation: 'relu' });
          const f = tf.matMul(h, w2t) as tf.Tensor2D;
          return residual ? (tf.add(frame.pixels, f) as tf.Tensor2D) : f;
        });
        return withPixels(frame, z, channels);
      },
      release() {
        w1t.dispose();
        b1.dispose();
        w2t.dispose();
      },
    };
  });
}
