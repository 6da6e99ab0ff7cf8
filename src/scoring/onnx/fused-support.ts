import type { DeepSvddParams } from '../../model/deep-svdd-params.js';

/** The Deep SVDD stages the fused graph covers (every other key of the parameters keeps the model on tfjs). */
const FUSED_STAGES = [
  'wavelengthsNm',
  'wavelengthUnits',
  'bandpass',
  'unitNorm',
  'zscore',
  'whiten',
  'project',
  'center',
];

/** The projection fields the fused graph reads; any other one set keeps the model on tfjs. */
const FUSED_PROJECTION = ['W1', 'b1', 'W2', 'hidden', 'rep', 'residual'];

/**
 * Why the fused onnxruntime graph cannot run these parameters, or undefined when it can. The
 * graph covers band-pass, unit norm, z-score, robust whitening, the (residual) ReLU projection
 * and the squared distance; stages beyond those keep the model on tfjs.
 *
 * @example
 * ```ts
 * import { deepSvddFromBundle } from 'cubestream';
 * fusedUnsupportedReason(deepSvddFromBundle(bundle)); // undefined: the onnx scorer can run it
 * ```
 */
export function fusedUnsupportedReason(params: DeepSvddParams): string | undefined {
  const extra = Object.keys(params).filter((key) => !FUSED_STAGES.includes(key));
  if (extra.length > 0) return `stages ${extra.join(', ')} are not in the fused graph`;
  const project = params.project as unknown as Record<string, unknown>;
  const flagged = Object.keys(project).filter(
    (key) => !FUSED_PROJECTION.includes(key) && project[key] !== undefined && project[key] !== false,
  );
  if (flagged.length > 0) return `projection options ${flagged.join(', ')} are not in the fused graph`;
  return undefined;
}
