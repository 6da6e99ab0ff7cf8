import type { DeepSvddParams } from '../../model/deep-svdd-params.js';
import { projectionShape } from '../../model/deep-svdd-params.js';
import { ModelParamsError } from '../../model/model-errors.js';
import { type OnnxElementType, OnnxGraphBuilder, onnxTypeCode } from './onnx-graph-builder.js';

/** Element type of the graph input `x`: float32 spectra, or raw uint16 counts cast in the graph. */
export type GraphInputType = Extract<OnnxElementType, 'float32' | 'uint16'>;

/**
 * How the band-pass and the unit norm's mean subtraction are expressed:
 * - `ops` (default): Slice (contiguous bands) or Gather, on the uint16 input before its Cast,
 *   then ReduceMean and Sub;
 * - `matmul`: one MatMul by a `[C_in, C]` matrix that keeps the bands and subtracts their mean
 *   at once (without unit norm, both styles are a Slice/Gather).
 */
export type SelectionStyle = 'ops' | 'matmul';

/** Options of {@link buildDeepSvddGraph}. */
export interface DeepSvddGraphOptions {
  /** Channels of the frames fed to the graph (before the band-pass). */
  readonly inChannels: number;
  /** Indices (into those channels, ascending) of the bands the band-pass keeps: `selectBands(…)`. */
  readonly kept: Int32Array;
  /** Element type of `x` (default float32). */
  readonly inputType?: GraphInputType;
  /** Floor of the unit norm's L2 norm (default 1e-8, as `perPixelUnitNorm`). */
  readonly unitNormEps?: number;
  /** Default `ops`. */
  readonly selection?: SelectionStyle;
  /**
   * The band-pass and unit norm are done before the graph (the WASM `BandPrepKernel`): `x` is
   * float32 `[N, kept.length]`, already band-selected and, when `params.unitNorm`, unit-normed
   * (`inChannels` must then equal `kept.length`). Default false.
   */
  readonly prepared?: boolean;
}

/** A serialised Deep SVDD graph and what it expects. */
export interface DeepSvddGraph {
  /** The `ModelProto` bytes for `InferenceSession.create`. */
  readonly bytes: Uint8Array;
  /** Channels of `x`. */
  readonly inChannels: number;
  /** Embedding dimension D (length of `center` and `zsum_normal`). */
  readonly rep: number;
  /** Element type of `x`. */
  readonly inputType: GraphInputType;
  /** Short description for logs and errors, e.g. `deep-svdd 61->27->128->32 uint16`. */
  readonly describe: string;
}

/** Names of the graph's inputs and outputs. */
export const DEEP_SVDD_IO = {
  x: 'x',
  center: 'center',
  tau: 'tau',
  scores: 'scores',
  zsumNormal: 'zsum_normal',
  nNormal: 'n_normal',
} as const;

/**
 * The first layer with the z-score folded in, in float64: W1' = W1 / σ (per column),
 * b1' = b1 - W1'·μ. `W1` is `[hidden, C]` row-major; returns float32 arrays of the same shapes.
 *
 * @example
 * ```ts
 * foldZscore(Float32Array.of(2), Float32Array.of(1), { mean: Float32Array.of(3), std: Float32Array.of(4) })
 * // { W1: [0.5], b1: [-0.5] }: 2·(x-3)/4 + 1 = 0.5x - 0.5
 * ```
 */
export function foldZscore(
  W1: Float32Array,
  b1: Float32Array,
  zscore: { readonly mean: Float32Array; readonly std: Float32Array },
): { readonly W1: Float32Array; readonly b1: Float32Array } {
  const hidden = b1.length;
  const channels = zscore.mean.length;
  if (W1.length !== hidden * channels) {
    throw new ModelParamsError('project.W1', `has ${W1.length} values, expected ${hidden}x${channels}`);
  }
  const w = new Float32Array(W1.length);
  const b = new Float32Array(hidden);
  for (let h = 0; h < hidden; h++) {
    let shift = 0;
    for (let c = 0; c < channels; c++) {
      const folded = W1[h * channels + c]! / zscore.std[c]!;
      w[h * channels + c] = folded;
      shift += folded * zscore.mean[c]!;
    }
    b[h] = b1[h]! - shift;
  }
  return { W1: w, b1: b };
}

