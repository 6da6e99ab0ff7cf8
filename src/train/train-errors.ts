import { CubestreamError } from '../core/errors.js';

/**
 * A training or evaluation option with a value that cannot work (a batch size of 0, a factor
 * outside (0, 1), frames with different band counts). Names the option and the value.
 *
 * @example
 * ```ts
 * throw new TrainOptionError('batchSize', 0, 'must be a positive integer');
 * // message: "training option batchSize = 0: must be a positive integer"
 * ```
 */
export class TrainOptionError extends CubestreamError {
  /** Option at fault, e.g. `batchSize`, `reduceLrOnPlateau.factor`, `frames[3].bands`. */
  readonly option: string;
  /** The value that was given, rendered for the message. */
  readonly value: string;

  constructor(option: string, value: unknown, problem: string) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    super('train-option', `training option ${option} = ${shown}: ${problem}`);
    this.option = option;
    this.value = shown;
  }
}

/**
 * A callback monitors a metric that the epoch logs do not contain (a typo in `monitor`, or a
 * validation metric asked for when there is no validation set). Names the metric and lists the
 * ones that exist.
 */
export class MonitorMetricError extends CubestreamError {
  /** The metric the callback was told to monitor. */
  readonly monitor: string;
  /** The metric names the logs did contain. */
  readonly available: readonly string[];

  constructor(callback: string, monitor: string, available: readonly string[]) {
    super(
      'monitor',
      `${callback}: monitored metric "${monitor}" is not in the epoch logs (have: ${available.join(', ') || 'none'})`,
    );
    this.monitor = monitor;
    this.available = available;
  }
}

/**
 * Evaluation input that cannot be scored: score and truth arrays of different lengths, a
 * non-finite score. Names the argument and the index at fault.
 */
export class EvaluationInputError extends CubestreamError {
  /** Argument at fault, e.g. `scores[12]`, `truth`, `predicted`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super('evaluation-input', `evaluation input ${field}: ${problem}`);
    this.field = field;
  }
}
