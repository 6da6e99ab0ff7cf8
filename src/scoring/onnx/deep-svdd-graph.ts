import type { DeepSvddParams } from '../../model/deep-svdd-params.js';
import { projectionShape } from '../../model/deep-svdd-params.js';
import { ModelParamsError } from '../../model/model-errors.js';
import {
  describeLayers,
  type NetworkLayer,
  networkLayers,
  networkShapeOf,
  projectionStart,
} from '../../model/network.js';
import { foldZscore, foldZscoreIntoWhitening, whiteningBias } from '../../model/network-folds.js';
import type { ZscoreStats } from '../../model/running-stats.js';
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

export { foldZscore } from '../../model/network-folds.js';

/** Names of the graph's inputs and outputs. */
export const DEEP_SVDD_IO = {
  x: 'x',
  center: 'center',
  tau: 'tau',
  scores: 'scores',
  zsumNormal: 'zsum_normal',
  nNormal: 'n_normal',
} as const;

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
 * The nodes of the forward pass, walking {@link networkLayers} from `x` (the unit-normed bands):
 * the z-score folds into the next linear layer (the whitening, or the first affine unless a
 * residual adds the z-scored input back), the centre into the last affine's bias (-c) when only
 * residual adds follow it. Returns the name of z - c `[N, D]`.
 */
function networkNodes(
  g: OnnxGraphBuilder,
  params: DeepSvddParams,
  layers: readonly NetworkLayer[],
  x: string,
): string {
  const firstProjection = projectionStart(layers);
  const lastAffine = layers.reduce((last, layer, i) => (layer.kind === 'affine' ? i : last), -1);
  const foldCenter = layers.slice(lastAffine + 1).every((layer) => layer.kind === 'residual');
  const residual = layers.some((layer) => layer.kind === 'residual');
  let pending: ZscoreStats | undefined; // a z-score not applied yet: folded into the next linear layer
  let projectionInput: string | undefined; // what a residual layer adds back
  let y = x;
  layers.forEach((layer, i) => {
    if (i === firstProjection && pending === undefined) projectionInput = y;
    switch (layer.kind) {
      case 'zscore': {
        const next = layers[i + 1]?.kind;
        if (next === 'whiten' || (next === 'affine' && !residual)) {
          pending = params.zscore;
        } else {
          const mean = g.initializer('zscore_mean', params.zscore.mean, [layer.channels]);
          const std = g.initializer('zscore_std', params.zscore.std, [layer.channels]);
          y = g.node('Div', [g.node('Sub', [y, mean], ['zscore_centered']), std], ['zscored']);
        }
        break;
      }
      case 'whiten': {
        const { whiten } = params;
        if (whiten === undefined) throw new ModelParamsError('whiten', 'is absent, the layer list has one');
        const first =
          pending === undefined
            ? { W1: whiten.matrix, b1: whiteningBias(whiten) }
            : foldZscoreIntoWhitening(whiten, pending);
        pending = undefined;
        const m = g.initializer('whiten_folded', first.W1, [layer.components, layer.channels]);
        const bias = g.initializer('whiten_bias', first.b1, [layer.components]);
        y = g.node('Gemm', [y, m, bias], ['whitened'], { transB: 1 });
        break;
      }
      case 'affine': {
        const weight = params.project[layer.weight];
        const bias = layer.bias === undefined ? undefined : params.project[layer.bias];
        const folded =
          pending === undefined
            ? { W1: weight, b1: bias }
            : foldZscore(weight, bias ?? new Float32Array(layer.outputs), pending);
        const suffix = pending === undefined ? '' : '_folded';
        pending = undefined;
        const w = g.initializer(`${layer.weight}${suffix}`, folded.W1, [layer.outputs, layer.inputs]);
        const b =
          folded.b1 === undefined
            ? undefined
            : g.initializer(`${layer.bias ?? `${layer.weight}_bias`}${suffix}`, folded.b1, [layer.outputs]);
        let shift = b;
        if (i === lastAffine && foldCenter) {
          shift =
            b === undefined
              ? g.node('Neg', [DEEP_SVDD_IO.center], ['neg_center'])
              : g.node('Sub', [b, DEEP_SVDD_IO.center], ['bias_minus_center']);
        }
        y = g.node('Gemm', shift === undefined ? [y, w] : [y, w, shift], [`layer${i}_affine`], { transB: 1 });
        break;
      }
      case 'relu':
        y = g.node('Relu', [y], [`layer${i}_relu`]);
        break;
      case 'residual':
        if (projectionInput === undefined)
          throw new ModelParamsError('project.residual', 'has no input to add');
        y = g.node('Add', [y, projectionInput], [`layer${i}_residual`]);
        break;
    }
  });
  return foldCenter ? y : g.node('Sub', [y, DEEP_SVDD_IO.center], ['z_minus_c']);
}

/**
 * Builds the fused per-pixel Deep SVDD graph (opset 17, float32), with every constant stage
 * folded at build time in float64:
 *
 * `x [N, C_in]` -> band-pass (Slice/Gather; uint16 -> Cast after it) -> unit norm (ReduceSumSquare, Sqrt, Max(eps), Div; when `params.unitNorm`)
 * -> Gemm(W1/σ, b1 - W1·μ/σ) -> Relu -> Gemm(W2, -c) = z - c -> `scores` = ReduceSumSquare.
 * The network part walks `networkLayers(params)` (see `networkNodes`).
 *
 * The centre is a graph **input** (`center [D]`), so online tracking changes it per frame
 * without a rebuild, and the gated EMA needs no second pass: `zsum_normal [D]` is the sum of z
 * over the pixels with score < `tau [1]` and `n_normal [1]` their count (`tau` = +Infinity
 * counts every pixel).
 *
 * With the stages of issue 5, the z-score folds into the whitening instead: `Gemm(M/σ, -M·(μ + σ·m)/σ)`
 * = y `[N, k]` -> Gemm(W1, b1) -> Relu -> Gemm(W2, -c) (+ y for a residual projection) = z - c.
 * A residual projection without whitening adds back the z-scored input, so there the z-score
 * is its own Sub and Div nodes.
 *
 * @throws {@link ModelParamsError} when the kept band count differs from the z-score's, or a weight does not fit
 * @example
 * ```ts
 * import { selectBands } from '../../model/band-selection.js';
 * import { createOrtSession } from './ort-session.js';
 * const kept = selectBands(frame.wavelengths, params.bandpass ?? { minNm: 0 }); // every band without a band-pass
 * const graph = buildDeepSvddGraph(params, { inChannels: frame.bands, kept, inputType: 'uint16' });
 * const session = await createOrtSession(graph.bytes);
 * ```
 */
export function buildDeepSvddGraph(params: DeepSvddParams, options: DeepSvddGraphOptions): DeepSvddGraph {
  const { inChannels, kept } = options;
  const inputType = options.inputType ?? 'float32';
  const eps = options.unitNormEps ?? 1e-8;
  const selection = options.selection ?? 'ops';
  const { rep, inChannels: projectIn } = projectionShape(params.project);
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
  const layers = networkLayers(networkShapeOf(params));
  const head = options.prepared === true ? 'prepared ' : `${inChannels}->`;
  const describe = `deep-svdd ${head}${describeLayers(layers)} ${inputType}`;

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

  const diff = networkNodes(g, params, layers, y);
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
