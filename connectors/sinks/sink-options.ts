/** Checks of numeric sink options, each naming the sink and option in its error. */
import { InvalidSinkOptionError } from './errors.js';

/** Throws unless `value` is undefined or an integer >= 1. */
export function assertPositiveInteger(sink: string, option: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw new InvalidSinkOptionError(sink, option, value, 'an integer >= 1');
  }
}

/** Throws unless `value` is undefined or a finite number >= 0. */
export function assertNonNegative(sink: string, option: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw new InvalidSinkOptionError(sink, option, value, 'a finite number >= 0');
  }
}
