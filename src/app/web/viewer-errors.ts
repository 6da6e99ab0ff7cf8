/** Errors raised by the live viewer (hub input, assets); a bad option is a core `OptionError`. */
import { CubestreamError } from '../../core/errors.js';

/**
 * A block handed to {@link ViewerHub.push} that cannot be drawn: the decision belongs to another
 * camera or frame, or a mask/score array does not hold `height * width` values. Names the field.
 *
 * @example
 * ```ts
 * new ViewerInputError('decided.mask', 'has 10 values, expected 16x128 = 2048')
 * // message: "viewer input decided.mask: has 10 values, expected 16x128 = 2048"
 * ```
 */
export class ViewerInputError extends CubestreamError {
  /** The input field at fault, e.g. `decided.cameraId`, `decided.scores`. */
  readonly field: string;

  /**
   * @param field - the input field at fault
   * @param problem - what is wrong with it
   */
  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super('viewer-input', `viewer input ${field}: ${problem}`, options);
    this.field = field;
  }
}

/** The page's files (index.html, viewer.js, viewer.css) were found in none of the folders tried. */
export class ViewerAssetsNotFoundError extends CubestreamError {
  /** Folders searched, in order. */
  readonly tried: readonly string[];

  /** @param tried - the folders searched for `index.html` */
  constructor(tried: readonly string[]) {
    super('viewer-assets', `viewer assets (index.html) not found in: ${tried.join(', ')}`);
    this.tried = tried;
  }
}
