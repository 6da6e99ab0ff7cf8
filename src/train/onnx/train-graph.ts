import type { WhiteningParams } from '../../model/robust-whitening.js';
import { OnnxGraphBuilder, onnxTypeCode } from '../../scoring/onnx/onnx-graph-builder.js';
import type { DeepSvddParamName } from '../deep-svdd-variables.js';
import type { TrainLoss } from '../train-step.js';

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

/** Output name of the gradient of `param`. */
export function gradOutput(param: DeepSvddParamName): string {
  return `grad.${param}`;
}

/** The whitening as one affine map of y: (y - m)·Mᵀ = y·Mᵀ - M·m, the bias in float64. */
function whiteningBias(whiten: WhiteningParams, channels: number): Float32Array {
  const bias = new Float32Array(whiten.components);
  for (let k = 0; k < whiten.components; k++) {
    let dot = 0;
    for (let c = 0; c < channels; c++) dot += whiten.matrix[k * channels + c]! * whiten.mean[c]!;
    bias[k] = -dot;
  }
  return bias;
}

/**
 * Builds the forward and backward pass of one training batch as an ONNX graph (opset 17,
 * float32), derived by hand; the parameters are inputs, so one session serves every step.
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
 * const graph = buildTrainGraph({ channels: 27, hidden: 128, rep: 32, residual: false, loss: 'soft-boundary',
 *   grads: ['project.W1', 'project.b1', 'project.W2', 'boundary.r'], centerAlpha: 0.1, nu: 0.05, beta: 10, intermediates: false });
 * const session = await createOrtSession(graph.bytes, { threads: 2, describe: graph.describe });
 * ```
 */
export function buildTrainGraph(spec: TrainGraphSpec): TrainGraph {
  const { channels, hidden, rep, whiten, residual, grads } = spec;
  const projectIn = whiten?.components ?? channels;
  const wants = (name: DeepSvddParamName): boolean => grads.includes(name);
  const g = new OnnxGraphBuilder('deep_svdd_train');
  const io = TRAIN_IO;
  g.input(io.x, 'float32', ['N', channels]);
  g.input(io.mean, 'float32', [channels]);
  g.input(io.std, 'float32', [channels]);
  g.input(io.W1, 'float32', [hidden, projectIn]);
  g.input(io.b1, 'float32', [hidden]);
  g.input(io.W2, 'float32', [rep, hidden]);
  g.input(io.r, 'float32', []);
  g.input(io.center, 'float32', [rep]);
  const floatType = onnxTypeCode('float32');

  // Forward.
  const y = g.node('Div', [g.node('Sub', [io.x, io.mean], ['x_centered']), io.std], ['y']);
  let yw = y;
  if (whiten !== undefined) {
    const m = g.initializer('whiten_matrix', Float32Array.from(whiten.matrix), [projectIn, channels]);
    const bias = g.initializer('whiten_bias', whiteningBias(whiten, channels), [projectIn]);
    yw = g.node('Gemm', [y, m, bias], ['y_whitened'], { transB: 1 });
  }
  const a = g.node('Gemm', [yw, io.W1, io.b1], ['a'], { transB: 1 });
  const h = g.node('Relu', [a], ['h']);
  const z = g.node('Gemm', residual ? [h, io.W2, yw] : [h, io.W2], [io.z], { transB: 1 });
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
  const needZscore = wants('zscore.mean') || wants('zscore.std');
  const needProject = wants('project.W1') || wants('project.b1') || wants('project.W2');
  if (needZscore || needProject) {
    const axis0 = g.ints('axis0', [0]);
    const gz = g.node('Mul', [e, gd2], ['g_z']); // [N, D]
    if (wants('project.W2')) g.node('Gemm', [gz, h], [gradOutput('project.W2')], { transA: 1 });
    const gh = g.node('MatMul', [gz, io.W2], ['g_h']);
    // relu'(a) = [a > 0] = [h > 0] (relu'(0) = 0, as tfjs); Cast(Greater) measured faster than Sign or Where.
    const active = g.node('Greater', [h, g.scalar('zero', 0)], ['h_active']);
    const ga = g.node('Mul', [gh, g.node('Cast', [active], ['relu_grad'], { to: floatType })], ['g_a']);
    const gW1 = g.node('Gemm', [ga, yw], [gradOutput('project.W1')], { transA: 1 });
    const gb1 = g.node('ReduceSum', [ga, axis0], [gradOutput('project.b1')], { keepdims: 0 });
    if (needZscore) {
      // Σ_n G_y' = ∂b1·W1 (+ Σ_n G_z).
      let colSum = g.node('MatMul', [gb1, io.W1], ['gy_col_layer']);
      if (residual) {
        const gzCol = g.node('ReduceSum', [gz, axis0], ['gz_col'], { keepdims: 0 });
        colSum = g.node('Add', [colSum, gzCol], ['gy_col']);
      }
      let diag: string; // Σ_n G_y·y, per channel
      if (whiten === undefined) {
        diag = g.node('ReduceSum', [g.node('Mul', [io.W1, gW1], ['w1_gw1']), axis0], ['gy_y_layer'], {
          keepdims: 0,
        });
        if (residual) {
          const gzy = g.node('Mul', [gz, y], ['gz_y']);
          diag = g.node(
            'Add',
            [diag, g.node('ReduceSum', [gzy, axis0], ['gz_y_col'], { keepdims: 0 })],
            ['gy_y'],
          );
        }
      } else {
        const m = 'whiten_matrix';
        colSum = g.node('MatMul', [colSum, m], ['gy_col_white']);
        const gyw = g.node('Gemm', residual ? [ga, io.W1, gz] : [ga, io.W1], ['g_yw']); // [N, K]
        const s = g.node('Gemm', [gyw, y], ['gyw_y'], { transA: 1 }); // [K, C]
        diag = g.node('ReduceSum', [g.node('Mul', [m, s], ['m_gyw_y']), axis0], ['gy_y'], { keepdims: 0 });
      }
      if (wants('zscore.mean')) {
        g.node('Neg', [g.node('Div', [colSum, io.std], ['gy_col_std'])], [gradOutput('zscore.mean')]);
      }
      if (wants('zscore.std')) {
        g.node('Neg', [g.node('Div', [diag, io.std], ['gy_y_std'])], [gradOutput('zscore.std')]);
      }
    }
  }

  g.output(io.loss, 'float32', []);
  g.output(io.radiusSquared, 'float32', []);
  g.output(io.centerOut, 'float32', [rep]);
  const shapes: Record<DeepSvddParamName, readonly number[]> = {
    'zscore.mean': [channels],
    'zscore.std': [channels],
    'project.W1': [hidden, projectIn],
    'project.b1': [hidden],
    'project.W2': [rep, hidden],
    'boundary.r': [],
  };
  const outputs = grads.filter((name) => name !== 'boundary.r' || spec.loss === 'soft-boundary');
  for (const name of outputs) g.output(gradOutput(name), 'float32', shapes[name]);
  if (spec.intermediates) {
    g.output(io.z, 'float32', ['N', rep]);
    g.node('Reshape', [d, g.ints('d_shape', [-1])], [io.d]);
    g.output(io.d, 'float32', ['N']);
  }
  const net = `${channels}->${whiten === undefined ? '' : `${projectIn}->`}${hidden}->${rep}${residual ? ' residual' : ''}`;
  return { bytes: g.toBytes(), describe: `train ${net} ${spec.loss} grads(${outputs.join(',')})` };
}
