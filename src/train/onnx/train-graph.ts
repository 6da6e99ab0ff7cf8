import { describeLayers, networkLayers } from '../../model/network.js';
import type { WhiteningParams } from '../../model/robust-whitening.js';
import { OnnxGraphBuilder, onnxTypeCode } from '../../scoring/onnx/onnx-graph-builder.js';
import type { DeepSvddParamName } from '../deep-svdd-variables.js';
import type { TrainLoss } from '../train-step.js';
import { backwardNodes, forwardNodes, gradOutput, layerParams, paramShapes } from './train-network-nodes.js';

/** What a training graph computes; each distinct spec is its own graph (and session). */
export interface TrainGraphSpec {
  /** Input channels C (of the z-score). */
  readonly channels: number;
  /** Hidden width H. */
  readonly hidden: number;
  /** Embedding dimension D. */
  readonly rep: number;
  /** Constant whitening after the z-score (baked into the graph); absent: none. */
  readonly whiten?: WhiteningParams;
  /** z = f + y' (needs D = the projection's input width). */
  readonly residual: boolean;
  readonly loss: TrainLoss;
  /** Parameters whose gradient the graph outputs (the trainable ones); may be empty. */
  readonly grads: readonly DeepSvddParamName[];
  /** EMA rate α of the centre. */
  readonly centerAlpha: number;
  /** ν of the soft-boundary loss. */
  readonly nu: number;
  /** β of softplus_β. */
  readonly beta: number;
  /** Also output z `[N, D]` and d `[N]` (tests; costs two batch-sized copies). */
  readonly intermediates: boolean;
}

/** A serialised training graph. */
export interface TrainGraph {
  readonly bytes: Uint8Array;
  /** E.g. `train 27->128->32 soft-boundary grads(zscore.mean,…)`. */
  readonly describe: string;
}

/** Names of the training graph's inputs and outputs; gradients are `grad.<param name>`. */
export const TRAIN_IO = {
  x: 'x',
  mean: 'zscore.mean',
  std: 'zscore.std',
  W1: 'project.W1',
  b1: 'project.b1',
  W2: 'project.W2',
  r: 'boundary.r',
  center: 'center',
  /** int64 `[1]`: how many scores the trimmed loss keeps (only for `trimmed-one-class`). */
  keep: 'keep',
  loss: 'loss',
  radiusSquared: 'radius_squared',
  centerOut: 'center_new',
  z: 'z',
  d: 'd',
} as const;

/**
 * Builds the forward and backward pass of one training batch as an ONNX graph (opset 17,
 * float32), derived by hand; the parameters are inputs, so one session serves every step. Both
 * passes walk `networkLayers(spec)` (`forwardNodes`, then `backwardNodes` from the last layer).
 *
 * Forward: y = (x - μ)/σ; y' = y·Mᵀ - M·m (whitening, constant) or y; a = y'·W1ᵀ + b1;
 * h = relu(a); z = h·W2ᵀ (+ y'); c1 = (1-α)c0 + α·mean(z) (no gradient); e = z - c1; d = Σ e².
 * Soft-boundary: R² = (softplus(βr)/β)², L = R² + mean(relu(d - R²))/ν, ∂L/∂d = [d > R²]/(Nν),
 * ∂L/∂r = (1 - mean[d > R²]/ν)·2R·sigmoid(βr). Trimmed one-class: t = max(TopK-smallest(d, keep)),
 * mask = [d <= t], L = Σ d·mask / Σ mask, ∂L/∂d = mask / Σ mask.
 *
 * Backward (Gemm with transA/transB, no transposes): G_z = 2·∂L/∂d·e; ∂W2 = G_zᵀh; G_h = G_z·W2;
 * G_a = G_h·[h > 0] (relu'(0) = 0); ∂W1 = G_aᵀy'; ∂b1 = Σ_n G_a. For the z-score,
 * G_y' = G_a·W1 (+ G_z), G_y = G_y'·M (or G_y'), ∂μ = -Σ_n G_y / σ, ∂σ = -Σ_n G_y·y / σ; without
 * whitening both sums come from the layer-1 gradients (Σ_n G_y = ∂b1·W1, Σ_n G_y·y =
 * Σ_h W1·∂W1, plus the residual's G_z terms), so no batch-sized pass is added.
 *
 * @example
 * ```ts
 * import { createOrtSession } from '../../scoring/onnx/ort-session.js';
 * const graph = buildTrainGraph({ channels: 27, hidden: 128, rep: 32, residual: false, loss: 'soft-boundary',
 *   grads: ['project.W1', 'project.b1', 'project.W2', 'boundary.r'], centerAlpha: 0.1, nu: 0.05, beta: 10, intermediates: false });
 * const session = await createOrtSession(graph.bytes, { threads: 2, describe: graph.describe });
 * ```
 */
