import { CubestreamError } from '../../../core/errors.js';

/**
 * A WebAssembly kernel was called with arguments it cannot take (a spec field out of range, an
 * input of the wrong length or type) or could not get the memory it needs. `field` names the
 * argument at fault.
 *
 * @example
 * ```ts
 * new KernelError('band-prep', 'spec.lo', '200 + count 112 > bands 224').message
 * // "band-prep kernel: spec.lo: 200 + count 112 > bands 224"
 * ```
 */
export class KernelError extends CubestreamError {
  /** The kernel, e.g. `band-prep`. */
  readonly kernel: string;
  /** The argument at fault, e.g. `spec.count` or `input`. */
  readonly field: string;

  constructor(kernel: string, field: string, problem: string, options?: { cause?: unknown }) {
    super('kernel', `${kernel} kernel: ${field}: ${problem}`, options);
    this.kernel = kernel;
    this.field = field;
  }
}
