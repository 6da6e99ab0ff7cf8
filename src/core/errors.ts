/**
 * Base class of every error cubestream raises on purpose. `code` is a short, stable,
 * machine-readable reason (used as the `reason` label of `cubestream_frames_rejected_total`).
 *
 * @example
 * ```ts
 * import { validateFrame } from 'cubestream';
 * try { validateFrame(frame); } catch (e) {
 *   if (e instanceof CubestreamError) metrics.framesRejected.inc({ camera: frame.cameraId, reason: e.code });
 * }
 * ```
 */
export class CubestreamError extends Error {
  /** Stable reason code, e.g. `shape`, `nonfinite`, `truncated`. */
  readonly code: string;

  /**
   * @param code - stable reason code
   * @param message - human-readable message naming the offending field and value
   * @param options - standard `cause`
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Renders a value for an error message: short, never a whole typed array. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const length =
      'length' in value ? String((value as { length: number }).length) : String(value.byteLength);
    return `${name}(${length})`;
  }
  if (Array.isArray(value)) return `array(${value.length})`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return 'object';
  return String(value);
}

/**
 * The thrown value as an `Error`: itself when it is one, else an `Error` whose message is
 * `String(thrown)` (a rejected string, a number, `undefined`).
 *
 * @example
 * ```ts
 * sink.connect().catch((error: unknown) => logger.error({ err: asError(error) }, 'connect failed'));
 * asError('boom').message; // "boom"
 * ```
 */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