export function buildTrainGraph(spec: TrainGraphSpec): TrainGraph {
  const { channels, hidden, rep, whiten, residual, grads } = spec;
  const layers = networkLayers({
    channels,
    ...(whiten === undefined ? {} : { components: whiten.components }),
    hidden,
    rep,
    residual,
  });
  const wants = (name: DeepSvddParamName): boolean => grads.includes(name);
  const g = new OnnxGraphBuilder('deep_svdd_train');
  const io = TRAIN_IO;
  g.input(io.x, 'float32', ['N', channels]);
  const floatType = onnxTypeCode('float32');

  // Forward (declares the parameter inputs, layer by layer).
  const forward = forwardNodes(g, layers, whiten, io.x, io.z);
  g.input(io.r, 'float32', []);
  g.input(io.center, 'float32', [rep]);
  const z = forward.z;
  const zMean = g.node('ReduceMean', [z], ['z_mean'], { axes: [0], keepdims: 0 });
  const alpha = spec.centerAlpha;
  const c1 = g.node(
    'Add',
    [
      g.node('Mul', [io.center, g.scalar('one_minus_alpha', 1 - alpha)], ['center_kept']),
      g.node('Mul', [zMean, g.scalar('alpha', alpha)], ['center_moved']),
    ],
    [io.centerOut],
  );
  const e = g.node('Sub', [z, c1], ['e']);
  const d = g.node('ReduceSumSquare', [e], ['d_col'], { axes: [1], keepdims: 1 }); // [N, 1]

  // R² (reported for both losses).
  const beta = g.scalar('beta', spec.beta);
  const betaR = g.node('Mul', [io.r, beta], ['beta_r']);
  const radius = g.node('Div', [g.node('Softplus', [betaR], ['softplus_beta_r']), beta], ['radius']);
  const r2 = g.node('Mul', [radius, radius], [io.radiusSquared]);

  // Loss and ∂L/∂d (times 2, the factor of ∂d/∂e), as [N, 1].
  let gd2: string;
  if (spec.loss === 'trimmed-one-class') {
    g.input(io.keep, 'int64', [1]);
    // The `keep` smallest scores; ties at the threshold are all kept, as in trimmedOneClassLoss.
    const smallest = g.node('TopK', [d, io.keep], ['kept_d', 'kept_index'], { axis: 0, largest: 0 });
    const threshold = g.node('ReduceMax', [smallest], ['trim_threshold'], { keepdims: 0 });
    const mask = g.node('Cast', [g.node('LessOrEqual', [d, threshold], ['kept_bool'])], ['kept_mask'], {
      to: floatType,
    });
    const count = g.node('ReduceSum', [mask], ['kept_count'], { keepdims: 0 });
    const total = g.node('ReduceSum', [g.node('Mul', [d, mask], ['kept_scores'])], ['kept_sum'], {
      keepdims: 0,
    });
    g.node('Div', [total, count], [io.loss]);
    gd2 = g.node('Mul', [mask, g.node('Div', [g.scalar('two', 2), count], ['gd_scale'])], ['gd2']);
  } else {
    const nuValue = spec.nu;
    const nu = g.scalar('nu', nuValue);
    const excess = g.node('Relu', [g.node('Sub', [d, r2], ['d_minus_r2'])], ['excess']);
    const meanExcess = g.node('ReduceMean', [excess], ['mean_excess'], { keepdims: 0 });
    g.node('Add', [r2, g.node('Div', [meanExcess, nu], ['scaled_excess'])], [io.loss]);
    const outside = g.node('Cast', [g.node('Greater', [d, r2], ['outside_bool'])], ['outside'], {
      to: floatType,
    });
    if (wants('boundary.r')) {
      // ∂L/∂R² = 1 - mean(outside)/ν; ∂R²/∂r = 2R·sigmoid(βr).
      const share = g.node('ReduceMean', [outside], ['outside_share'], { keepdims: 0 });
      const dR2 = g.node('Sub', [g.scalar('one', 1), g.node('Div', [share, nu], ['share_nu'])], ['d_r2']);
      const dRadius = g.node(
        'Mul',
        [g.node('Add', [radius, radius], ['two_r']), g.node('Sigmoid', [betaR], ['sig_beta_r'])],
        ['dr2_dr'],
      );
      g.node('Mul', [dR2, dRadius], [gradOutput('boundary.r')]);
    }
    // 2 / (N ν), N from the batch's shape.
    const n = g.node('Cast', [g.node('Shape', [io.x], ['x_rows'], { start: 0, end: 1 })], ['n_rows'], {
      to: floatType,
    });
    const scale = g.node('Div', [g.scalar('two_over_nu', 2 / nuValue), n], ['gd_scale']);
    gd2 = g.node('Mul', [outside, scale], ['gd2']);
  }

  // Backward.
  if (layers.some((layer) => layerParams(layer).some(wants))) {
    const gz = g.node('Mul', [e, gd2], ['g_z']); // [N, D]
    backwardNodes(g, layers, forward, gz, wants);
  }

  g.output(io.loss, 'float32', []);
  g.output(io.radiusSquared, 'float32', []);
  g.output(io.centerOut, 'float32', [rep]);
  const shapes = paramShapes(layers);
  const outputs = grads.filter((name) => name !== 'boundary.r' || spec.loss === 'soft-boundary');
  for (const name of outputs) g.output(gradOutput(name), 'float32', shapes[name] ?? []);
  if (spec.intermediates) {
    g.output(io.z, 'float32', ['N', rep]);
    g.node('Reshape', [d, g.ints('d_shape', [-1])], [io.d]);
    g.output(io.d, 'float32', ['N']);
  }
  return {
    bytes: g.toBytes(),
    describe: `train ${describeLayers(layers)} ${spec.loss} grads(${outputs.join(',')})`,
  };
}
