import { CubestreamError } from '../../core/errors.js';

/**
 * An ENVI header that cannot be used: no `ENVI` magic, a missing or malformed key, an
 * unsupported data type. The message names the file and the key at fault.
 *
 * @example
 * ```ts
 * new EnviHeaderError('scene.hdr', 'missing required key "bands"');
 * // message: "ENVI header scene.hdr: missing required key \"bands\""
 * ```
 */
export class EnviHeaderError extends CubestreamError {
  /** The header file (or `<text>` when parsed from a string without a source). */
  readonly file: string;
  /** The key at fault, when one is. */
  readonly key: string | undefined;

  /**
   * @param file - header path or a label for the text
   * @param problem - what is wrong
   * @param key - the offending key (lower case), if any
   */
  constructor(file: string, problem: string, key?: string, options?: { cause?: unknown }) {
    super('envi_header', `ENVI header ${file}: ${problem}`, options);
    this.file = file;
    this.key = key;
  }
}

/** Why an ENVI data file was refused. */
export type EnviDataProblem = 'missing_data_file' | 'truncated' | 'oversized' | 'bad_mask' | 'bad_range';

/**
 * An ENVI data file that does not match its header: not found next to it, shorter
 * (`truncated`) or longer (`oversized`) than the header says, or a mask that is not one band
 * of small integers (`bad_mask`), or a row range outside the cube (`bad_range`). The message names
 * the file and the numbers.
 */
export class EnviDataError extends CubestreamError {
  /** The data (or header) file at fault. */
  readonly file: string;
  declare readonly code: EnviDataProblem;

  /**
   * @param problem - the reason code
   * @param file - the file at fault
   * @param message - full message (should name `file`)
   */
  constructor(problem: EnviDataProblem, file: string, message: string, options?: { cause?: unknown }) {
    super(problem, message, options);
    this.file = file;
  }
}

/**
 * Misuse of an ENVI writer: a bad spec, rows that do not fit, or closing before every line
 * was written. The message names the file and the field or count at fault.
 */
export class EnviWriteError extends CubestreamError {
  /** The header path of the writer. */
  readonly file: string;

  /**
   * @param file - header path being written
   * @param problem - what is wrong
   */
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('envi_write', `ENVI writer ${file}: ${problem}`, options);
    this.file = file;
  }
}
