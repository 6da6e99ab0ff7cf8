import { ModelParamsError } from '../../model/model-errors.js';
import {
  type NetworkLayer,
  type ProjectionParamName,
  projectionParamName,
  projectionStart,
} from '../../model/network.js';
import { whiteningBias } from '../../model/network-folds.js';
import type { WhiteningParams } from '../../model/robust-whitening.js';
import { type OnnxGraphBuilder, onnxTypeCode } from '../../scoring/onnx/onnx-graph-builder.js';
import type { DeepSvddParamName } from '../deep-svdd-variables.js';

/** Output name of the gradient of `param`. */
export function gradOutput(param: DeepSvddParamName): string {
  return `grad.${param}`;
}

/** The trained parameters a layer reads (graph inputs named by parameter, e.g. `project.W1`). */
export function layerParams(layer: NetworkLayer): readonly DeepSvddParamName[] {
  if (layer.kind === 'zscore') return ['zscore.mean', 'zscore.std'];
  if (layer.kind !== 'affine') return [];
  const weight = projectionParamName(layer.weight);
  return layer.bias === undefined ? [weight] : [weight, projectionParamName(layer.bias)];
}

/** The shape of each trained parameter of a layer list (`[]` for none). */
export function paramShapes(
  layers: readonly NetworkLayer[],
): Partial<Record<DeepSvddParamName, readonly number[]>> {
  const shapes: Partial<Record<DeepSvddParamName, readonly number[]>> = {};
  for (const layer of layers) {
    if (layer.kind === 'zscore') {
      shapes['zscore.mean'] = [layer.channels];
      shapes['zscore.std'] = [layer.channels];
    } else if (layer.kind === 'affine') {
      shapes[projectionParamName(layer.weight)] = [layer.outputs, layer.inputs];
      if (layer.bias !== undefined) shapes[projectionParamName(layer.bias)] = [layer.outputs];
    }
  }
  return shapes;
}

/** The values the forward walk leaves for the backward one. */
export interface ForwardValues {
  /** `inputs[i]`: the value layer i reads. */
  readonly inputs: readonly string[];
  /** `outputs[i]`: the value layer i gives (a residual add fused into the affine before it: that affine's). */
  readonly outputs: readonly string[];
  /** The embeddings z `[N, D]` (the last output). */
  readonly z: string;
}

const WHITEN_MATRIX = 'whiten_matrix';

/**
 * The forward pass of a layer list from `x` `[N, C]`, its parameters graph inputs named by
 * parameter (declared here, in layer order): zscore -> Sub, Div; whiten -> Gemm(M, -M·m)
 * (constant); affine -> Gemm(W, b); relu -> Relu; residual -> Add, or the C input of the Gemm
 * before it when that affine has no bias. The last value is named `zName`.
 */
export function forwardNodes(
  g: OnnxGraphBuilder,
  layers: readonly NetworkLayer[],
  whiten: WhiteningParams | undefined,
  x: string,
  zName: string,
): ForwardValues {
  const start = projectionStart(layers);
  const fusedResidual = (i: number): boolean => {
    const layer = layers[i];
    return layer?.kind === 'affine' && layer.bias === undefined && layers[i + 1]?.kind === 'residual';
  };
  const last = fusedResidual(layers.length - 2) ? layers.length - 2 : layers.length - 1;
  const inputs: string[] = [];
  const outputs: string[] = [];
  let projectionInput = x;
  let y = x;
  layers.forEach((layer, i) => {
    inputs.push(y);
    if (i === start) projectionInput = y;
    const name = (fallback: string): string => (i === last ? zName : fallback);
    switch (layer.kind) {
      case 'zscore': {
        const mean = g.input('zscore.mean', 'float32', [layer.channels]);
        const std = g.input('zscore.std', 'float32', [layer.channels]);
        y = g.node('Div', [g.node('Sub', [y, mean], ['x_centered']), std], [name('y')]);
        break;
      }
      case 'whiten': {
        if (whiten === undefined) throw new ModelParamsError('whiten', 'is absent, the layer list has one');
        const m = g.initializer(WHITEN_MATRIX, Float32Array.from(whiten.matrix), [
          layer.components,
          layer.channels,
        ]);
        const bias = g.initializer('whiten_bias', whiteningBias(whiten), [layer.components]);
        y = g.node('Gemm', [y, m, bias], [name('y_whitened')], { transB: 1 });
        break;
      }
      case 'affine': {
        const weight = g.input(projectionParamName(layer.weight), 'float32', [layer.outputs, layer.inputs]);
        const third =
          layer.bias !== undefined
            ? [g.input(projectionParamName(layer.bias), 'float32', [layer.outputs])]
            : fusedResidual(i)
              ? [projectionInput]
              : [];
        y = g.node('Gemm', [y, weight, ...third], [name(`layer${i}_affine`)], { transB: 1 });
        break;
      }
      case 'relu':
        y = g.node('Relu', [y], [name(`layer${i}_relu`)]);
        break;
      case 'residual':
        if (!fusedResidual(i - 1)) y = g.node('Add', [y, projectionInput], [name(`layer${i}_residual`)]);
        break;
    }
    outputs.push(y);
  });
  return { inputs, outputs, z: y };
}