/** `[inChannels, kept.length]` matrix that picks the kept bands and, with `center`, subtracts their mean. */
function selectionMatrix(inChannels: number, kept: Int32Array, center: boolean): Float32Array {
  const c = kept.length;
  const m = new Float32Array(inChannels * c);
  for (let j = 0; j < c; j++) {
    const row = kept[j]!;
    for (let k = 0; k < c; k++) m[row * c + k] = (j === k ? 1 : 0) - (center ? 1 / c : 0);
  }
  return m;
}

function isContiguous(kept: Int32Array): boolean {
  return kept.length > 0 && kept[kept.length - 1] === kept[0]! + kept.length - 1;
}

/** Slice (contiguous bands), Gather (scattered) or nothing (all kept) on the channel axis. */
function selectBandsNode(g: OnnxGraphBuilder, x: string, inChannels: number, kept: Int32Array): string {
  if (kept.length === inChannels) return x;
  if (isContiguous(kept)) {
    const begin = kept[0]!;
    return g.node(
      'Slice',
      [
        x,
        g.ints('slice_starts', [begin]),
        g.ints('slice_ends', [begin + kept.length]),
        g.ints('slice_axes', [1]),
      ],
      ['bands'],
    );
  }
  return g.node('Gather', [x, g.ints('kept', Array.from(kept))], ['bands'], { axis: 1 });
}

/**
 * Builds the fused per-pixel Deep SVDD graph (opset 17, float32), with every constant stage
 * folded at build time in float64:
 *
 * `x [N, C_in]` -> band-pass (Slice/Gather; uint16 -> Cast after it) -> unit norm (ReduceSumSquare, Sqrt, Max(eps), Div; when `params.unitNorm`)
 * -> Gemm(W1/σ, b1 - W1·μ/σ) -> Relu -> Gemm(W2, -c) = z - c -> `scores` = ReduceSumSquare.
 *
 * The centre is a graph **input** (`center [D]`), so online tracking changes it per frame
 * without a rebuild, and the gated EMA needs no second pass: `zsum_normal [D]` is the sum of z
 * over the pixels with score < `tau [1]` and `n_normal [1]` their count (`tau` = +Infinity
 * counts every pixel).
 *
 * With the stages of issue 5, the z-score folds into the whitening instead: `Gemm(M/σ, -M·(μ + σ·m)/σ)`
 * = y `[N, k]` -> Gemm(W1, b1) -> Relu -> Gemm(W2, -c) (+ y for a residual projection) = z - c.
 *
 * @throws {@link ModelParamsError} when the kept band count differs from the z-score's, or a weight does not fit
 * @example
 * ```ts
 * const kept = selectBands(frame.wavelengths, params.bandpass);
 * const graph = buildDeepSvddGraph(params, { inChannels: 61, kept, inputType: 'uint16' });
 * const session = await createOrtSession(graph.bytes);
 * ```
 */
