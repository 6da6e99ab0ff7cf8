import { CubestreamError } from '../core/errors.js';

/** One cube of a dataset: its name (unique within the dataset), header and optional mask header. */
export interface DatasetItem {
  /**
   * `frame-0000` for `<dir>/frame-0000.hdr`; the folder path for the per-scene layout
   * (`<dir>/abu-urban-2/cube.hdr` -> `abu-urban-2`).
   */
  readonly name: string;
  /** The cube's ENVI header. */
  readonly cube: string;
  /** The class mask's ENVI header (`<name>_mask.hdr` or `mask.hdr`), if any. */
  readonly mask?: string;
}

/**
 * A dataset that cannot be used: no cube, a split naming an unknown cube, cubes with different
 * bands, a mask of the wrong size. Names the field, cube or file at fault.
 *
 * @example
 * ```ts
 * throw new DatasetError('frame-0003_mask.hdr', 'is 64x32, its cube is 64x64');
 * // message: "dataset frame-0003_mask.hdr: is 64x32, its cube is 64x64"
 * ```
 */
export class DatasetError extends CubestreamError {
  /** The field, cube or file at fault. */
  readonly field: string;

  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super('dataset', `dataset ${field}: ${problem}`, options);
    this.field = field;
  }
}
