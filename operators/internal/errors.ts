import { CubestreamError } from '../../src/core/errors.js';
import { OptionError } from '../../src/core/options.js';

/**
 * A scored frame holding a NaN score (code `nonfinite`), which no quantile or comparison can
 * place. Names the camera, frame and the first offending pixel index.
 */
export class NonFiniteScoreError extends CubestreamError {
  /** Camera of the frame. */
  readonly cameraId: string;
  /** Frame id. */
  readonly frameId: number;
  /** Row-major index of the first NaN score in the block. */
  readonly pixel: number;

  constructor(cameraId: string, frameId: number, pixel: number) {
    super('nonfinite', `scores of camera ${cameraId} frame ${frameId}: scores[${pixel}] is NaN`);
    this.cameraId = cameraId;
    this.frameId = frameId;
    this.pixel = pixel;
  }
}

/** The component every operator's {@link OptionError} names; the option path names the operator. */
export const OPERATOR = 'operator';

/** Index of the first NaN in `values`, or -1 (±Infinity is allowed: it sorts). */
export function firstNaN(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) return i;
  return -1;
}

/** Throws {@link OptionError} unless `value` is a number within [min, max]. */
export function requireInRange(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw new OptionError(OPERATOR, option, value, `must be a number within [${min}, ${max}]`);
  }
  return value;
}

/** Throws {@link OptionError} unless `value` is an integer >= `min`. */
export function requireInteger(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionError(OPERATOR, option, value, `must be an integer >= ${min}`);
  }
  return value;
}

/** Throws {@link OptionError} unless `value` is a finite number > 0. */
export function requirePositive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new OptionError(OPERATOR, option, value, 'must be a finite number > 0');
  }
  return value;
}

/** Throws {@link OptionError} unless `value` is one of `allowed`. */
export function requireOneOf<T extends string | number>(
  option: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new OptionError(OPERATOR, option, value, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}