export function buildDeepSvddGraph(params: DeepSvddParams, options: DeepSvddGraphOptions): DeepSvddGraph {
  const { inChannels, kept } = options;
  const inputType = options.inputType ?? 'float32';
  const eps = options.unitNormEps ?? 1e-8;
  const selection = options.selection ?? 'ops';
  const { hidden, rep, inChannels: projectIn } = projectionShape(params.project);
  const { whiten } = params;
  const channels = whiten === undefined ? projectIn : params.zscore.mean.length;
  if (kept.length !== channels || params.zscore.mean.length !== channels) {
    throw new ModelParamsError(
      'zscore.mean',
      `the band-pass keeps ${kept.length} bands, the z-score has ${params.zscore.mean.length}, W1 ${channels}`,
    );
  }
  if (whiten !== undefined && (whiten.components !== projectIn || whiten.mean.length !== channels)) {
    throw new ModelParamsError(
      'whiten',
      `${whiten.components} components of ${whiten.mean.length} channels do not fit W1 (${projectIn}) and the z-score (${channels})`,
    );
  }
  const residual = params.project.residual === true;
  if (residual && rep !== projectIn) {
    throw new ModelParamsError('project.rep', `a residual projection needs D = ${projectIn}, got ${rep}`);
  }
  if (params.center.length !== rep) {
    throw new ModelParamsError('center', `has ${params.center.length} values, expected ${rep}`);
  }
  // Without whitening the z-score folds into W1; with it, into the whitening matrix:
  // M·((x - μ)/σ - m) = (M/σ)·x - (M/σ)·(μ + σ·m).
  const first =
    whiten === undefined
      ? undefined
      : foldZscore(whiten.matrix, new Float32Array(whiten.components), {
          mean: Float32Array.from(
            params.zscore.mean,
            (mu, c) => mu + params.zscore.std[c]! * whiten.mean[c]!,
          ),
          std: params.zscore.std,
        });
  const { W1, b1 } =
    whiten === undefined
      ? foldZscore(params.project.W1, params.project.b1, params.zscore)
      : { W1: params.project.W1, b1: params.project.b1 };
  const head = options.prepared === true ? `prepared ${channels}` : `${inChannels}->${channels}`;
  const describe = `deep-svdd ${head}->${whiten === undefined ? '' : `${projectIn}->`}${hidden}->${rep}${residual ? ' residual' : ''} ${inputType}`;

  const g = new OnnxGraphBuilder('deep_svdd');
  g.input(DEEP_SVDD_IO.x, inputType, ['N', inChannels]);
  g.input(DEEP_SVDD_IO.center, 'float32', [rep]);
  g.input(DEEP_SVDD_IO.tau, 'float32', [1]);
  const cast = (v: string): string =>
    inputType === 'float32' ? v : g.node('Cast', [v], [`${v}_f32`], { to: onnxTypeCode('float32') });

  let y: string;
  if (options.prepared === true) {
    if (inputType !== 'float32' || inChannels !== channels) {
      throw new ModelParamsError(
        'prepared',
        `a prepared input is float32 [N, ${channels}], got ${inputType} [N, ${inChannels}]`,
      );
    }
    y = DEEP_SVDD_IO.x;
  } else if (params.unitNorm) {
    let centered: string;
    if (selection === 'matmul') {
      const m = g.initializer('select_center', selectionMatrix(inChannels, kept, true), [
        inChannels,
        channels,
      ]);
      centered = g.node('MatMul', [cast('x'), m], ['centered']);
    } else {
      // Slice/Gather before the Cast: fewer values to convert.
      const bands = cast(selectBandsNode(g, 'x', inChannels, kept));
      const mean = g.node('ReduceMean', [bands], ['pixel_mean'], { axes: [1], keepdims: 1 });
      centered = g.node('Sub', [bands, mean], ['centered']);
    }
    const sq = g.node('ReduceSumSquare', [centered], ['norm_sq'], { axes: [1], keepdims: 1 });
    const norm = g.node('Sqrt', [sq], ['norm']);
    const floor = g.node('Max', [norm, g.scalar('eps', eps)], ['norm_floor']);
    y = g.node('Div', [centered, floor], ['unit']);
  } else {
    y = cast(selectBandsNode(g, 'x', inChannels, kept));
  }

  if (first !== undefined) {
    const m = g.initializer('whiten_folded', first.W1, [projectIn, channels]);
    const bias = g.initializer('whiten_bias', first.b1, [projectIn]);
    y = g.node('Gemm', [y, m, bias], ['whitened'], { transB: 1 });
  }
  const w1 = g.initializer('W1_folded', W1, [hidden, projectIn]);
  const bias1 = g.initializer('b1_folded', b1, [hidden]);
  const h = g.node('Gemm', [y, w1, bias1], ['h_pre'], { transB: 1 });
  const r = g.node('Relu', [h], ['h']);
  const negCenter = g.node('Neg', [DEEP_SVDD_IO.center], ['neg_center']);
  const w2 = g.initializer('W2', Float32Array.from(params.project.W2), [rep, hidden]);
  const projected = g.node('Gemm', [r, w2, negCenter], [residual ? 'f_minus_c' : 'z_minus_c'], {
    transB: 1,
  });
  const diff = residual ? g.node('Add', [projected, y], ['z_minus_c']) : projected;
  const scores = g.node('ReduceSumSquare', [diff], [DEEP_SVDD_IO.scores], { axes: [1], keepdims: 0 });

  const below = g.node('Less', [scores, DEEP_SVDD_IO.tau], ['below_tau']);
  const mask = g.node('Cast', [below], ['normal_mask'], { to: onnxTypeCode('float32') });
  const sumDiff = g.node('MatMul', [mask, diff], ['sum_diff']);
  const count = g.node('ReduceSum', [mask], [DEEP_SVDD_IO.nNormal], { keepdims: 1 });
  const shift = g.node('Mul', [count, DEEP_SVDD_IO.center], ['count_center']);
  g.node('Add', [sumDiff, shift], [DEEP_SVDD_IO.zsumNormal]);

  g.output(DEEP_SVDD_IO.scores, 'float32', ['N']);
  g.output(DEEP_SVDD_IO.zsumNormal, 'float32', [rep]);
  g.output(DEEP_SVDD_IO.nNormal, 'float32', [1]);
  return { bytes: g.toBytes(), inChannels, rep, inputType, describe };
}
