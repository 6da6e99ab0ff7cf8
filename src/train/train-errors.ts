import { CubestreamError } from '../core/errors.js';

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
