/**
 * Checks of numeric sink options, each naming the sink and option in its error, and the zod
 * pieces the sinks' option schemas share (offline queue, backoff).
 */
import { z } from 'zod';
import { checkOption } from '../../src/core/options.js';

/** The component a sink's `OptionError` names, e.g. `mqtt sink`. */
export function sinkComponent(sink: string): string {
  return `${sink} sink`;
}

/** Throws `OptionError` unless `value` is undefined or an integer >= 1. */
export function assertPositiveInteger(sink: string, option: string, value: number | undefined): void {
  checkOption(
    value === undefined || (Number.isInteger(value) && value >= 1),
    sinkComponent(sink),
    option,
    value,
    'an integer >= 1',
  );
}

/** Throws `OptionError` unless `value` is undefined or a finite number >= 0. */
export function assertNonNegative(sink: string, option: string, value: number | undefined): void {
  checkOption(
    value === undefined || (Number.isFinite(value) && value >= 0),
    sinkComponent(sink),
    option,
    value,
    'a finite number >= 0',
  );
}

/** A positive integer setting. */
export const PositiveInt = z.number().int().positive();
/** A non-negative integer setting (0 often meaning none or do not wait). */
export const NonNegativeInt = z.number().int().nonnegative();

/**
 * The offline queue of a broker sink: `size` messages (default `size`) kept while the broker is
 * unreachable; a full queue drops the oldest (default) or the newest, each drop counted.
 */
export function offlineQueueSchema(size: number) {
  return z
    .strictObject({
      size: PositiveInt.default(size),
      overflow: z.enum(['drop-oldest', 'drop-newest']).default('drop-oldest'),
    })
    .prefault({});
}

/** A capped exponential backoff, ms: the first delay, doubling up to the cap (defaults as given). */
export function backoffSchema(initialMs: number, maxMs: number) {
  return z
    .strictObject({ initialMs: PositiveInt.default(initialMs), maxMs: PositiveInt.default(maxMs) })
    .prefault({});
}
