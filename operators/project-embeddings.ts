import * as tf from '@tensorflow/tfjs';
import type { OperatorFunction } from 'rxjs';
import { bandIndexWavelengths } from '../src/core/frame.js';
import { type ChannelInfo, type TensorFrame, withPixels } from '../src/core/tensor-frame.js';
import type { ProjectionWeights } from '../src/model/deep-svdd-params.js';
import { ChannelCountError, ModelParamsError } from '../src/model/model-errors.js';
import { type ProjectionLayer, projectionLayers, projectionShapeOf } from '../src/model/network.js';
import { tensorStage } from './internal/tensor-stage.js';

/**
 * Options of {@link projectEmbeddings}: weights row-major, (out, in) as in the golden file and
 * PyTorch; `hidden` = `b1.length`, C = `W1.length / hidden`, D = `W2.length / hidden`.
 */
export type ProjectOptions = Pick<ProjectionWeights, 'W1' | 'b1' | 'W2' | 'residual'>;

const STAGE = 'projectEmbeddings';

/** One layer (or an affine fused with the relu after it) on tfjs: y -> next y, given the projection's input. */
type LayerStep = (y: tf.Tensor2D, input: tf.Tensor2D) => tf.Tensor2D;

/**
 * The tfjs steps of a projection layer list and the weight tensors they hold. An affine layer
 * followed by a relu becomes one fused matMul + bias + relu; weights are transposed once here:
 * tfjs-wasm 4.22's fused matMul gives wrong results with transposeB, and non-transposed operands
 * take XNNPACK's fast path (10x faster at 80k pixels).
 */
function layerSteps(
  layers: readonly ProjectionLayer[],
  weights: ProjectOptions,
): { readonly steps: LayerStep[]; readonly tensors: tf.Tensor[] } {
  const steps: LayerStep[] = [];
  const tensors: tf.Tensor[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (layer.kind === 'relu') {
      steps.push((y) => tf.relu(y));
    } else if (layer.kind === 'residual') {
      steps.push((y, input) => tf.add(input, y) as tf.Tensor2D);
    } else {
      const { outputs, inputs } = layer;
      const wt = tf.tidy(() =>
        tf.transpose(tf.tensor2d(weights[layer.weight], [outputs, inputs], 'float32')),
      );
      const bias = layer.bias === undefined ? undefined : tf.tensor1d(weights[layer.bias], 'float32');
      tensors.push(wt, ...(bias === undefined ? [] : [bias]));
      const relu = layers[i + 1]?.kind === 'relu';
      if (relu) i++;
      steps.push(
        relu || bias !== undefined
          ? (y) =>
              tf.fused.matMul({
                a: y,
                b: wt,
                ...(bias === undefined ? {} : { bias }),
                ...(relu ? { activation: 'relu' as const } : {}),
              }) as tf.Tensor2D
          : (y) => tf.matMul(y, wt),
      );
    }
  }
  return { steps, tensors };
}

/**
 * Maps each pixel to its embedding (docs/maths.md §3.4): z = W2 · relu(W1 x + b1), W1 `[hidden, C]`
 * with bias, W2 `[D, hidden]` without, walking `projectionLayers` (one fused matMul + bias + relu,
 * then a matMul, on weights transposed once per subscription). The emitted frame has D channels, described as band indices 0..D-1.
 * With `residual: true` (issue 5) it is z = x + W2 · relu(W1 x + b1), which needs D = C.
 *
 * @throws {@link ChannelCountError} (reason `bands`) when a frame does not have C channels
 * @throws {@link ModelParamsError} at build time when the weight lengths do not fit together, are not
 *   finite, or a residual projection has D ≠ C
 * @example
 * ```ts
 * import { perPixelUnitNorm, toTensorFrame, zscoreNormalize } from 'cubestream/operators';
 * frames$.pipe(toTensorFrame(), perPixelUnitNorm(), zscoreNormalize(params.zscore), projectEmbeddings(params.project))
 * // [pixels, C] -> [pixels, params.project.rep]
 * ```
 */
export function projectEmbeddings(options: ProjectOptions): OperatorFunction<TensorFrame, TensorFrame> {
  const shape = projectionShapeOf(options);
  const { inChannels, rep } = shape;
  for (const name of ['W1', 'b1', 'W2'] as const) {
    const bad = options[name].findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new ModelParamsError(`project.${name}[${bad}]`, `${options[name][bad]} is not finite`);
  }
  if (shape.residual && rep !== inChannels)
    throw new ModelParamsError(
      'project.rep',
      `a residual projection needs D = C = ${inChannels}, got ${rep}`,
    );
  const layers = projectionLayers(shape);
  const channels: ChannelInfo = {
    bands: rep,
    wavelengths: bandIndexWavelengths(rep),
    wavelengthUnits: 'index',
  };

  return tensorStage<TensorFrame, TensorFrame>(() => {
    const { steps, tensors } = layerSteps(layers, options);
    return {
      step(frame) {
        if (frame.bands !== inChannels) throw new ChannelCountError(STAGE, inChannels, frame.bands);
        const z = tf.tidy(() => steps.reduce((y, step) => step(y, frame.pixels), frame.pixels));
        return withPixels(frame, z, channels);
      },
      release() {
        for (const tensor of tensors) tensor.dispose();
      },
    };
  });
}
