import { CubestreamError } from '../../core/errors.js';

/**
 * A model bundle that cannot be exported as a standalone ONNX file: a detector or stage the
 * fused graph does not cover, or an input type that does not fit the model's radiometry. The
 * message names the bundle and why.
 *
 * @example
 * ```ts
 * new OnnxExportError('demo-1', 'stages rx2 are not in the fused graph').message
 * // "cannot export model demo-1 to ONNX: stages rx2 are not in the fused graph"
 * ```
 */
export class OnnxExportError extends CubestreamError {
  /** Version of the bundle that was refused. */
  readonly model: string;

  constructor(model: string, reason: string) {
    super('onnx_export', `cannot export model ${model} to ONNX: ${reason}`);
    this.model = model;
  }
}
