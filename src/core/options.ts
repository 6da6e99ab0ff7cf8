/**
 * The one error of an option with a value a component cannot work with, and the check that
 * throws it. Every component (operators, sinks, sources, training, viewer) reports a bad option
 * the same way: `<component> option <option> = <value>: <problem>`, code `options`.
 */
import { CubestreamError, describeValue } from './errors.js';

/** The stable `code` of every {@link OptionError}. */
export const OPTION_ERROR_CODE = 'options';

/**
 * An option with a value the component cannot work with (code `options`). Thrown when the
 * component is built or called, before any work is done. Names the component, the option (a
 * dotted path such as `rollingQuantileThreshold.window.frames` or `stages[0].fromEpoch`) and the
 * value.
 *
 * @example
 * ```ts
 * new OptionError('training', 'batchSize', 0, 'must be a positive integer').message
 * // "training option batchSize = 0: must be a positive integer"
 * ```
 */
export class OptionError extends CubestreamError {
  /** Who refused the option, e.g. `operator`, `mqtt sink`, `simulator`, `training`, `viewer`. */
  readonly component: string;
  /** The option at fault, e.g. `quantileThreshold.q`, `offlineQueueSize`, `wavelengths[1]`. */
  readonly option: string;
  /** The value that was given, rendered for the message (never a whole array). */
  readonly value: string;

  /**
   * @param component - who refused the option
   * @param option - the option at fault (dotted path)
   * @param value - the rejected value
   * @param problem - what is accepted, or what is wrong
   */
  constructor(component: string, option: string, value: unknown, problem: string) {
    const shown = describeValue(value);
    super(OPTION_ERROR_CODE, `${component} option ${option} = ${shown}: ${problem}`);
    this.component = component;
    this.option = option;
    this.value = shown;
  }
}

/**
 * Throws an {@link OptionError} unless `ok`.
 *
 * @throws {@link OptionError} naming the component, option and value when `ok` is false
 * @example
 * ```ts
 * const size = 1000; // options.offlineQueueSize
 * checkOption(Number.isSafeInteger(size) && size >= 1, 'mqtt sink', 'offlineQueueSize', size, 'an integer >= 1');
 * ```
 */
export function checkOption(
  ok: boolean,
  component: string,
  option: string,
  value: unknown,
  problem: string,
): asserts ok {
  if (!ok) throw new OptionError(component, option, value, problem);
}

/**
 * The value at `path` inside `input` (undefined where the path leaves objects): what a zod issue's
 * path points at, for an {@link OptionError} that names the rejected value.
 *
 * @example
 * ```ts
 * valueAtPath({ threshold: { q: 2 } }, ['threshold', 'q']); // 2
 * ```
 */
export function valueAtPath(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    value =
      typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return value;
}
