import { CubestreamError } from '../core/errors.js';
import { InvalidFrameError } from '../core/frame.js';

/**
 * A frame whose channel count differs from what a stage's parameters expect (reason `bands`).
 * Says which stage, how many channels it expects and how many the frame has.
 *
 * @example
 * ```ts
 * new ChannelCountError('zscoreNormalize', 27, 61).message
 * // "invalid frame: bands = 61: zscoreNormalize expects 27 channels (its parameters), got 61"
 * ```
 */
export class ChannelCountError extends InvalidFrameError {
  /** Stage that rejected the frame. */
  readonly stage: string;
  /** Channels the stage's parameters expect. */
  readonly expected: number;
  /** Channels the frame has. */
  readonly got: number;

  constructor(stage: string, expected: number, got: number) {
    super('bands', 'bands', got, `${stage} expects ${expected} channels (its parameters), got ${got}`);
    this.stage = stage;
    this.expected = expected;
    this.got = got;
  }
}

/**
 * A frame whose wavelengths cannot be used by a stage (reason `wavelengths`): no band inside
 * the band-pass range, or band indices where nanometres are needed.
 */
export class WavelengthSelectionError extends InvalidFrameError {
  /** Stage that rejected the frame. */
  readonly stage: string;

  constructor(stage: string, wavelengths: Float32Array, problem: string) {
    super('wavelengths', 'wavelengths', wavelengths, `${stage}: ${problem}`);
    this.stage = stage;
  }
}

/**
 * Model parameters that are inconsistent (a weight of the wrong length, a negative σ, an α
 * outside [0, 1]); names the parameter and what is wrong. Raised when an operator is built.
 */
export class ModelParamsError extends CubestreamError {
  /** Parameter at fault, e.g. `project.W1`, `zscore.std[3]`, `alpha`. */
  readonly param: string;

  constructor(param: string, problem: string) {
    super('params', `model parameter ${param}: ${problem}`);
    this.param = param;
  }
}

/** Statistics asked of an accumulator that has too few samples or mismatching channels. */
export class StatisticsError extends CubestreamError {
  constructor(message: string) {
    super('stats', message);
  }
}