/**
 * The gradient G of a value v `[N, width]`, materialised only as far as a rule asks: the z-score's
 * gradients need just Σ_n G and Σ_n G ⊙ v, which the first affine layer gives from its own
 * gradients without a batch-sized pass.
 */
interface ValueGrad {
  /** Σ_n G, `[width]`. */
  readonly colSum: () => string;
  /** Σ_n G ⊙ v, `[width]`. */
  readonly dot: () => string;
  /** G, `[N, width]`. */
  readonly batch: () => string;
}

function once(make: () => string): () => string {
  let value: string | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/**
 * The backward pass of a layer list, derived by hand, walking it from the last layer to the
 * first, from G_z = `gz` (`[N, D]`, ∂L/∂z). Each trainable parameter's gradient is the output
 * `gradOutput(name)`; the first affine layer's are always computed (the z-score's gradients
 * come from them).
 *
 * - residual: the projection's input gets G_z as well;
 * - affine (y·Wᵀ + b): ∂W = Gᵀ·y, ∂b = Σ_n G, G_y = G·W (Gemm with transA, no transposes);
 * - relu: G_a = G_h·[h > 0] (relu'(0) = 0, as tfjs; Cast(Greater) measured faster than Sign or Where);
 * - the first affine's input gradient G_y' = G_a·W1 (+ G_z) is lazy: Σ_n G_y' = ∂b1·W1 (+ Σ_n G_z),
 *   Σ_n G_y' ⊙ y' = Σ_h W1 ⊙ ∂W1 (+ Σ_n G_z ⊙ y');
 * - whiten (y' = y·Mᵀ - M·m): Σ_n G_y = (Σ_n G_y')·M, Σ_n G_y ⊙ y = Σ_k M ⊙ (G_y'ᵀ·y);
 * - zscore (y = (x - μ)/σ): ∂μ = -Σ_n G_y / σ, ∂σ = -Σ_n G_y ⊙ y / σ.
 */
export function backwardNodes(
  g: OnnxGraphBuilder,
  layers: readonly NetworkLayer[],
  forward: ForwardValues,
  gz: string,
  wants: (name: DeepSvddParamName) => boolean,
): void {
  const start = projectionStart(layers);
  const floatType = onnxTypeCode('float32');
  const axis0 = g.ints('axis0', [0]);
  const sum0 = (value: string, name: string): string =>
    g.node('ReduceSum', [value, axis0], [name], { keepdims: 0 });
  let grad = gz;
  let skip: string | undefined; // G_z, which a residual layer sends to the projection's input
  let inputGrad: ValueGrad | undefined;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const input = forward.inputs[i]!;
    switch (layer.kind) {
      case 'residual':
        skip = grad;
        break;
      case 'relu': {
        const active = g.node('Greater', [forward.outputs[i]!, g.scalar(`zero${i}`, 0)], [`active${i}`]);
        const mask = g.node('Cast', [active], [`relu_grad${i}`], { to: floatType });
        grad = g.node('Mul', [grad, mask], [`g_relu${i}`]);
        break;
      }
      case 'affine': {
        const weight = projectionParamName(layer.weight);
        const bias = layer.bias === undefined ? undefined : projectionParamName(layer.bias);
        if (i !== start) {
          if (wants(weight)) g.node('Gemm', [grad, input], [gradOutput(weight)], { transA: 1 });
          if (bias !== undefined && wants(bias)) sum0(grad, gradOutput(bias));
          grad = g.node('MatMul', [grad, weight], [`g_in${i}`]);
        } else {
          inputGrad = firstAffineGrad(g, { i, input, ga: grad, weight, bias, skip, sum0 });
        }
        break;
      }
      case 'whiten': {
        if (inputGrad === undefined) throw new Error('unreachable: whiten before the projection');
        inputGrad = whitenGrad(g, i, input, inputGrad, sum0);
        break;
      }
      case 'zscore': {
        const std: DeepSvddParamName = 'zscore.std';
        if (inputGrad === undefined) throw new Error('unreachable: z-score before the projection');
        if (wants('zscore.mean')) {
          const col = g.node('Div', [inputGrad.colSum(), std], [`gy_col_std${i}`]);
          g.node('Neg', [col], [gradOutput('zscore.mean')]);
        }
        if (wants('zscore.std')) {
          g.node(
            'Neg',
            [g.node('Div', [inputGrad.dot(), std], [`gy_y_std${i}`])],
            [gradOutput('zscore.std')],
          );
        }
        break;
      }
    }
  }
}

