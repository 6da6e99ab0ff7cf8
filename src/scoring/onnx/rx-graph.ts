import { ModelParamsError } from '../../model/model-errors.js';
import { whiteningOf } from '../../model/pinv.js';
import { type RxModel, validateRxModel } from '../../model/rx-stats.js';

export { validateRxModel };

import type { GraphInputType } from './deep-svdd-graph.js';
import { OnnxGraphBuilder, onnxTypeCode } from './onnx-graph-builder.js';

/** A serialised RX graph and what it expects. */
export interface RxGraph {
  /** The `ModelProto` bytes for `InferenceSession.create`. */
  readonly bytes: Uint8Array;
  /** Channels of `x`. */
  readonly bands: number;
  /** Rank of the whitening matrix (rows of W). */
  readonly rank: number;
  /** Element type of `x`. */
  readonly inputType: GraphInputType;
  /** Short description for logs and errors, e.g. `rx 61 (rank 61) float32`. */
  readonly describe: string;
}

/**
 * Builds the RX graph (docs/maths.md §3.10; opset 17, float32): `x [N, bands]` (uint16 -> Cast) ->
 * Sub(μ) -> MatMul(Wᵀ) -> `scores [N]` = ReduceSumSquare, with W (`rank x bands`, WᵀW = Σ⁺)
 * factored once in float64. A sum of squares keeps the digits that xᵀΣ⁺x loses in float32
 * (see `rxScore`); μ is subtracted before the product, not folded into a bias, for the same
 * reason (x·Wᵀ - Wμ cancels when |x| >> |x - μ|).
 *
 * @throws {@link ModelParamsError} for a model of inconsistent shape or non-finite values
 * @example
 * ```ts
 * import { rxFromBundle } from 'cubestream';
 * import { createOrtSession } from './ort-session.js';
 * const graph = buildRxGraph(rxFromBundle(bundle).rx, { inputType: 'uint16' });
 * const session = await createOrtSession(graph.bytes);
 * ```
 */
export function buildRxGraph(model: RxModel, options: { readonly inputType?: GraphInputType } = {}): RxGraph {
  const { bands } = validateRxModel(model);
  const inputType = options.inputType ?? 'float32';
  const { matrix, rank } = whiteningOf(model.covInverse, bands);
  if (rank === 0) throw new ModelParamsError('rx.covInverse', 'is zero: no direction to score along');
  // Wᵀ [bands, rank] for a plain MatMul.
  const wt = new Float32Array(bands * rank);
  for (let r = 0; r < rank; r++) for (let c = 0; c < bands; c++) wt[c * rank + r] = matrix[r * bands + c]!;

  const g = new OnnxGraphBuilder('rx');
  g.input('x', inputType, ['N', bands]);
  const x = inputType === 'float32' ? 'x' : g.node('Cast', ['x'], ['x_f32'], { to: onnxTypeCode('float32') });
  const centered = g.node(
    'Sub',
    [x, g.initializer('mu', Float32Array.from(model.mean), [bands])],
    ['centered'],
  );
  const white = g.node('MatMul', [centered, g.initializer('Wt', wt, [bands, rank])], ['white']);
  g.node('ReduceSumSquare', [white], ['scores'], { axes: [1], keepdims: 0 });
  g.output('scores', 'float32', ['N']);
  return { bytes: g.toBytes(), bands, rank, inputType, describe: `rx ${bands} (rank ${rank}) ${inputType}` };
}