/** Gradients of the first affine layer (always computed) and the lazy gradient of its input. */
function firstAffineGrad(
  g: OnnxGraphBuilder,
  at: {
    readonly i: number;
    readonly input: string;
    readonly ga: string;
    readonly weight: ProjectionParamName;
    readonly bias: ProjectionParamName | undefined;
    readonly skip: string | undefined;
    readonly sum0: (value: string, name: string) => string;
  },
): ValueGrad {
  const { i, input, ga, weight, bias, skip, sum0 } = at;
  const gW = g.node('Gemm', [ga, input], [gradOutput(weight)], { transA: 1 });
  const gb = sum0(ga, bias === undefined ? `g_bias${i}` : gradOutput(bias));
  return {
    colSum: once(() => {
      const layer = g.node('MatMul', [gb, weight], [`gy_col_layer${i}`]);
      return skip === undefined ? layer : g.node('Add', [layer, sum0(skip, `gz_col${i}`)], [`gy_col${i}`]);
    }),
    dot: once(() => {
      const layer = sum0(g.node('Mul', [weight, gW], [`w_gw${i}`]), `gy_y_layer${i}`);
      if (skip === undefined) return layer;
      const gzy = sum0(g.node('Mul', [skip, input], [`gz_y${i}`]), `gz_y_col${i}`);
      return g.node('Add', [layer, gzy], [`gy_y${i}`]);
    }),
    batch: once(() => g.node('Gemm', skip === undefined ? [ga, weight] : [ga, weight, skip], [`g_y${i}`])),
  };
}

/** The lazy gradient of the whitening's input, from that of its output. */
function whitenGrad(
  g: OnnxGraphBuilder,
  i: number,
  input: string,
  out: ValueGrad,
  sum0: (value: string, name: string) => string,
): ValueGrad {
  return {
    colSum: once(() => g.node('MatMul', [out.colSum(), WHITEN_MATRIX], [`gy_col_white${i}`])),
    dot: once(() => {
      const s = g.node('Gemm', [out.batch(), input], [`gyw_y${i}`], { transA: 1 }); // [K, C]
      return sum0(g.node('Mul', [WHITEN_MATRIX, s], [`m_gyw_y${i}`]), `gy_y_white${i}`);
    }),
    batch: once(() => g.node('MatMul', [out.batch(), WHITEN_MATRIX], [`g_white${i}`])),
  };
}
